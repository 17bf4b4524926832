/**
 * Capture retries a failed journal write from the durable tip, so its next journal file starts at
 * the same entry and has the same name as the one whose creation or first record failed (a full
 * disk). That leftover holds nothing durable and must not block the retry (it did: EEXIST until
 * the engine restarted); a journal holding records is never replaced.
 */
import { existsSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { readEntryTs } from '../../engine/repo/bson-entries.js';
import { NODE_IO } from '../../engine/repo/durable-file.js';
import { JournalWriter, readJournal } from '../../engine/repo/journal-file.js';
import { makeStore, type StoreFixture } from '../support/store-fixture.js';

let fx: StoreFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});

const enospc = () =>
  Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));

describe('a journal file after a failed write', () => {
  it('whose first record failed is replaced by the retry that starts at the same entry', async () => {
    fx = await makeStore({ passphrase: 'journal retry' });
    const entries = fx.factory.mixed(4);
    const first = readEntryTs(entries[0]!);
    const failed = await JournalWriter.create(fx.repo, fx.sourceId, first, null);
    await failed.close(); // as capture abandons it when its first record cannot be written
    const retry = await JournalWriter.create(fx.repo, fx.sourceId, first, null);
    expect(retry.relPath).toBe(failed.relPath);
    await retry.append(Buffer.concat(entries), 4);
    await retry.close();
    expect(readJournal(fx.repo, retry.relPath).count).toBe(4);
  });

  it('whose header could not be written leaves no file behind', async () => {
    fx = await makeStore();
    const first = readEntryTs(fx.factory.mixed(1)[0]!);
    fx.repo.io = {
      open: async (path, flags, mode): Promise<FileHandle> => {
        const fh = await NODE_IO.open(path, flags, mode);
        fh.writev = enospc as unknown as FileHandle['writev'];
        return fh;
      },
      rename: NODE_IO.rename,
    };
    await expect(JournalWriter.create(fx.repo, fx.sourceId, first, null)).rejects.toMatchObject({
      code: 'ENOSPC',
    });
    fx.repo.io = NODE_IO;
    const retry = await JournalWriter.create(fx.repo, fx.sourceId, first, null);
    expect(existsSync(fx.repo.abs(retry.relPath))).toBe(true);
    await retry.close();
  });

  it('holding records is never replaced', async () => {
    fx = await makeStore();
    const entries = fx.factory.mixed(3);
    const first = readEntryTs(entries[0]!);
    const kept = await JournalWriter.create(fx.repo, fx.sourceId, first, null);
    await kept.append(Buffer.concat(entries), 3);
    await kept.close();
    await expect(JournalWriter.create(fx.repo, fx.sourceId, first, null)).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(readJournal(fx.repo, kept.relPath).count).toBe(3);
  });
});
