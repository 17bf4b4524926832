/** insert, update, delete, findAndModify, find, count, aggregate: with mingo for query, update, projection and sort semantics. */
import { ObjectId, serialize, type Document } from 'bson';
import { Aggregator, Query, update as mingoUpdate } from 'mingo';
import type { Ctx } from './context.js';
import { oplogMatcher, type Cursors } from './cursors.js';
import { bsonEqual, updateOplogObject } from './diff.js';
import { E, MongoError } from './errors.js';
import { idKey, type Collection, type StoredDoc } from './store.js';
import { RawValue } from './raw-value.js';
import { parseDoc } from '../reference-applier.js';
import { arithmeticHints, decodeTyped, encodeOrdered, retype, rawOrder, setHints } from './typed-values.js';
import { insertMeasurement, unpackMeasurements } from './timeseries.js';
import { decodeBson, idFirstRaw } from './wire.js';
import { matcher, sortedBy } from './numbers.js';

export type Handler = (ctx: Ctx, cursors: Cursors) => Document | Buffer | Promise<Document | Buffer>;

const fresh = (d: StoredDoc): Document => decodeBson(d.raw);

function withIdFirst(doc: Document): Document {
  if (doc._id === undefined) return { _id: new ObjectId(), ...doc };
  if (Object.keys(doc)[0] === '_id') return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

function refuseView(c: Collection | undefined): void {
  if (c?.type === 'view') throw E.commandNotSupportedOnView(`Namespace ${c.ns} is a view, not a collection`);
}

export function insertOne(ctx: Ctx, coll: Collection, input: Document, rawInput?: Uint8Array): void {
  refuseView(coll);
  // Keep the client's exact bytes when it sent an _id (the driver always does); otherwise encode.
  const raw = rawInput && input._id !== undefined ? idFirstRaw(rawInput) : serialize(withIdFirst(input));
  const doc = decodeBson(raw);
  coll.checkUnique(doc, null);
  coll.put(doc, raw);
  ctx.log({ op: 'i', ns: coll.ns, ui: coll.uuid, o: new RawValue(raw), o2: { _id: doc._id } });
}

/**
 * The raw post-image of an update computed on promoted values (mingo): numbers
 * get back the BSON type the client sent or the pre-image had, fields keep
 * the pre-image's order (new ones after, as mongod appends them).
 */
export function encodeUpdated(preRaw: Uint8Array, postJs: Document, hints: unknown[] = []): Uint8Array {
  return encodeOrdered(retype(postJs, [...hints, decodeTyped(preRaw)]) as Document, [rawOrder(preRaw)]);
}

/**
 * Stores `postRaw` in place of `pre` and logs it as mongod does: a replacement
 * (`replaceOne`, an update with a whole document) as the whole new document
 * (with _id, no $v); a modifier update as a `$v: 2` diff (or the whole document
 * when no diff can express it). No-op updates are not logged.
 */
export function replaceStored(
  ctx: Ctx,
  coll: Collection,
  pre: StoredDoc,
  postRaw: Uint8Array,
  replacement = false,
): boolean {
  const post = decodeBson(postRaw);
  if (!bsonEqual(pre.js._id, post._id)) {
    throw new MongoError(
      66,
      'ImmutableField',
      "Performing an update on the path '_id' would modify the immutable field '_id'",
    );
  }
  if (Buffer.from(postRaw).equals(Buffer.from(pre.raw))) return false; // no-op updates are not logged
  coll.checkUnique(post, idKey(post._id));
  const o = replacement ? postRaw : updateOplogObject(parseDoc(pre.raw), parseDoc(postRaw));
  coll.put(post, postRaw);
  ctx.log({ op: 'u', ns: coll.ns, ui: coll.uuid, o: new RawValue(o), o2: { _id: post._id } });
  return true;
}

export function deleteStored(ctx: Ctx, coll: Collection, d: StoredDoc): void {
  coll.delete(d.js._id);
  ctx.log({ op: 'd', ns: coll.ns, ui: coll.uuid, o: { _id: d.js._id } });
}

function matching(coll: Collection | undefined, filter: Document, sort?: Document): StoredDoc[] {
  if (!coll) return [];
  return sortedBy(coll.all().filter(matcher(filter)), sort);
}

/**
 * The `_id` values a filter names exactly, `{_id: v}` or `{_id: {$in: [...]}}` and nothing else, when
 * each is a value whose stored key is its only equal (ObjectId, string, a number: 1, 1.0 and
 * NumberLong(1) are one key, in mongod's index as in `idKey`): mongod answers those from the _id
 * index (IDHACK, IXSCAN) rather than scanning, so a restore's validation looking up 500 documents of
 * a million-document collection must not scan it either.
 */
function idsNamedBy(filter: Document | undefined): unknown[] | null {
  if (!filter || Object.keys(filter).length !== 1 || !('_id' in filter)) return null;
  const v = filter._id as unknown;
  const exact = (x: unknown) =>
    typeof x === 'string' ||
    (typeof x === 'number' && !Number.isNaN(x)) ||
    (x !== null &&
      typeof x === 'object' &&
      ['ObjectId', 'Long'].includes((x as { _bsontype?: string })._bsontype ?? ''));
  if (exact(v)) return [v];
  if (
    v === null ||
    typeof v !== 'object' ||
    Object.keys(v).length !== 1 ||
    !Array.isArray((v as Document).$in)
  )
    return null;
  const list = (v as { $in: unknown[] }).$in;
  return list.every(exact) ? list : null;
}

/** The documents with these `_id`s that exist when the cursor reaches each (read live, as the scan). */
function byIds(coll: Collection, ids: unknown[] | null): Iterator<StoredDoc> | null {
  if (!ids) return null;
  return (function* () {
    const seen = new Set<string>();
    for (const id of ids) {
      const k = idKey(id);
      if (seen.has(k)) continue;
      seen.add(k);
      const d = coll.docs.get(k);
      if (d) yield d;
    }
  })();
}

const isModifier = (u: unknown) =>
  !Array.isArray(u) && Object.keys(u as Document).some((k) => k.startsWith('$'));

/** A raw document with `_id` first: the given one when the document has none. */
function withRawId(raw: Uint8Array, id: unknown): Uint8Array {
  const doc = decodeBson(raw);
  if (doc._id !== undefined) return idFirstRaw(raw);
  const idEl = Buffer.from(serialize({ _id: id }));
  const body = Buffer.concat([
    idEl.subarray(4, idEl.length - 1),
    Buffer.from(raw).subarray(4, raw.length - 1),
  ]);
  const out = Buffer.alloc(body.length + 5);
  out.writeInt32LE(out.length, 0);
  body.copy(out, 4);
  return out;
}

/**
 * The raw document after applying an update spec (modifier, replacement or
 * pipeline) to the stored `pre` (raw); `rawU` is the spec as the client sent it.
 */
function updated(
  pre: Uint8Array,
  u: Document | Document[],
  rawU: Uint8Array | undefined,
  arrayFilters?: Document[],
  isInsert = false,
): { raw: Uint8Array; replacement: boolean } {
  const doc = decodeBson(pre);
  if (Array.isArray(u)) {
    const out = new Aggregator(u).run([doc])[0] as Document;
    return { raw: encodeUpdated(pre, withIdFirst(out)), replacement: false };
  }
  if (!isModifier(u)) {
    // A replacement keeps the client's exact bytes, with the stored _id first.
    const raw = rawU
      ? withRawId(rawU, doc._id)
      : serialize({ _id: doc._id, ...Object.fromEntries(Object.entries(u).filter(([k]) => k !== '_id')) });
    return { raw, replacement: true };
  }
  const copy = decodeBson(pre);
  const { $setOnInsert, ...mods } = u as Document;
  if (Object.keys(mods).length) mingoUpdate(copy, mods, arrayFilters);
  if (isInsert && $setOnInsert) mingoUpdate(copy, { $set: $setOnInsert });
  const typedSpec = rawU ? decodeTyped(rawU) : undefined;
  const hints = [setHints(typedSpec), arithmeticHints(typedSpec, decodeTyped(pre))];
  return { raw: encodeUpdated(pre, copy, hints), replacement: false };
}

/** Equality fields of a query seed an upserted document, as MongoDB does. */
function seedFromQuery(q: Document): Document {
  const seed: Document = {};
  for (const [k, v] of Object.entries(q ?? {})) {
    if (k.startsWith('$')) continue;
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).some((x) => x.startsWith('$'))) {
      if ('$eq' in (v as Document)) seed[k] = (v as Document).$eq;
      continue;
    }
    seed[k] = v;
  }
  return seed;
}

function writeError(index: number, err: unknown): Document {
  if (err instanceof MongoError)
    return { index, code: err.code, codeName: err.codeName, errmsg: err.message, ...err.extra };
  throw err;
}

export const crudCommands: Record<string, Handler> = {
  insert(ctx) {
    const docs = (ctx.cmd.documents ?? []) as Document[];
    const ordered = ctx.cmd.ordered !== false;
    const coll = ctx.ensureColl(ctx.cmd.insert as string);
    let n = 0;
    const writeErrors: Document[] = [];
    for (const [k, d] of docs.entries()) {
      try {
        if (coll.type === 'timeseries') insertMeasurement(ctx, coll, d, ctx.rawDocuments?.[k]);
        else insertOne(ctx, coll, d, ctx.rawDocuments?.[k]);
        n++;
      } catch (err) {
        writeErrors.push(writeError(k, err));
        if (ordered) break;
      }
    }
    return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
  },

  update(ctx) {
    const name = ctx.cmd.update as string;
    let n = 0;
    let nModified = 0;
    const upserted: Document[] = [];
    const writeErrors: Document[] = [];
    for (const [k, spec] of ((ctx.cmd.updates ?? []) as Document[]).entries()) {
      try {
        const coll = ctx.coll(name);
        refuseView(coll);
        const hits = matching(coll, spec.q as Document);
        const targets = spec.multi ? hits : hits.slice(0, 1);
        if (targets.length === 0 && spec.upsert) {
          const c = ctx.ensureColl(name);
          const seed = serialize(withIdFirst(seedFromQuery(spec.q as Document)));
          const { raw } = updated(
            seed,
            spec.u as Document,
            ctx.rawUpdates?.[k],
            spec.arrayFilters as Document[],
            true,
          );
          const doc = decodeBson(raw);
          insertOne(ctx, c, doc, raw);
          upserted.push({ index: k, _id: doc._id });
          n++;
          continue;
        }
        if (spec.multi && !Array.isArray(spec.u) && !isModifier(spec.u))
          throw E.invalidOptions('multi update is not supported for replacement-style update');
        for (const t of targets) {
          n++;
          const next = updated(
            t.raw,
            spec.u as Document,
            ctx.rawUpdates?.[k],
            spec.arrayFilters as Document[],
          );
          if (replaceStored(ctx, coll!, t, next.raw, next.replacement)) nModified++;
        }
      } catch (err) {
        writeErrors.push(writeError(k, err));
        if (ctx.cmd.ordered !== false) break;
      }
    }
    const res: Document = { n, nModified, ok: 1 };
    if (upserted.length) res.upserted = upserted;
    if (writeErrors.length) res.writeErrors = writeErrors;
    return res;
  },

  delete(ctx) {
    const coll = ctx.coll(ctx.cmd.delete as string);
    refuseView(coll);
    let n = 0;
    for (const spec of (ctx.cmd.deletes ?? []) as Document[]) {
      const hits = matching(coll, spec.q as Document);
      for (const d of Number(spec.limit) === 1 ? hits.slice(0, 1) : hits) {
        deleteStored(ctx, coll!, d);
        n++;
      }
    }
    return { n, ok: 1 };
  },

  findandmodify(ctx) {
    const name = ctx.cmd.findAndModify as string;
    const coll = ctx.coll(name);
    refuseView(coll);
    const [hit] = matching(coll, (ctx.cmd.query ?? {}) as Document, ctx.cmd.sort as Document);
    const project = (d: Document | null) =>
      d && ctx.cmd.fields ? (new Query({}).find([d], ctx.cmd.fields as Document).all()[0] as Document) : d;
    if (ctx.cmd.remove) {
      if (hit) deleteStored(ctx, coll!, hit);
      return { lastErrorObject: { n: hit ? 1 : 0 }, value: project(hit ? fresh(hit) : null), ok: 1 };
    }
    const u = ctx.cmd.update as Document;
    if (!hit) {
      if (!ctx.cmd.upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
      const seed = serialize(withIdFirst(seedFromQuery(ctx.cmd.query as Document)));
      const { raw } = updated(seed, u, ctx.rawFamUpdate, ctx.cmd.arrayFilters as Document[], true);
      const doc = decodeBson(raw);
      insertOne(ctx, ctx.ensureColl(name), doc, raw);
      return {
        lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id },
        value: project(ctx.cmd.new ? doc : null),
        ok: 1,
      };
    }
    const before = fresh(hit);
    const next = updated(hit.raw, u, ctx.rawFamUpdate, ctx.cmd.arrayFilters as Document[]);
    replaceStored(ctx, coll!, hit, next.raw, next.replacement);
    const after = decodeBson(next.raw);
    return {
      lastErrorObject: { n: 1, updatedExisting: true },
      value: project(ctx.cmd.new ? after : before),
      ok: 1,
    };
  },

  find(ctx, cursors) {
    const name = ctx.cmd.find as string;
    const extra = ctx.extra();
    if (ctx.db === 'local' && name === 'oplog.rs') {
      const filter = (ctx.cmd.filter ?? {}) as Document;
      if (ctx.cmd.tailable)
        return cursors.openOplog(
          ctx.server.oplog,
          filter,
          ctx.cmd.batchSize as number | undefined,
          !!ctx.cmd.awaitData,
          extra,
        );
      const match = ctx.server.oplog.entries.filter(oplogMatcher(filter));
      let docs = match.map((e) => e.raw);
      const sort = ctx.cmd.sort as Document | undefined;
      if (sort && (sort.$natural === -1 || sort.ts === -1)) docs = docs.reverse();
      if (ctx.cmd.limit) docs = docs.slice(0, Math.abs(Number(ctx.cmd.limit)));
      return cursors.firstBatch(
        'local.oplog.rs',
        docs,
        ctx.cmd.batchSize as number | undefined,
        !!ctx.cmd.singleBatch,
        extra,
      );
    }
    const coll = ctx.coll(name);
    const test = matcher(ctx.cmd.filter as Document | undefined);
    const projection = ctx.cmd.projection as Document | undefined;
    const project = (h: StoredDoc): Uint8Array =>
      projection && Object.keys(projection).length
        ? serialize(new Query({}).find([h.js], projection).all()[0] as Document)
        : h.raw;
    const singleBatch = !!ctx.cmd.singleBatch || Number(ctx.cmd.limit) < 0;
    const sorted = ctx.cmd.sort && Object.keys(ctx.cmd.sort as Document).length;
    if (coll && coll.type === 'collection' && !sorted) {
      // A collection scan, read live at each getMore (what a snapshot sees while writes go on).
      const { db, name: collName } = coll;
      const store = ctx.server.store;
      const inTxn = !!ctx.txn;
      return cursors.openLive(
        {
          ns: `${ctx.db}.${name}`,
          iter: byIds(coll, idsNamedBy(ctx.cmd.filter as Document | undefined)) ?? coll.docs.values(),
          match: test,
          encode: project,
          skip: Number(ctx.cmd.skip ?? 0),
          left: ctx.cmd.limit ? Math.abs(Number(ctx.cmd.limit)) : Infinity,
          check: () => {
            if (inTxn || store.collection(db, collName) === coll) return;
            throw new MongoError(
              175,
              'QueryPlanKilled',
              `collection ${coll.name === collName ? 'dropped' : 'renamed'}: ${db}.${collName}`,
            );
          },
        },
        ctx.cmd.batchSize as number | undefined,
        singleBatch,
        extra,
      );
    }
    const source = readable(ctx, coll);
    let hits = sortedBy(source.filter(test), ctx.cmd.sort as Document | undefined);
    if (ctx.cmd.skip) hits = hits.slice(Number(ctx.cmd.skip));
    if (ctx.cmd.limit) hits = hits.slice(0, Math.abs(Number(ctx.cmd.limit)));
    return cursors.firstBatch(
      `${ctx.db}.${name}`,
      hits.map(project),
      ctx.cmd.batchSize as number | undefined,
      singleBatch,
      extra,
    );
  },

  count(ctx) {
    const name = ctx.cmd.count as string;
    let n =
      ctx.db === 'local' && name === 'oplog.rs'
        ? ctx.server.oplog.entries.filter(oplogMatcher((ctx.cmd.query ?? {}) as Document)).length
        : matching(ctx.coll(name), (ctx.cmd.query ?? {}) as Document).length;
    if (ctx.cmd.skip) n = Math.max(0, n - Number(ctx.cmd.skip));
    if (ctx.cmd.limit) n = Math.min(n, Math.abs(Number(ctx.cmd.limit)));
    return { n, ok: 1 };
  },

  aggregate(ctx, cursors) {
    const name = ctx.cmd.aggregate;
    let pipeline = (ctx.cmd.pipeline ?? []) as Document[];
    let input: Document[] = [];
    if (ctx.db === 'local' && name === 'oplog.rs') input = ctx.server.oplog.entries.map((e) => e.js);
    else if (typeof name === 'string') {
      const coll = ctx.coll(name);
      // Leading $match stages (countDocuments' filter) compare numbers by value, as find does; the
      // later stages see the documents with their own types.
      let docs = readable(ctx, coll);
      while (pipeline[0] && Object.keys(pipeline[0]).join() === '$match') {
        docs = docs.filter(matcher(pipeline[0].$match as Document));
        pipeline = pipeline.slice(1);
      }
      input = docs.map((d) => d.js);
    }
    const out = new Aggregator(pipeline).run(input) as Document[];
    const batchSize = (ctx.cmd.cursor as Document | undefined)?.batchSize as number | undefined;
    return cursors.firstBatch(
      `${ctx.db}.${typeof name === 'string' ? name : '$cmd.aggregate'}`,
      out.map((d) => serialize(d)),
      batchSize,
      false,
      ctx.extra(),
    );
  },
};

/** What a read of a namespace sees: a view's pipeline output, a time-series' unpacked measurements, or the documents. */
function readable(ctx: Ctx, coll: Collection | undefined): StoredDoc[] {
  if (coll?.type === 'view') return viewDocs(ctx, coll);
  if (coll?.type === 'timeseries') return unpackMeasurements(ctx, coll);
  return coll?.all() ?? [];
}

function viewDocs(ctx: Ctx, view: Collection): StoredDoc[] {
  const on = ctx.coll(view.options.viewOn as string);
  const docs = new Aggregator((view.options.pipeline ?? []) as Document[]).run(
    (on?.all() ?? []).map((d) => d.js),
  ) as Document[];
  return docs.map((js) => ({ js, raw: serialize(js) }));
}
