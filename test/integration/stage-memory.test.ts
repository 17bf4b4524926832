/**
 * The aggregation stages a view runs itself ($bucket, $bucketAuto, $facet,
 * $setWindowFields, $graphLookup, $unionWith, $lookup without an index or
 * with a pipeline, $group's N accumulators) in bounded memory: a child
 * process with a 48 MB JavaScript heap and a 2 MiB sort budget runs each
 * over ~72 MB of ~9 KB documents (held whole, as mingo holds them, the child
 * dies: measured with mingo's own $bucketAuto and $setWindowFields), and reports its peak RSS; past
 * mongod's own limits (one partition, a 16 MB $facet output, an unbounded
 * $graphLookup) the stage is refused with a typed error, not run out of
 * memory. The view file is written directly, no repository.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { serialize } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createViewFile, indexViewFile, viewWriter } from '../../engine/catalog/view-store.js';
import { ViewSink } from '../../engine/views/view-sink.js';
import { BIG_DOCS, GROUPS, PAD, SMALL_DOCS, STAGE_CASES } from '../support/stage-memory-cases.js';
import { tempDir } from '../support/temp-dir.js';

const root = join(import.meta.dirname, '..', '..');
const CHILD = join(import.meta.dirname, '..', 'support', 'stage-memory-child.ts');
/** Peak RSS of the child, at most (its baseline, tsx and SQLite included, is ~110-130 MB). */
const PEAK_MB = 230;
const HAVE_PROC = existsSync('/proc/self/status');

let dir: ReturnType<typeof tempDir> | null = null;
let file = '';

beforeAll(() => {
  dir = tempDir('mbm-stage-mem-');
  file = join(dir.path, 'v.sqlite');
  const db = createViewFile(file);
  const sink = new ViewSink(viewWriter(db));
  const id = Buffer.from(serialize({ v: 2, key: { _id: 1 }, name: '_id_' }));
  for (const coll of ['big', 'small'])
    sink.addCollection(`t.${coll}`, 'collection', Buffer.from(serialize({})), [id]);
  for (let k = 0; k < BIG_DOCS; k++)
    sink.loadDocument(
      't.big',
      serialize({ _id: k, grp: k % GROUPS, v: (k * 7919) % 100_003, link: k + 1, pad: PAD }),
    );
  for (let k = 0; k < SMALL_DOCS; k++) sink.loadDocument('t.small', serialize({ _id: k, name: `s${k}` }));
  sink.flush();
  indexViewFile(db);
  db.close();
});
afterAll(() => dir?.remove());

describe.skipIf(!HAVE_PROC)('aggregation stages in bounded memory', () => {
  it(`runs each stage over ${BIG_DOCS} documents in a 48 MB heap, refusing past mongod's limits`, () => {
    const r = spawnSync(
      process.execPath,
      ['--max-old-space-size=48', '--max-semi-space-size=1', '--import', 'tsx', CHILD, file],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, MBM_SORT_MEMORY_MIB: '2' },
        maxBuffer: 1 << 20,
      },
    );
    const lines = r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as {
            name: string;
            out: number;
            ms: number;
            error: { code: string; reason: string } | null;
            peakMB: number;
          },
      );
    const figures = JSON.stringify(lines);
    expect(r.status, `${r.stderr.slice(-2000)}\n${figures}`).toBe(0);
    expect(lines.map((l) => l.name)).toEqual(STAGE_CASES.map((c) => c.name));
    for (const [k, c] of STAGE_CASES.entries()) {
      const got = lines[k]!;
      if ('out' in c.expect) {
        expect(got.error, c.name).toBeNull();
        expect(got.out, c.name).toBe(c.expect.out);
      } else expect(got.error, c.name).toEqual({ code: 'UNSUPPORTED', reason: c.expect.refused });
    }
    expect(Math.max(...lines.map((l) => l.peakMB)), figures).toBeLessThan(PEAK_MB);
    // Temporary runs and spools are gone.
    expect(readdirSync(dir!.path).filter((n) => n.startsWith('.tmp-sort-'))).toEqual([]);
    console.log(`stage memory: ${figures}`);
  }, 180_000);
});
