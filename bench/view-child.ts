/**
 * The measured half of `npm run bench -- view`, in its own process so that its
 * peak RSS is the view's alone: builds the view at the snapshot's point and
 * moves it forward to latest (entries per second), builds latest from
 * scratch, then times first results of finds and a document history.
 * argv: <dataDir>
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Engine } from '../engine/engine.js';
import { dispatch } from '../engine/api/dispatch.js';
import { getSourceByName } from '../engine/catalog/sources.js';
import { snapshotsOfSource } from '../engine/catalog/snapshots.js';
import { pointView } from '../engine/views/point-view.js';
import { peakRssMB } from '../test/support/peak-rss.js';

const [dataDir] = process.argv.slice(2);
const s = (ms: number) => Math.round(ms) / 1000;
/** CPU seconds of this process (user + system) since `from`: the engine's own, whatever else the machine runs. */
const cpuSince = (from: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(from);
  return (c.user + c.system) / 1e6;
};
const loadBefore = loadavg()[0]!;
/**
 * Peak RSS after each phase (the kernel's high-water mark so far) and what the process holds then:
 * tells which phase sets the peak, and whether it is JavaScript heap, Buffers or native (SQLite).
 */
const phases: Record<string, { peakRssMB: number; rssMB: number; heapMB: number; externalMB: number }> = {};
const mark = (phase: string) => {
  const m = process.memoryUsage();
  const mb = (n: number) => Math.round(n / 1e6);
  phases[phase] = {
    peakRssMB: Math.round(peakRssMB()),
    rssMB: mb(m.rss),
    heapMB: mb(m.heapUsed),
    externalMB: mb(m.external),
  };
};
mark('start');
/** Anonymous and file-backed resident memory (Linux): native allocations vs mapped files. */
const rssKinds = (): { anonMB: number; fileMB: number } | null => {
  if (!existsSync('/proc/self/status')) return null;
  const st = readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(st)?.[1] ?? 0);
  return { anonMB: Math.round(kb('RssAnon') / 1e3), fileMB: Math.round(kb('RssFile') / 1e3) };
};
/** The largest RSS seen during each step of a build ("loading", "indexing", "replaying"), from its progress. */
const duringBuild: Record<
  string,
  {
    rssMB: number;
    heapMB: number;
    externalMB: number;
    peakSoFarMB: number;
    kinds: ReturnType<typeof rssKinds>;
  }
> = {};
const watchBuild = (build: string, meter?: Record<string, number>) => ({
  meter,
  progress: (p: { message?: string }) => {
    const step = `${build}:${(p.message ?? '').split(' ')[0] || 'other'}`;
    const m = process.memoryUsage();
    const mb = (n: number) => Math.round(n / 1e6);
    const peakSoFarMB = Math.round(peakRssMB());
    if (!duringBuild[step] || duringBuild[step].rssMB < mb(m.rss))
      duringBuild[step] = {
        rssMB: mb(m.rss),
        heapMB: mb(m.heapUsed),
        externalMB: mb(m.external),
        peakSoFarMB,
        kinds: rssKinds(),
      };
    else duringBuild[step].peakSoFarMB = peakSoFarMB;
  },
  throwIfCancelled: () => undefined,
});
const engine = Engine.open({ dataDir: dataDir!, mode: 'cli' });
const row = getSourceByName(engine.catalog, 'bench-rs');
const snap = snapshotsOfSource(engine.catalog, row.id)[0]!;
const snapAt = `${snap.consistent_t}:${snap.consistent_i}`;

// From scratch at latest first (an empty cache), then dropped.
let t = performance.now();
let cpu0 = process.cpuUsage();
const scratch = await pointView(engine, 'bench-rs', 'latest', { kind: 'latest' }, watchBuild('scratch'));
const scratchMs = performance.now() - t;
const scratchCpuS = cpuSince(cpu0);
mark('buildFromScratch');
engine.views.drop(scratch.row.id);
// The view at the snapshot's point (history starts from it), moved forward to latest.
t = performance.now();
cpu0 = process.cpuUsage();
const base = await pointView(engine, 'bench-rs', snapAt, {
  kind: 'ts',
  ts: { t: snap.consistent_t!, i: snap.consistent_i! },
});
const snapshotLoadMs = performance.now() - t;
const snapshotLoadCpuS = cpuSince(cpu0);
mark('snapshotLoad');
t = performance.now();
cpu0 = process.cpuUsage();
// The forward build's SQLite statements timed per writer method: SQLite's share of its cost.
const forwardStatements: Record<string, number> = {};
const forward = await pointView(
  engine,
  'bench-rs',
  'latest',
  { kind: 'latest' },
  watchBuild('forward', forwardStatements),
);
const forwardMs = performance.now() - t;
const forwardCpuS = cpuSince(cpu0);
mark('moveForward');
const entries = forward.row.entries_applied - base.row.entries_applied;
const statementsMs = Object.values(forwardStatements).reduce((a, b) => a + b, 0);
// A document that is there at latest (the oplog deleted some), to look up by _id and by customer.
const pick = await dispatch(engine, 'query.find', {
  source: 'bench-rs',
  at: 'latest',
  ns: 'shop.orders',
  skip: Math.floor(scratch.row.documents / 2),
  limit: 1,
  projection: '{"customer": 1}',
});
if (!pick.ok) throw new Error(pick.error.message);
const sample = JSON.parse((pick.result as { documents: string[] }).documents[0]!) as {
  _id: { $oid: string };
  customer: string;
};
const sampleId = sample._id.$oid;
const customer = sample.customer;
// A document the oplog changed (the generated updates set status "shipped"): its history has versions.
const changed = await dispatch(engine, 'query.find', {
  source: 'bench-rs',
  at: 'latest',
  ns: 'shop.orders',
  filter: '{"status": "shipped"}',
  limit: 1,
  projection: '{"_id": 1}',
});
if (!changed.ok) throw new Error(changed.error.message);
const changedId = (
  JSON.parse((changed.result as { documents: string[] }).documents[0]!) as { _id: { $oid: string } }
)._id.$oid;
mark('pickSamples');
await engine.close();

// A new engine, as a CLI query is: the view exists, nothing is open yet.
const fresh = Engine.open({ dataDir: dataDir!, mode: 'cli', readOnly: true });
const timed = async (input: Record<string, unknown>) => {
  const t0 = performance.now();
  const r = await dispatch(fresh, 'query.find', {
    source: 'bench-rs',
    at: 'latest',
    ns: 'shop.orders',
    ...input,
  });
  if (!r.ok) throw new Error(r.error.message);
  const res = r.result as { documents: string[]; plan: { index: string | null; documentsExamined: number } };
  return { ms: performance.now() - t0, found: res.documents.length, plan: res.plan };
};
const byId = await timed({ filter: JSON.stringify({ _id: { $oid: sampleId } }) });
const byField = await timed({ filter: JSON.stringify({ customer }) });
mark('finds');
const h = async () => {
  const t0 = performance.now();
  const r = await dispatch(fresh, 'history.get', {
    source: 'bench-rs',
    ns: 'shop.orders',
    id: JSON.stringify({ $oid: changedId }),
  });
  if (!r.ok) throw new Error(r.error.message);
  const res = r.result as { versions: unknown[]; segmentsRead: number; segmentsInWindow: number };
  return {
    ms: performance.now() - t0,
    versions: res.versions.length,
    segmentsRead: res.segmentsRead,
    segmentsInWindow: res.segmentsInWindow,
  };
};
const historyFirst = await h(); // reads and indexes every segment not yet indexed (the builds indexed them)
const historyAgain = await h();
mark('history');
await fresh.close();

process.stdout.write(
  `${JSON.stringify({
    documents: scratch.row.documents,
    viewFileMB: Math.round(scratch.row.bytes / 1e5) / 10,
    entriesApplied: entries,
    // Wall-clock seconds, and CPU seconds of this process (the engine alone: a shared machine slows the first).
    seconds: { snapshotLoad: s(snapshotLoadMs), moveForward: s(forwardMs), buildFromScratch: s(scratchMs) },
    cpuSeconds: {
      snapshotLoad: s(snapshotLoadCpuS * 1000),
      moveForward: s(forwardCpuS * 1000),
      buildFromScratch: s(scratchCpuS * 1000),
    },
    // Materialising: entries applied while moving the view forward (copy of the earlier view included).
    entriesPerSecond: Math.round(entries / (forwardMs / 1000)),
    // Per CPU second of this process: what one free core would do.
    entriesPerCpuSecond: Math.round(entries / forwardCpuS),
    // Time inside the forward build's SQLite statements (ms per writer method, and in all), and the
    // rate if nothing else cost anything: the ceiling the storage puts on materialising.
    forwardStatementsMs: Object.fromEntries(
      Object.entries(forwardStatements)
        .filter(([, ms]) => ms >= 1)
        .map(([k, ms]) => [k, Math.round(ms)]),
    ),
    forwardStatementsShareOfCpu: Math.round((statementsMs / 1000 / forwardCpuS) * 100) / 100,
    entriesPerStatementSecond: Math.round(entries / (statementsMs / 1000)),
    firstResultMs: {
      byId: Math.round(byId.ms),
      byIndexedField: Math.round(byField.ms),
    },
    lookups: {
      byId: { found: byId.found, ...byId.plan },
      byIndexedField: { found: byField.found, ...byField.plan },
    },
    historyMs: { first: Math.round(historyFirst.ms), again: Math.round(historyAgain.ms) },
    history: historyAgain,
    peakRssMB: Math.round(peakRssMB()),
    memoryByPhase: phases,
    memoryDuringBuilds: duringBuild,
    // The machine's 1-minute load average before and after: figures under load are not comparable.
    loadAverage: { before: Math.round(loadBefore * 100) / 100, after: Math.round(loadavg()[0]! * 100) / 100 },
  })}\n`,
);
