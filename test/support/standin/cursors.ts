/**
 * Cursors: plain ones hold the remaining documents; tailable ones on
 * `local.oplog.rs` hold a position (the last ts returned) and wait for new
 * entries on getMore with awaitData, failing with CappedPositionLost when
 * their position was trimmed away, as MongoDB does.
 */
import { Long, serialize, type Document } from 'bson';
import { Query } from 'mingo';
import { E } from './errors.js';
import type { Oplog, OplogEntry } from './oplog.js';
import type { StoredDoc } from './store.js';

const MAX_BATCH_BYTES = 16 * 1024 * 1024;

interface PlainCursor {
  kind: 'plain';
  ns: string;
  docs: Uint8Array[];
}

interface OplogCursor {
  kind: 'oplog';
  ns: string;
  last: { t: number; i: number } | null;
  match: (e: OplogEntry) => boolean;
  awaitData: boolean;
}

/**
 * A find on a collection without sort: a collection scan that reads the
 * collection's current documents at each getMore, as mongod's yields do. A
 * document changed after the cursor opened is returned in its new version, one
 * deleted before it was reached is not returned, one inserted later is seen.
 */
interface LiveCursor {
  kind: 'live';
  ns: string;
  iter: Iterator<StoredDoc>;
  match: (d: StoredDoc) => boolean;
  encode: (d: StoredDoc) => Uint8Array;
  skip: number;
  left: number;
  /** Throws when the collection was dropped or renamed since (QueryPlanKilled, as mongod). */
  check: () => void;
}

type Cursor = PlainCursor | OplogCursor | LiveCursor;

const cmpTs = (a: { t: number; i: number }, b: { t: number; i: number }) =>
  a.t !== b.t ? a.t - b.t : a.i - b.i;

function tsOf(v: unknown): { t: number; i: number } | null {
  const ts = v as { t?: number; i?: number; high?: number; low?: number; _bsontype?: string } | undefined;
  if (ts?._bsontype === 'Timestamp') return { t: ts.t ?? ts.high!, i: ts.i ?? ts.low! };
  return null;
}

/** A matcher for oplog entries: `ts` conditions compared as timestamps, the rest with mingo. */
export function oplogMatcher(filter: Document): (e: OplogEntry) => boolean {
  const { ts: tsCond, ...rest } = filter;
  const query = Object.keys(rest).length ? new Query(rest) : null;
  const conds: [string, { t: number; i: number }][] = [];
  if (tsCond !== undefined) {
    const direct = tsOf(tsCond);
    if (direct) conds.push(['$eq', direct]);
    else
      for (const [op, v] of Object.entries(tsCond as Document)) {
        const ts = tsOf(v);
        if (!ts) throw E.badValue(`oplog ts condition ${op} needs a Timestamp`);
        conds.push([op, ts]);
      }
  }
  return (e) => {
    for (const [op, ts] of conds) {
      const c = cmpTs(e, ts);
      const ok =
        op === '$gt'
          ? c > 0
          : op === '$gte'
            ? c >= 0
            : op === '$lt'
              ? c < 0
              : op === '$lte'
                ? c <= 0
                : op === '$eq'
                  ? c === 0
                  : false;
      if (!ok) return false;
    }
    return query ? query.test(e.js) : true;
  };
}

/** Builds `{cursor: {<field>: [raw docs], id, ns}, ok: 1, ...extra}` without re-encoding the documents. */
export function cursorReply(
  id: Long,
  ns: string,
  field: 'firstBatch' | 'nextBatch',
  docs: Uint8Array[],
  extra: Document,
): Buffer {
  const parts: Buffer[] = [];
  docs.forEach((d, k) => parts.push(Buffer.from([0x03]), Buffer.from(`${k}\0`), Buffer.from(d)));
  const arrayBody = Buffer.concat(parts);
  const arr = Buffer.alloc(4);
  arr.writeInt32LE(arrayBody.length + 5);
  const arrayDoc = Buffer.concat([arr, arrayBody, Buffer.from([0])]);
  const inner = (doc: Document) => {
    const b = Buffer.from(serialize(doc));
    return b.subarray(4, b.length - 1);
  };
  const cursorBody = Buffer.concat([
    Buffer.from([0x04]),
    Buffer.from(`${field}\0`),
    arrayDoc,
    inner({ id, ns }),
  ]);
  const cursorLen = Buffer.alloc(4);
  cursorLen.writeInt32LE(cursorBody.length + 5);
  const cursorDoc = Buffer.concat([cursorLen, cursorBody, Buffer.from([0])]);
  const top = Buffer.concat([
    Buffer.from([0x03]),
    Buffer.from('cursor\0'),
    cursorDoc,
    inner({ ok: 1, ...extra }),
  ]);
  const topLen = Buffer.alloc(4);
  topLen.writeInt32LE(top.length + 5);
  return Buffer.concat([topLen, top, Buffer.from([0])]);
}

export class Cursors {
  private readonly open = new Map<string, Cursor>();

  clear(): void {
    this.open.clear();
  }

  private newId(): Long {
    for (;;) {
      const id = Long.fromBits((Math.random() * 0x7fffffff) | 1, (Math.random() * 0x7fffffff) | 0);
      if (!this.open.has(id.toString())) return id;
    }
  }

  /** First batch of a plain cursor; keeps the rest under a new id. */
  firstBatch(
    ns: string,
    docs: Uint8Array[],
    batchSize: number | undefined,
    singleBatch: boolean,
    extra: Document,
  ): Buffer {
    const n = take(docs, batchSize ?? 101);
    const batch = docs.slice(0, n);
    const rest = docs.slice(n);
    let id = Long.ZERO;
    if (rest.length && !singleBatch) {
      id = this.newId();
      this.open.set(id.toString(), { kind: 'plain', ns, docs: rest });
    }
    return cursorReply(id, ns, 'firstBatch', batch, extra);
  }

  /** First batch of a live collection scan; stays open while documents remain. */
  openLive(
    c: Omit<LiveCursor, 'kind'>,
    batchSize: number | undefined,
    singleBatch: boolean,
    extra: Document,
  ): Buffer {
    const cursor: LiveCursor = { kind: 'live', ...c };
    const { batch, done } = collectLive(cursor, batchSize ?? 101);
    let id = Long.ZERO;
    if (!done && !singleBatch) {
      id = this.newId();
      this.open.set(id.toString(), cursor);
    }
    return cursorReply(id, cursor.ns, 'firstBatch', batch, extra);
  }

  /** A tailable cursor on the oplog: returns what matches now and stays open. */
  openOplog(
    oplog: Oplog,
    filter: Document,
    batchSize: number | undefined,
    awaitData: boolean,
    extra: Document,
  ): Buffer {
    const match = oplogMatcher(filter);
    const id = this.newId();
    const cursor: OplogCursor = { kind: 'oplog', ns: 'local.oplog.rs', last: null, match, awaitData };
    const batch = this.collectOplog(oplog, cursor, batchSize);
    this.open.set(id.toString(), cursor);
    return cursorReply(id, cursor.ns, 'firstBatch', batch, extra);
  }

  private collectOplog(oplog: Oplog, c: OplogCursor, batchSize: number | undefined): Uint8Array[] {
    const entries = oplog.entries;
    let k = 0;
    if (c.last) {
      const first = entries[0];
      if (!first || cmpTs(first, c.last) > 0) {
        throw E.cappedPositionLost(
          `CollectionScan died due to position in capped collection being deleted. Last seen record id: RecordId(${c.last.t}:${c.last.i})`,
        );
      }
      // Binary search for the first entry after the position.
      let lo = 0;
      let hi = entries.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cmpTs(entries[mid]!, c.last) <= 0) lo = mid + 1;
        else hi = mid;
      }
      k = lo;
    }
    const out: Uint8Array[] = [];
    let bytes = 0;
    const max = batchSize && batchSize > 0 ? batchSize : Infinity;
    for (; k < entries.length && out.length < max && bytes < MAX_BATCH_BYTES; k++) {
      const e = entries[k]!;
      c.last = { t: e.t, i: e.i };
      if (c.match(e)) {
        out.push(e.raw);
        bytes += e.raw.byteLength;
      }
    }
    return out;
  }

  async getMore(
    oplog: Oplog,
    id: Long,
    collection: string,
    db: string,
    batchSize: number | undefined,
    maxTimeMS: number | undefined,
    extra: Document,
  ): Promise<Buffer> {
    const key = id.toString();
    const c = this.open.get(key);
    if (!c) throw E.cursorNotFound(key);
    if (c.ns !== `${db}.${collection}`) throw E.badValue(`cursor ${key} belongs to ${c.ns}`);
    if (c.kind === 'live') {
      try {
        c.check();
      } catch (err) {
        this.open.delete(key);
        throw err;
      }
      const { batch, done } = collectLive(c, batchSize ?? 0);
      if (done) this.open.delete(key);
      return cursorReply(done ? Long.ZERO : id, c.ns, 'nextBatch', batch, extra);
    }
    if (c.kind === 'plain') {
      const n = take(c.docs, batchSize ?? c.docs.length);
      const batch = c.docs.splice(0, n);
      if (c.docs.length === 0) this.open.delete(key);
      return cursorReply(c.docs.length ? id : Long.ZERO, c.ns, 'nextBatch', batch, extra);
    }
    let batch = this.collectOplogOrForget(oplog, c, key, batchSize);
    if (batch.length === 0 && c.awaitData) {
      const deadline = Date.now() + (maxTimeMS ?? 1000);
      while (batch.length === 0 && Date.now() < deadline) {
        await oplog.waitForNew(deadline - Date.now());
        if (!this.open.has(key)) throw E.cursorNotFound(key); // killed or server restarted meanwhile
        batch = this.collectOplogOrForget(oplog, c, key, batchSize);
      }
    }
    return cursorReply(id, c.ns, 'nextBatch', batch, extra);
  }

  private collectOplogOrForget(
    oplog: Oplog,
    c: OplogCursor,
    key: string,
    batchSize: number | undefined,
  ): Uint8Array[] {
    try {
      return this.collectOplog(oplog, c, batchSize);
    } catch (err) {
      this.open.delete(key);
      throw err;
    }
  }

  kill(ids: Long[]): { killed: Long[]; notFound: Long[] } {
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const id of ids) (this.open.delete(id.toString()) ? killed : notFound).push(id);
    return { killed, notFound };
  }
}

function collectLive(c: LiveCursor, batchSize: number): { batch: Uint8Array[]; done: boolean } {
  const batch: Uint8Array[] = [];
  let bytes = 0;
  const max = batchSize > 0 ? batchSize : Infinity;
  while (batch.length < max && bytes < MAX_BATCH_BYTES && c.left > 0) {
    const next = c.iter.next();
    if (next.done) return { batch, done: true };
    if (!c.match(next.value)) continue;
    if (c.skip > 0) {
      c.skip--;
      continue;
    }
    const raw = c.encode(next.value);
    batch.push(raw);
    bytes += raw.byteLength;
    c.left--;
  }
  return { batch, done: c.left <= 0 };
}

function take(docs: Uint8Array[], batchSize: number): number {
  let n = 0;
  let bytes = 0;
  const max = batchSize > 0 ? batchSize : docs.length;
  while (n < docs.length && n < max && bytes < MAX_BATCH_BYTES) bytes += docs[n++]!.byteLength;
  return n;
}
