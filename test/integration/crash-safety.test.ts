import { spawn } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../engine/engine.js';
import { listCoverage } from '../../engine/catalog/coverage.js';
import { Repository } from '../../engine/repo/repository.js';
import { readSegment } from '../../engine/repo/segment-file.js';
import { readManifest } from '../../engine/repo/snapshot-files.js';
import { TEMP_MARKER } from '../../engine/repo/durable-file.js';
import { tempDir } from '../support/temp-dir.js';
import { entryArgs } from '../support/bundled-entry.js';

const root = join(import.meta.dirname, '..', '..');
const RUNS = 6;

/** Starts the writer, lets it work for a random while, kills it with SIGKILL; returns what it reported durable. */
function runAndKill(dataDir: string, repoPath: string, seed: number, aliveMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    // One process (node on the bundled writer): the `tsx` command would run the writer in a child that SIGKILL misses.
    const child = spawn(
      process.execPath,
      [...entryArgs('test/support/crash-writer.ts'), dataDir, repoPath, String(seed)],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | null = null;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!timer && out.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), aliveMs);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer ended by itself: ${err}`));
      // Only complete lines count: a line being printed when the kill landed is not a promise.
      resolve(
        out
          .split('\n')
          .slice(0, -1)
          .filter((l) => l.startsWith('seg ') || l.startsWith('snap ')),
      );
    });
  });
}

function allFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}

describe('crash safety', () => {
  it(`loses nothing durable and shows nothing partial after ${RUNS} SIGKILLs at random moments`, async () => {
    const dir = tempDir('mbm-crash-');
    const dataDir = join(dir.path, 'data');
    const repoPath = join(dir.path, 'repo');
    await Repository.init(repoPath);
    const reportedSegs = new Set<string>();
    const reportedSnaps = new Set<string>();
    let seed = 1;
    try {
      for (let run = 0; run < RUNS; run++) {
        const lines = await runAndKill(dataDir, repoPath, seed++, 150 + Math.floor(Math.random() * 900));
        for (const l of lines)
          (l.startsWith('seg ') ? reportedSegs : reportedSnaps).add(l.slice(l.indexOf(' ') + 1));

        // Reopen as the app would after the crash.
        const engine = Engine.open({ dataDir, mode: 'cli' });
        try {
          const store = await engine.stores.get();
          const db = engine.catalog;
          const sourceId = store.sourceId('crash-rs');
          expect(allFiles(repoPath).filter((f) => f.includes(TEMP_MARKER))).toEqual([]);

          const rows = db
            .prepare('SELECT path, status FROM oplog_segments ORDER BY first_t, first_i')
            .all() as { path: string; status: string }[];
          const onDisk = allFiles(join(repoPath, 'sources'))
            .filter((f) => f.endsWith('.seg'))
            .map((f) => relative(repoPath, f))
            .sort();
          expect(rows.map((r) => r.path).sort()).toEqual(onDisk); // stored once, nothing unregistered
          expect(rows.every((r) => r.status === 'ok')).toBe(true);
          for (const p of reportedSegs) expect(onDisk).toContain(p); // nothing durable lost
          for (const r of rows) await readSegment(store.repo, r.path); // every file whole and valid

          const cov = listCoverage(db, sourceId);
          expect(cov.gaps).toEqual([]); // no false gap
          expect(cov.intervals).toHaveLength(1);

          const snaps = db.prepare('SELECT id, status, path FROM snapshots').all() as {
            id: string;
            status: string;
            path: string;
          }[];
          for (const id of reportedSnaps) expect(snaps.find((s) => s.id === id)?.status).toBe('complete');
          for (const s of snaps) {
            const hasManifest = existsSync(join(repoPath, s.path, 'manifest.json'));
            expect(s.status).toBe(hasManifest ? 'complete' : 'incomplete');
            if (hasManifest) await readManifest(store.repo, s.path);
          }
        } finally {
          await engine.close();
        }
      }
      expect(reportedSegs.size).toBeGreaterThan(RUNS); // the writer really worked between kills
    } finally {
      dir.remove();
    }
  }, 120_000);
});
