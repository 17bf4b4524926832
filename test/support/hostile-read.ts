/**
 * Child process for the hostile-repository tests: reads a crafted repository
 * the way the app does and prints one JSON line with the outcome and the
 * process's peak resident memory, so a test can bound the memory a damaged
 * or hostile file costs without risking its own process.
 * Usage: node --import tsx hostile-read.ts open REPO_PATH [PASSPHRASE]
 *        node --import tsx hostile-read.ts verify REPO_PATH   (attached to a fresh catalog, then verified)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../engine/engine.js';
import { Repository } from '../../engine/repo/repository.js';
import { verifyRepository } from '../../engine/verify/repository-verify.js';
import { peakRssMB } from './peak-rss.js';

const [mode, path, passphrase] = process.argv.slice(2) as [string, string, string | undefined];

const peakMB = () => Math.round(peakRssMB());

async function run(): Promise<Record<string, unknown>> {
  if (mode === 'open') {
    Repository.open(path, passphrase);
    return { ok: true };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'mbm-hostile-'));
  const engine = Engine.open({ dataDir, mode: 'cli' });
  try {
    const store = await engine.stores.attach(Repository.open(path, passphrase));
    const report = await verifyRepository(engine.catalog, store.repo);
    return { ok: true, problems: report.problems };
  } finally {
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

run().then(
  (r) => process.stdout.write(`${JSON.stringify({ ...r, peakMB: peakMB() })}\n`),
  (err: { code?: string; message?: string }) =>
    process.stdout.write(
      `${JSON.stringify({ ok: false, code: err.code, message: err.message, peakMB: peakMB() })}\n`,
    ),
);
