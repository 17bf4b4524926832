/**
 * The capture journal on disk (repository format 3): records checked one by one, a torn last
 * record dropped, a damaged record stopping the reading (sealed up to it, set aside, alerted),
 * encryption with a fresh key per file, and start-up recovery sealing what a crash left.
 */
import { copyFileSync, existsSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listAlerts } from '../../engine/catalog/alerts.js';
import { listCoverage } from '../../engine/catalog/coverage.js';
import { journalRowsOfSource } from '../../engine/catalog/journals.js';
import { readEntryTs } from '../../engine/repo/bson-entries.js';
import { JournalWriter, journalDir, readJournal } from '../../engine/repo/journal-file.js';
import type { OpTime } from '../../engine/repo/optime.js';
import { readSegment } from '../../engine/repo/segment-file.js';
import { encodeSegmentInWorker } from '../../engine/repo/seal-pool.js';
import { planRestore } from '../../engine/restore/planner.js';
import { recoverJournals } from '../../engine/store/journal-recovery.js';
import { reconcileRepository } from '../../engine/store/reconcile.js';
import { verifyRepository } from '../../engine/verify/repository-verify.js';
import { TEST_KDF, makeStore, type StoreFixture } from '../support/store-fixture.js';
import { writeV1Repository } from '../support/format-v1.js';
import { OplogFactory } from '../support/oplog-factory.js';
import { tempDir } from '../support/temp-dir.js';
import { Engine } from '../../engine/engine.js';
import { Repository } from '../../engine/repo/repository.js';
import { deserialize, type Document } from 'bson';

let fx: StoreFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});

interface Written {
  path: string;
  records: Uint8Array[][];
  /** Byte offset where each record starts, and the file's end. */
  offsets: number[];
}

/** A journal file of `n` records of `per` entries, chained to the store's tip, closed like after a crash. */
async function writeJournal(
  f: StoreFixture,
  n: number,
  per = 5,
  prev: OpTime | null = f.store.chainTip(f.sourceId),
) {
  const records = Array.from({ length: n }, () => f.factory.mixed(per));
  const w = await JournalWriter.create(f.repo, f.sourceId, readEntryTs(records[0]![0]!), prev);
  const offsets = [w.bytes];
  for (const r of records) {
    await w.append(Buffer.concat(r), r.length);
    offsets.push(w.bytes);
  }
  await w.close();
  return { path: w.relPath, records, offsets } satisfies Written;
}

const hex = (entries: readonly Uint8Array[]) => entries.map((e) => Buffer.from(e).toString('hex'));
const segmentPaths = (f: StoreFixture) =>
  f.engine.catalog
    .prepare('SELECT path FROM oplog_segments ORDER BY first_t, first_i')
    .pluck()
    .all() as string[];

function flipByte(f: StoreFixture, path: string, at: number): void {
  const buf = readFileSync(f.repo.abs(path));
  buf[at] = buf[at]! ^ 0x10;
  writeFileSync(f.repo.abs(path), buf);
}

describe.each([
  ['plain', undefined],
  ['encrypted', 'journal passphrase'],
] as const)('the capture journal (%s)', (_label, passphrase) => {
  it('reads back every record, and a torn last record is dropped and the rest sealed once', async () => {
    fx = await makeStore(passphrase ? { passphrase } : {});
    await fx.appendSegments(2, 10);
    const j = await writeJournal(fx, 3);
    const clean = readJournal(fx.repo, j.path);
    expect(clean).toMatchObject({ end: 'clean', count: 15, damage: null });
    // The crash hit the third append halfway.
    truncateSync(fx.repo.abs(j.path), j.offsets[2]! + Math.floor((j.offsets[3]! - j.offsets[2]!) / 2));
    expect(readJournal(fx.repo, j.path)).toMatchObject({ end: 'torn', count: 10, damage: null });

    const rec = await recoverJournals(fx.store, fx.sourceId, encodeSegmentInWorker);
    expect(rec).toMatchObject({ torn: [j.path], damaged: [] });
    expect(rec.sealed).toHaveLength(1);
    expect(existsSync(fx.repo.abs(j.path))).toBe(false);
    const sealed = await readSegment(fx.repo, rec.sealed[0]!.segment);
    expect(hex(sealed.entries)).toEqual(hex([...j.records[0]!, ...j.records[1]!]));
    expect(listCoverage(fx.engine.catalog, fx.sourceId)).toMatchObject({
      gaps: [],
      intervals: [{ end: readEntryTs(j.records[1]!.at(-1)!), segmentCount: 3 }],
    });
    // Recovering again finds nothing: nothing is sealed twice.
    expect((await recoverJournals(fx.store, fx.sourceId)).sealed).toEqual([]);
    expect(segmentPaths(fx)).toHaveLength(3);
  });

  it("goes on from a position an earlier read gave: only the newer records, the whole file's counts", async () => {
    fx = await makeStore(passphrase ? { passphrase } : {});
    await fx.appendSegments(1, 10);
    const j = await writeJournal(fx, 4);
    const whole = readJournal(fx.repo, j.path);
    expect(whole.positions.map((p) => p.bytes)).toEqual(j.offsets.slice(1));
    const entriesOf = (payloads: Buffer[]) =>
      payloads.flatMap((p) => {
        const out: string[] = [];
        for (let at = 0; at < p.length; at += p.readInt32LE(at))
          out.push(p.subarray(at, at + p.readInt32LE(at)).toString('hex'));
        return out;
      });
    const after2 = readJournal(fx.repo, j.path, whole.positions[1]);
    expect(after2).toMatchObject({
      resumed: true,
      end: 'clean',
      count: whole.count,
      firstTs: whole.firstTs,
      lastTs: whole.lastTs,
      validBytes: whole.validBytes,
    });
    expect(entriesOf(after2.payloads)).toEqual(hex([...j.records[2]!, ...j.records[3]!]));
    expect(after2.positions).toEqual(whole.positions.slice(2));
    // At the end: nothing new.
    expect(readJournal(fx.repo, j.path, whole.positions[3])).toMatchObject({
      resumed: true,
      payloads: [],
      count: 20,
    });
    // A bit flip after the position is damage, judged on the whole file as a full read judges it.
    flipByte(fx, j.path, j.offsets[3]! + 20);
    expect(readJournal(fx.repo, j.path, whole.positions[1])).toMatchObject({
      resumed: false,
      end: 'damaged',
      count: 15,
      damage: readJournal(fx.repo, j.path).damage,
    });
    // A file shorter than the position (not the one it came from): read from its start.
    truncateSync(fx.repo.abs(j.path), j.offsets[2]!);
    expect(readJournal(fx.repo, j.path, whole.positions[3])).toMatchObject({
      resumed: false,
      end: 'clean',
      count: 10,
    });
  });

  it('a bit flip in the middle stops the reading there: the prefix is sealed, the files set aside, an alert raised', async () => {
    fx = await makeStore(passphrase ? { passphrase } : {});
    await fx.appendSegments(1, 10);
    const j = await writeJournal(fx, 3);
    const later = await writeJournal(fx, 1, 5, readEntryTs(j.records[2]!.at(-1)!));
    flipByte(fx, j.path, j.offsets[1]! + 20); // inside the second record's stored bytes
    expect(readJournal(fx.repo, j.path)).toMatchObject({ end: 'damaged', count: 5 });

    const report = await reconcileRepository(fx.engine.catalog, fx.repo, { removeTemporaries: true });
    expect(report.journalsDamaged).toHaveLength(1);
    expect(report.journalsDamaged[0]!.error).toMatch(
      /record 1 at byte \d+ fails (its checksum|authentication)/,
    );
    // Sealed up to the damage, never past it: the later file is not trusted either.
    const last = segmentPaths(fx).at(-1)!;
    expect(hex((await readSegment(fx.repo, last)).entries)).toEqual(hex(j.records[0]!));
    const left = readdirSync(fx.repo.abs(journalDir(fx.sourceId)));
    expect(left.filter((n) => n.endsWith('.jnl'))).toEqual([]);
    expect(left.filter((n) => n.includes('.jnl.damaged-'))).toHaveLength(2);
    expect(existsSync(fx.repo.abs(later.path))).toBe(false);
    expect(listAlerts(fx.engine.catalog, { sourceId: fx.sourceId, open: true })).toContainEqual(
      expect.objectContaining({ kind: 'JOURNAL_DAMAGED', severity: 'critical' }),
    );
    expect(listCoverage(fx.engine.catalog, fx.sourceId).intervals.at(-1)!.end).toEqual(
      readEntryTs(j.records[0]!.at(-1)!),
    );
  });

  it('a flipped length in a record head is damage, not a torn tail that could be dropped silently', async () => {
    fx = await makeStore(passphrase ? { passphrase } : {});
    const j = await writeJournal(fx, 3, 5, null);
    flipByte(fx, j.path, j.offsets[1]! + 2); // the stored length of record 1: it now runs past the end
    expect(readJournal(fx.repo, j.path)).toMatchObject({
      end: 'damaged',
      count: 5,
      damage: expect.stringMatching(/head fails its check/),
    });
  });

  it('repo verify reports a damaged journal record, not a torn one', async () => {
    fx = await makeStore(passphrase ? { passphrase } : {});
    await fx.appendSegments(1, 10);
    const torn = await writeJournal(fx, 2);
    truncateSync(fx.repo.abs(torn.path), torn.offsets[2]! - 3);
    expect((await verifyRepository(fx.engine.catalog, fx.repo)).problems).toEqual([]);
    const damaged = await writeJournal(fx, 2, 5, readEntryTs(torn.records[1]!.at(-1)!));
    flipByte(fx, damaged.path, damaged.offsets[0]! + 30);
    const report = await verifyRepository(fx.engine.catalog, fx.repo);
    expect(report.problems).toEqual([
      expect.objectContaining({ path: damaged.path, kind: 'journal', problem: 'corrupt' }),
    ]);
  });
});

describe('capture journal files', () => {
  it('in an encrypted repository: the header is authenticated, entries never in clear, a new key per file', async () => {
    fx = await makeStore({ passphrase: 'journal passphrase' });
    const entries = fx.factory.mixed(5);
    const a = await JournalWriter.create(fx.repo, fx.sourceId, readEntryTs(entries[0]!), null);
    await a.append(Buffer.concat(entries), 5);
    await a.close();
    const bytesA = readFileSync(fx.repo.abs(a.relPath));
    expect(bytesA.includes(Buffer.from(entries[2]!).subarray(20, 60))).toBe(false);
    // The same entries in another file (as after a restart) encrypt differently: another salt, another key.
    copyFileSync(fx.repo.abs(a.relPath), `${fx.repo.abs(a.relPath)}.copy`);
    const { rmSync } = await import('node:fs');
    rmSync(fx.repo.abs(a.relPath));
    const b = await JournalWriter.create(fx.repo, fx.sourceId, readEntryTs(entries[0]!), null);
    await b.append(Buffer.concat(entries), 5);
    await b.close();
    const bytesB = readFileSync(fx.repo.abs(b.relPath));
    expect(bytesB.subarray(-64).equals(bytesA.subarray(-64))).toBe(false);
    // An edited header (another chain link) fails authentication: nothing in the file is trusted.
    const edited = Buffer.from(
      bytesB.toString('latin1').replace('"prevLastTs":null', '"prevLastTs":{"t":1,"i":1}'),
      'latin1',
    );
    expect(edited.equals(bytesB)).toBe(false);
    writeFileSync(fx.repo.abs(b.relPath), edited);
    expect(() => readJournal(fx!.repo, b.relPath)).toThrow(/header fails authentication/);
  });

  it('a journal left without its segment: indexed by a reader (latest reaches it), sealed by the writer', async () => {
    fx = await makeStore();
    await fx.appendSegments(2, 10);
    const tip = fx.store.chainTip(fx.sourceId)!;
    await fx.snapshot(tip, tip);
    const j = await writeJournal(fx, 2);
    const end = readEntryTs(j.records[1]!.at(-1)!);
    // A reader (another process, or a locked repository's first pass) only indexes the tail.
    await reconcileRepository(fx.engine.catalog, fx.repo);
    expect(journalRowsOfSource(fx.engine.catalog, fx.sourceId)).toHaveLength(1);
    const plan = planRestore(fx.engine.catalog, fx.sourceId, { kind: 'latest' });
    expect(plan).toMatchObject({ ok: true, bound: end });
    const tail = plan.ok ? plan.segments.at(-1)! : null;
    expect(tail).toMatchObject({ path: j.path, lastTs: end, count: 10 });
    expect(hex((await readSegment(fx.repo, j.path)).entries)).toEqual(hex(j.records.flat()));

    // The writer seals it; a plan made before still reads its entries, from the segment now.
    await reconcileRepository(fx.engine.catalog, fx.repo, { removeTemporaries: true });
    expect(existsSync(fx.repo.abs(j.path))).toBe(false);
    expect(journalRowsOfSource(fx.engine.catalog, fx.sourceId)).toEqual([]);
    expect(hex((await readSegment(fx.repo, j.path)).entries)).toEqual(hex(j.records.flat()));
    expect(listCoverage(fx.engine.catalog, fx.sourceId)).toMatchObject({
      gaps: [],
      intervals: [{ end, segmentCount: 3 }],
    });
  });

  it('a crash after the seal was registered but before the journal was removed stores nothing twice', async () => {
    fx = await makeStore();
    await fx.appendSegments(1, 10);
    const j = await writeJournal(fx, 2);
    const keep = `${fx.repo.abs(j.path)}.keep`;
    copyFileSync(fx.repo.abs(j.path), keep);
    const scan = readJournal(fx.repo, j.path);
    await fx.store.sealJournal(
      fx.sourceId,
      j.path,
      Buffer.concat(scan.payloads),
      { first: scan.firstTs!, last: scan.lastTs!, count: scan.count },
      scan.header!.prevLastTs,
    );
    copyFileSync(keep, fx.repo.abs(j.path)); // the removal never reached the disk
    const { rmSync } = await import('node:fs');
    rmSync(keep);
    const rec = await recoverJournals(fx.store, fx.sourceId);
    expect(rec).toMatchObject({ sealed: [], removed: [j.path], damaged: [] });
    expect(segmentPaths(fx)).toHaveLength(2);
    expect(listCoverage(fx.engine.catalog, fx.sourceId).gaps).toEqual([]);
  });
});

describe('older repositories and the journal', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it.each([
    ['1', undefined],
    ['1, encrypted', 'old passphrase'],
    ['2', undefined],
  ] as const)(
    'a format-%s repository opens, takes a journal, and becomes format 3 without losing anything',
    async (version, passphrase) => {
      const d = tempDir('mbm-oldjournal-');
      cleanups.push(() => d.remove());
      const root = join(d.path, 'repo');
      const factory = new OplogFactory({ start: { t: 1_763_805_600, i: 1 }, perSecond: 50 });
      const oldEntries = [factory.mixed(10), factory.mixed(10)];
      let sourceId: string;
      if (version.startsWith('1')) {
        const old = writeV1Repository(root, { ...(passphrase ? { passphrase } : {}), kdf: TEST_KDF });
        const docs = (es: Uint8Array[]) =>
          es.map((e) => deserialize(e, { promoteValues: false }) as Document);
        const tip1 = readEntryTs(oldEntries[0]!.at(-1)!);
        old.segment(docs(oldEntries[0]!), null);
        old.segment(docs(oldEntries[1]!), tip1);
        sourceId = old.sourceId;
      } else {
        // What the previous version wrote: format-2 segments, no journal, repository.json at 2.
        const e0 = Engine.open({ dataDir: join(d.path, 'data0'), mode: 'cli', kdfCost: TEST_KDF });
        const s0 = await e0.stores.attach(await Repository.init(root, { kdfCost: TEST_KDF }));
        sourceId = await s0.ensureSource('old-rs');
        for (const es of oldEntries) await s0.appendSegment(sourceId, es, s0.chainTip(sourceId));
        await e0.close();
        const file = join(root, 'repository.json');
        writeFileSync(
          file,
          JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), formatVersion: 2 }, null, 2),
        );
      }
      const engine = Engine.open({ dataDir: join(d.path, 'data'), mode: 'cli', kdfCost: TEST_KDF });
      cleanups.push(() => engine.close());
      const store = await engine.stores.attach(Repository.open(root, passphrase));
      const oldTip = store.chainTip(sourceId)!;
      expect(oldTip).toEqual(readEntryTs(oldEntries[1]!.at(-1)!));

      // Capture appends to the journal (as it does), then the process dies before the seal.
      const fresh = [factory.mixed(5), factory.mixed(5)];
      const w = await JournalWriter.create(store.repo, sourceId, readEntryTs(fresh[0]![0]!), oldTip);
      for (const r of fresh) await w.append(Buffer.concat(r), r.length);
      await w.close();
      expect(JSON.parse(readFileSync(join(root, 'repository.json'), 'utf8'))).toMatchObject({
        formatVersion: 3,
      });

      const rec = await recoverJournals(store, sourceId);
      expect(rec.sealed).toHaveLength(1);
      expect((await verifyRepository(engine.catalog, store.repo)).problems).toEqual([]);
      expect(listCoverage(engine.catalog, sourceId)).toMatchObject({
        gaps: [],
        intervals: [
          { start: readEntryTs(oldEntries[0]![0]!), end: readEntryTs(fresh[1]!.at(-1)!), segmentCount: 3 },
        ],
      });
      const all: Uint8Array[] = [];
      for (const p of segmentPathsOf(engine, sourceId))
        all.push(...(await readSegment(store.repo, p)).entries);
      expect(hex(all)).toEqual(hex([...oldEntries.flat(), ...fresh.flat()]));
    },
  );
});

const segmentPathsOf = (engine: Engine, sourceId: string) =>
  engine.catalog
    .prepare('SELECT path FROM oplog_segments WHERE source_id = ? ORDER BY first_t, first_i')
    .pluck()
    .all(sourceId) as string[];
