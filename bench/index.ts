/**
 * `npm run bench -- <name> [--json]`: performance measurements (never timed
 * tests). Figures from one run are comparable with each other; compare
 * ratios measured side by side rather than absolute numbers across machines.
 */
import { cpus } from 'node:os';
import { runStoreBench } from './store-bench.js';
import { runStandinBench } from './standin-bench.js';
import { runCaptureBench } from './capture-bench.js';
import { runReplayBench } from './replay-bench.js';
import { runRestoreBench } from './restore-bench.js';
import { runExportBench } from './export-bench.js';
import { runUiBench } from './ui-bench.js';
import { runViewBench } from './view-bench.js';

const [name = 'store', ...rest] = process.argv.slice(2);
const asJson = rest.includes('--json');
const arg = (flag: string, dflt: number) => {
  const k = rest.indexOf(flag);
  return k >= 0 ? Number(rest[k + 1]) : dflt;
};

const benches: Record<string, () => Promise<unknown>> = {
  store: () =>
    runStoreBench({
      ingestMB: arg('--ingest-mb', 128),
      planSegments: arg('--plan-segments', 1_000_000),
      planSnapshots: arg('--plan-snapshots', 10_000),
      rebuildSegments: arg('--rebuild-segments', 100_000),
      // --only ingest (or planning, rebuild) runs one part.
      only: rest.includes('--only') ? rest[rest.indexOf('--only') + 1]! : null,
      log: asJson ? () => {} : (m: string) => process.stderr.write(`${m}\n`),
    }),
  standin: () => runStandinBench(arg('--samples', 300)),
  replay: () =>
    runReplayBench({
      entries: arg('--entries', 300_000),
      prefill: arg('--prefill', 20_000),
      log: asJson ? () => {} : (m: string) => process.stderr.write(`${m}\n`),
    }),
  // The full size is --docs 1000000 --entries 1000000 (about 1 GB); the default runs in about a minute.
  restore: () =>
    runRestoreBench({
      docs: arg('--docs', 100_000),
      entries: arg('--entries', 100_000),
      parallel: arg('--parallel', 4),
      log: asJson ? () => {} : (m: string) => process.stderr.write(`${m}\n`),
    }),
  capture: () =>
    runCaptureBench({
      // --rates 2000,5000 measures those; without it the highest passing rate is searched for.
      rates: rest.includes('--rates') ? rest[rest.indexOf('--rates') + 1]!.split(',').map(Number) : [],
      seconds: arg('--seconds', 60),
      // The default policy: segments cut every 10 s, the journal fsynced every 200 ms.
      segmentMaxMs: arg('--segment-ms', 10_000),
      journalFsyncMs: arg('--fsync-ms', 200),
      writers: arg('--writers', 2),
      mix: rest.includes('--mix') ? rest[rest.indexOf('--mix') + 1]! : '98,1,1',
      searchFrom: arg('--from', 2000),
      searchMax: arg('--max', 40_000),
      log: asJson ? () => {} : (m: string) => process.stderr.write(`${m}\n`),
    }),
  // Small by default (runs in seconds here); --size 1024 --entries 1000000 is the full run.
  export: () =>
    runExportBench({
      sizeMB: arg('--size', 128),
      entries: arg('--entries', 100_000),
      log: asJson ? () => {} : (m: string) => process.stderr.write(`${m}\n`),
    }),
  // The timeline in Chromium over a catalog of 100,000 segments and 10,000 snapshots (a year).
  ui: () =>
    runUiBench({
      segments: arg('--segments', 100_000),
      snapshots: arg('--snapshots', 10_000),
      seconds: arg('--seconds', 12),
      log: asJson ? () => {} : (m: string) => process.stderr.write(`${m}\n`),
    }),
  // Small by default (a minute here); --docs 1000000 --entries 1000000 is the full size.
  view: () =>
    runViewBench({
      docs: arg('--docs', 100_000),
      entries: arg('--entries', 100_000),
      log: asJson ? () => {} : (m: string) => process.stderr.write(`${m}\n`),
    }),
};

const run = benches[name];
if (!run) {
  process.stderr.write(`Unknown benchmark "${name}". Available: ${Object.keys(benches).join(', ')}\n`);
  process.exit(2);
}
const result = {
  benchmark: name,
  at: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: process.platform,
  },
  ...((await run()) as object),
};
process.stdout.write(`${JSON.stringify(result, null, asJson ? 0 : 2)}\n`);
