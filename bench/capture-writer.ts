/**
 * One writer of the capture benchmark, in its own process (so that neither the stand-in nor the
 * engine shares its thread): `RATE` oplog entries per second for `SECONDS`, as a mixed workload
 * in the shares `MIX` gives (insert,update,delete percent, default 98,1,1): events appended to a
 * growing collection, `$set`/`$inc` updates of a small set of session documents, and a queue
 * whose oldest item is deleted as a new one is added. Every operation is one oplog entry. What is
 * due is sent every 10 ms, one unordered bulkWrite per collection, the three in flight together.
 * Updates and deletes go to small collections because the stand-in finds a document by scanning
 * its collection. Prints `ready` once connected and set up, starts on `go` (stdin), and prints
 * one JSON line at the end: what it wrote and its own CPU.
 * Usage: node --import tsx capture-writer.ts URI ID RATE SECONDS [MIX]
 */
import { MongoClient, type AnyBulkWriteOperation, type Document } from 'mongodb';

type Doc = { _id: number } & Document;
const [uri, idText, rateText, secondsText, mixText = '98,1,1'] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string?,
];
const writerId = Number(idText);
const rate = Number(rateText);
const seconds = Number(secondsText);
const [insertPct, updatePct, deletePct] = mixText.split(',').map(Number) as [number, number, number];
if (insertPct + updatePct + deletePct !== 100 || deletePct > insertPct)
  throw new Error(`mix ${mixText}: insert,update,delete percent, adding up to 100, deletes <= inserts`);
const client = new MongoClient(uri, { maxPoolSize: 3 });
await client.connect();
const db = client.db('bench');
const events = db.collection<Doc>(`events${writerId}`);
const sessions = db.collection<Doc>(`sessions${writerId}`);
const queue = db.collection<Doc>(`queue${writerId}`);
const SESSIONS = 20;
const QUEUE_DEPTH = 20;
const payload = 'x'.repeat(400);
await sessions.insertMany(Array.from({ length: SESSIONS }, (_, k) => ({ _id: k, user: `u${k}`, v: 0 })));
await queue.insertMany(Array.from({ length: QUEUE_DEPTH }, (_, k) => ({ _id: k, job: 'resize', payload })));
let nextEvent = 0;
let queueHead = 0;
let queueTail = QUEUE_DEPTH;

/** `n` operations in the mix's shares (by position in a cycle of 100). */
function batch(from: number, n: number) {
  const ev: Doc[] = [];
  const up: AnyBulkWriteOperation<Doc>[] = [];
  const q: AnyBulkWriteOperation<Doc>[] = [];
  for (let k = from; k < from + n; k++) {
    const r = k % 100;
    if (r < deletePct) {
      // A queue item consumed and the next one queued: two entries, a delete and an insert.
      q.push({ deleteOne: { filter: { _id: queueHead++ } } });
    } else if (r < 2 * deletePct) {
      q.push({ insertOne: { document: { _id: queueTail++, job: 'resize', payload } } });
    } else if (r < 2 * deletePct + updatePct) {
      up.push({
        updateOne: {
          filter: { _id: k % SESSIONS },
          update: { $set: { seenAt: new Date(), page: `/p/${k % 97}` }, $inc: { v: 1 } },
        },
      });
    } else {
      const _id = nextEvent++;
      ev.push({ _id, n: _id, at: new Date(), kind: 'event', payload });
    }
  }
  return Promise.all([
    ev.length ? events.insertMany(ev, { ordered: false }) : null,
    up.length ? sessions.bulkWrite(up, { ordered: false }) : null,
    q.length ? queue.bulkWrite(q, { ordered: true }) : null,
  ]);
}

// Ready: the parent starts every writer's clock at once (their start-up is no idle time in the run).
process.stdout.write('ready\n');
await new Promise<void>((resolve) =>
  process.stdin.on('data', (d: Buffer) => {
    if (d.toString().includes('go')) resolve();
  }),
);
process.stdin.pause();
const cpu0 = process.cpuUsage();
const start = Date.now();
const end = start + seconds * 1000;
let written = 0;
let batches = 0;
while (Date.now() < end) {
  const due = Math.floor(((Date.now() - start) / 1000) * rate);
  if (written < due) {
    // At most half a second's worth in one go, so that a writer that fell behind catches up in steps.
    const n = Math.min(Math.max(1, Math.round(rate / 2)), due - written);
    await batch(written, n);
    written += n;
    batches++;
  } else await new Promise((r) => setTimeout(r, 10));
}
const elapsedMs = Date.now() - start;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({ writerId, written, batches, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`,
);
await client.close();
