/**
 * Offline replay throughput: oplog entries (raw BSON, as segments hold them)
 * pushed through the replay core into the offline state, on one core. The
 * mix: inserts of ~1 KB documents, `$v: 2` updates (fields, a nested
 * document, an array element), replacements (whole ~1 KB documents) and
 * deletes, with a 1,000-operation transaction (one applyOps) every 10,000
 * entries. The state starts with `prefill` documents, as a snapshot would.
 */
import { Binary, Decimal128, Double, Int32, Long, Timestamp, UUID, serialize } from 'bson';
import { performance } from 'node:perf_hooks';
import { splitBsonDocuments } from '../engine/repo/bson-entries.js';
import { OfflineState } from '../engine/restore/offline-state.js';
import { OplogReplay } from '../engine/restore/replay.js';

export interface ReplayBenchOptions {
  entries: number;
  prefill: number;
  log: (m: string) => void;
}

const NS = 'bench.orders';
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

/** A seeded PRNG so that runs compare. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PAD = 'x'.repeat(760);
const doc = (id: number, k: number) => ({
  _id: id,
  customer: `customer-${k % 977}`,
  qty: new Int32(k % 50),
  price: new Double(19.99 + (k % 7)),
  total: Long.fromNumber(k * 13),
  amount: Decimal128.fromString(`${k % 1000}.25`),
  status: 'new',
  created: new Date(1_763_805_600_000 + k),
  meta: { v: new Int32(1), source: 'web', '2024': true },
  tags: ['a', 'b', 'c'],
  token: new Binary(Buffer.alloc(16, k % 251), 4),
  note: PAD,
});

function generate(o: ReplayBenchOptions) {
  const r = prng(42);
  const entries: Buffer[] = [];
  let i = 0;
  const ts = () => new Timestamp({ t: 1_763_805_600 + Math.floor(i / 1000), i: (i++ % 1000) + 1 });
  const base = { t: Long.fromNumber(1), v: Long.fromNumber(2), wall: new Date(), ui: new UUID() };
  const live: number[] = [];
  for (let k = 0; k < o.prefill; k++) live.push(k);
  let nextId = o.prefill;
  const pickLive = () => live[Math.floor(r() * live.length)]!;
  const lsid = { id: new UUID(), uid: new Binary(Buffer.alloc(32, 3), 0) };
  let txnNumber = 0;
  let bytes = 0;
  const push = (e: object) => {
    const b = Buffer.from(serialize({ ts: ts(), ...base, ...e }));
    bytes += b.length;
    entries.push(b);
  };
  while (entries.length < o.entries) {
    if (entries.length % 10_000 === 9_999) {
      const ops = [];
      for (let k = 0; k < 1000; k++) {
        if (k % 2 === 0) {
          const id = nextId++;
          live.push(id);
          ops.push({ op: 'i', ns: NS, ui: base.ui, o: doc(id, id) });
        } else {
          ops.push({
            op: 'u',
            ns: NS,
            ui: base.ui,
            o: { $v: 2, diff: { u: { status: 'txn' } } },
            o2: { _id: pickLive() },
          });
        }
      }
      push({
        op: 'c',
        ns: 'admin.$cmd',
        o: { applyOps: ops },
        lsid,
        txnNumber: Long.fromNumber(++txnNumber),
        prevOpTime: { ts: new Timestamp({ t: 0, i: 0 }), t: Long.fromNumber(-1) },
      });
      continue;
    }
    const p = r();
    if (p < 0.3 || live.length < 100) {
      const id = nextId++;
      live.push(id);
      push({ op: 'i', ns: NS, o: doc(id, id) });
    } else if (p < 0.75) {
      const n = Math.floor(r() * 100);
      push({
        op: 'u',
        ns: NS,
        o: {
          $v: 2,
          diff: {
            u: { qty: new Int32(n), status: n % 2 ? 'paid' : 'sent' },
            smeta: { u: { v: new Int32(n) } },
            stags: { a: true, u1: `t${n}` },
          },
        },
        o2: { _id: pickLive() },
      });
    } else if (p < 0.9) {
      const id = pickLive();
      push({ op: 'u', ns: NS, o: { ...doc(id, id + 1), status: 'replaced' }, o2: { _id: id } });
    } else {
      const at = Math.floor(r() * live.length);
      const id = live[at]!;
      live[at] = live[live.length - 1]!;
      live.pop();
      push({ op: 'd', ns: NS, o: { _id: id } });
    }
  }
  // Packed as segments hold them once decompressed: ~16 MiB buffers of concatenated entries.
  const segments: Buffer[] = [];
  for (let k = 0; k < entries.length;) {
    const batch: Buffer[] = [];
    let size = 0;
    while (k < entries.length && size < 16 * 1024 * 1024) {
      size += entries[k]!.length;
      batch.push(entries[k++]!);
    }
    segments.push(Buffer.concat(batch));
  }
  return { segments, count: entries.length, bytes };
}

export async function runReplayBench(o: ReplayBenchOptions) {
  o.log(`replay: generating ${o.entries} entries on ${o.prefill} documents…`);
  const { segments, count, bytes } = generate(o);
  const state = new OfflineState();
  const coll = {
    docs: new Map<string, Buffer>(),
    options: Buffer.from(serialize({})),
    indexes: [] as Buffer[],
  };
  state.set(NS, coll);
  const prefill = new OfflineState();
  const loader = new OplogReplay(prefill);
  for (let k = 0; k < o.prefill; k++)
    loader.push(
      Buffer.from(serialize({ ts: new Timestamp({ t: 1, i: k + 1 }), op: 'i', ns: NS, o: doc(k, k) })),
    );
  state.set(NS, prefill.get(NS) ?? coll);
  global.gc?.();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakHeap = before.heapUsed;
  o.log('replay: applying…');
  const replay = new OplogReplay(state);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let k = 0;
  for (const segment of segments) {
    for (const entry of splitBsonDocuments(segment)) {
      replay.push(entry);
      if (k++ % 5000 !== 0) continue;
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
  const report = replay.report();
  return {
    entries: count,
    operations: report.operations,
    transactions: report.transactions.committed,
    inputMB: round(bytes / 1048576),
    documentsAtEnd: state.get(NS)!.docs.size,
    seconds: round(seconds, 3),
    entriesPerSecond: Math.round(count / seconds),
    operationsPerSecond: Math.round(report.operations / seconds),
    // The machine may be shared: entries per second of this process's own CPU time is the steadier figure.
    entriesPerCpuSecond: Math.round(count / ((cpu.user + cpu.system) / 1e6)),
    cpuPercentOfOneCore: round(((cpu.user + cpu.system) / 1e6 / seconds) * 100),
    target: {
      entriesPerSecond: 100_000,
      met: count / seconds >= 100_000,
      metPerCpuSecond: count / ((cpu.user + cpu.system) / 1e6) >= 100_000,
    },
    memory: {
      rssBeforeMB: round(before.rss / 1048576),
      peakRssMB: round(peakRss / 1048576),
      heapBeforeMB: round(before.heapUsed / 1048576),
      peakHeapMB: round(peakHeap / 1048576),
      // Buffers outside the heap: the input segments (inputMB) plus the state's documents.
      arrayBuffersMB: round(m.arrayBuffers / 1048576),
    },
  };
}
