/**
 * A query over a large result runs in bounded memory: the real CLI
 * (`query --json`, sorted by _id) writes every document of a view of
 * ~1 KB documents as JSON lines, batch after batch through the cursor, with
 * a 64 MB JavaScript heap (1 MB young generation) and a 4 MiB SQLite page cache; its peak RSS (the kernel's VmHWM, read from
 * /proc while it runs) grows by less than a stated bound over the same CLI
 * answering one document, though the output is several times that bound.
 * A CLI or engine that held the result would exceed the heap or the bound.
 * The same for a sort on a field no index serves and a `$group` of every
 * document followed by a `$sort`: they spill sorted runs to the views
 * directory past a (deliberately small) budget and merge them, in order.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { tempDir } from '../support/temp-dir.js';
import { withMongo } from '../support/with-mongo.js';
import { entryArgs } from '../support/bundled-entry.js';

const root = join(import.meta.dirname, '..', '..');
const CHILD = 'test/support/query-memory-child.ts';
const DOCS = 60_000; // ~1 KB each: ~60 MB of BSON, more as Extended JSON text
/** Growth of the CLI's peak RSS over a one-document query, at most. */
const BOUND_MB = 32;
/**
 * Growth for a sort no index serves and a $group then $sort, which hold up to their memory budget
 * (4 MiB here) each, plus a read buffer per spilled run and the garbage of decoding every document
 * (measured 27-31 MB and 38-43 MB on an idle machine; more when the GC gets less CPU): less than
 * the 60 MB they sort, and the same whatever the number of documents. Held in memory, as before,
 * they exceed the 64 MB heap and the CLI dies.
 */
const SORT_BOUND_MB = 56;
const HAVE_PROC = existsSync('/proc/self/status');

let dir: ReturnType<typeof tempDir> | null = null;
afterEach(() => dir?.remove());

/**
 * Runs the CLI, counting its output without keeping it (each line handed to `check`, if given),
 * and its peak RSS polled from /proc.
 */
function cli(
  args: string[],
  check?: (line: string) => void,
): Promise<{ code: number | null; lines: number; bytes: number; peakMB: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--max-old-space-size=64', '--max-semi-space-size=1', ...entryArgs('engine/cli.ts'), ...args],
      // A small SQLite page cache, as the view memory test uses: what grows beyond it is the query's.
      // A sort spills past 4 MiB (not 32): a sort or $group holding its input would show.
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, MBM_VIEW_CACHE_MIB: '4', MBM_SORT_MEMORY_MIB: '4' },
      },
    );
    let lines = 0;
    let bytes = 0;
    let peakKb = 0;
    let partial = '';
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        // exited meanwhile
      }
    }, 20);
    child.stdout.on('data', (b: Buffer) => {
      bytes += b.length;
      for (const c of b) if (c === 10) lines++;
      if (check) {
        const parts = (partial + b.toString('utf8')).split('\n');
        partial = parts.pop()!;
        for (const line of parts) check(line);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ code, lines, bytes, peakMB: (peakKb * 1024) / 1e6 });
    });
  });
}

/** The child's snapshot of `args[0]` documents (and options) in `dirPath`: its size and count. */
function makeSnapshot(dirPath: string, ...args: string[]): { snapshotMB: number; documents: number } {
  const out = execFileSync(process.execPath, [...entryArgs(CHILD), dirPath, ...args], {
    cwd: root,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim()) as { snapshotMB: number; documents: number };
}

/**
 * The snapshot of DOCS ~1 KB documents, made once for the streaming and the sort tests: both only
 * read it (the sort's temporary runs are removed, which the sort test checks).
 */
let shared: { dir: ReturnType<typeof tempDir>; made: { snapshotMB: number; documents: number } } | null =
  null;
afterAll(() => shared?.dir.remove());
function sharedSnapshot(): { path: string; made: { snapshotMB: number; documents: number } } {
  if (!shared) {
    const d = tempDir('mbm-query-mem-');
    shared = { dir: d, made: makeSnapshot(d.path, String(DOCS)) };
  }
  return { path: shared.dir.path, made: shared.made };
}

describe.skipIf(!HAVE_PROC)('a large query result in bounded memory', () => {
  it(`streams ${DOCS} documents through the CLI with peak RSS growing under ${BOUND_MB} MB`, async () => {
    const { path, made } = sharedSnapshot();
    const query = [
      'query',
      '--source',
      'mem-rs',
      '--at',
      'latest',
      '--ns',
      'shop.orders',
      '--sort',
      '{"_id": 1}',
    ];
    const common = ['--json', '--data-dir', join(path, 'data')];
    const one = await cli([...query, '--limit', '1', ...common]);
    const all = await cli([...query, ...common]);
    const figures = JSON.stringify({ made, one, all });
    expect(one.code, figures).toBe(0);
    expect(all.code, figures).toBe(0);
    expect(one.lines).toBe(1);
    expect(all.lines).toBe(made.documents);
    expect(all.bytes / 1e6, figures).toBeGreaterThan(2 * BOUND_MB);
    expect(all.peakMB - one.peakMB, figures).toBeLessThan(BOUND_MB);
    console.log(`query memory: ${figures}`);
  }, 240_000);

  it(`sorts on a field no index serves and groups ${DOCS} documents by _id with peak RSS growing under ${SORT_BOUND_MB} MB`, async () => {
    const { path, made } = sharedSnapshot();
    const base = ['query', '--source', 'mem-rs', '--at', 'latest', '--ns', 'shop.orders'];
    const common = ['--json', '--data-dir', join(path, 'data')];
    const one = await cli([...base, '--limit', '1', ...common]);
    // In order of `total` (no index): each line's total at least the one before.
    let last = -Infinity;
    let outOfOrder = 0;
    const sorted = await cli([...base, '--sort', '{"total": 1}', ...common], (line) => {
      const t = (JSON.parse(line) as { total: number }).total;
      if (t < last) outOfOrder++;
      last = t;
    });
    // Every document its own group (the whole document kept), then sorted by a field inside it.
    let lastDesc = Infinity;
    let groupsOutOfOrder = 0;
    const grouped = await cli(
      [
        ...base,
        '--pipeline',
        '[{"$group": {"_id": "$_id", "doc": {"$first": "$$ROOT"}}}, {"$sort": {"doc.total": -1}}]',
        ...common,
      ],
      (line) => {
        const t = (JSON.parse(line) as { doc: { total: number } }).doc.total;
        if (t > lastDesc) groupsOutOfOrder++;
        lastDesc = t;
      },
    );
    const figures = JSON.stringify({ made, one, sorted, grouped });
    for (const r of [one, sorted, grouped]) expect(r.code, figures).toBe(0);
    expect(sorted.lines, figures).toBe(made.documents);
    expect(grouped.lines, figures).toBe(made.documents);
    expect(outOfOrder + groupsOutOfOrder, figures).toBe(0);
    expect(sorted.bytes / 1e6, figures).toBeGreaterThan(2 * BOUND_MB);
    expect(grouped.bytes / 1e6, figures).toBeGreaterThan(2 * BOUND_MB);
    expect(sorted.peakMB - one.peakMB, figures).toBeLessThan(SORT_BOUND_MB);
    expect(grouped.peakMB - one.peakMB, figures).toBeLessThan(SORT_BOUND_MB);
    // allowDiskUse false: refused past the budget, as mongod refuses it; a top-k sort stays within it.
    const run = (extra: string[]) =>
      spawnSync(process.execPath, [...entryArgs('engine/cli.ts'), ...base, ...extra, ...common], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, MBM_SORT_MEMORY_MIB: '4' },
      });
    const refused = run(['--sort', '{"total": 1}', '--allow-disk-use', 'false']);
    expect(refused.status, refused.stderr).not.toBe(0);
    expect(JSON.parse(refused.stderr.trim().split('\n').pop()!).error).toMatchObject({
      code: 'UNSUPPORTED',
      details: { reason: 'memory-limit' },
    });
    const top = run(['--sort', '{"total": 1}', '--limit', '3', '--allow-disk-use', 'false']);
    expect(top.status, top.stderr).toBe(0);
    expect(top.stdout.trim().split('\n')).toHaveLength(3);
    // The temporary runs are gone once the answers are written.
    expect(readdirSync(join(path, 'data', 'views')).filter((n) => n.startsWith('.tmp-sort-'))).toEqual([]);
    console.log(`sort/group memory: ${figures}`);
  }, 300_000);

  // Fewer, larger documents (~20 KB, the same ~60 MB): the stand-in target writes a document at a time.
  const RESTORE_DOCS = 3000;
  it(`restores ${RESTORE_DOCS} selected documents (~60 MB) into a target with peak RSS growing under ${BOUND_MB} MB`, async () => {
    dir = tempDir('mbm-query-mem-');
    const made = makeSnapshot(dir.path, String(RESTORE_DOCS), '20000');
    await withMongo(async ({ uri }) => {
      const restore = (filter: string, targetNs: string) =>
        cli([
          ...['query', 'restore', '--source', 'mem-rs', '--at', 'latest', '--ns', 'shop.orders'],
          ...['--filter', filter, '--target-uri', uri, '--target-ns', targetNs],
          ...['--json', '--data-dir', join(dir!.path, 'data')],
        ]);
      // Each twice, the lower peak kept: reading the ~60 MB selection from the view alone moves one
      // run's peak by up to ~25 MB (when the collector frees the rows' buffers), more than the writes
      // cost. A restore that held what it writes is above the bound in every run.
      const few = [await restore('{"qty": 3}', 'rec.few'), await restore('{"qty": 3}', 'rec.few2')];
      const all = [await restore('{}', 'rec.all'), await restore('{}', 'rec.all2')];
      const lowest = (runs: { peakMB: number }[]) => Math.min(...runs.map((r) => r.peakMB));
      const client = new MongoClient(uri);
      try {
        const count = (name: string) => client.db('rec').collection(name).countDocuments();
        const counts = {
          few: [await count('few'), await count('few2')],
          all: [await count('all'), await count('all2')],
        };
        const figures = JSON.stringify({ made, few, all, counts });
        for (const run of [...few, ...all]) expect(run.code, figures).toBe(0);
        expect(counts.all, figures).toEqual([made.documents, made.documents]);
        expect(counts.few[0], figures).toBeLessThan(made.documents / 10);
        expect(counts.few[1], figures).toBe(counts.few[0]);
        expect(lowest(all) - lowest(few), figures).toBeLessThan(BOUND_MB);
        console.log(`restore memory: ${figures}`);
      } finally {
        await client.close();
      }
    });
  }, 300_000);
});
