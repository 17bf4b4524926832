/** Stand-in benchmark: how fast a tailable awaitData cursor sees a new oplog entry (target < 20 ms). */
import { MongoClient, type Timestamp } from 'mongodb';
import { performance } from 'node:perf_hooks';
import { startStandin } from '../test/support/standin/server.js';

const pct = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
const round = (n: number) => Math.round(n * 100) / 100;

export async function runStandinBench(samples: number) {
  const s = await startStandin({ noopIntervalMs: 0 });
  const writer = new MongoClient(s.uri);
  const reader = new MongoClient(s.uri);
  try {
    await Promise.all([writer.connect(), reader.connect()]);
    const oplog = reader.db('local').collection('oplog.rs');
    const [last] = await oplog.find({}).sort({ $natural: -1 }).limit(1).toArray();
    const cursor = oplog.find(
      { ts: { $gt: last!.ts as Timestamp } },
      { tailable: true, awaitData: true, maxAwaitTimeMS: 5000 },
    );
    const coll = writer.db('bench').collection('x');
    const latencies: number[] = [];
    for (let k = 0; k < samples; k++) {
      // Let the reader park in getMore first, so the measure is the wake-up, not a ready batch.
      const next = cursor.next();
      await new Promise((r) => setTimeout(r, 5));
      const t0 = performance.now();
      await coll.insertOne({ k });
      let e = await next;
      while (e && !(e.op === 'i' && (e.o as { k?: number }).k === k)) e = await cursor.next();
      latencies.push(performance.now() - t0);
    }
    await cursor.close();
    latencies.sort((a, b) => a - b);
    return {
      awaitDataWakeUp: {
        samples,
        measures: 'insert sent -> tailing cursor returns the entry (includes the insert round trip)',
        ms: { p50: round(pct(latencies, 50)), p99: round(pct(latencies, 99)), max: round(latencies.at(-1)!) },
        targetMs: 20,
      },
    };
  } finally {
    await writer.close();
    await reader.close();
    await s.stop();
  }
}
