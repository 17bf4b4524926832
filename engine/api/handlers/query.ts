import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { serialize } from 'bson';
import { audit } from '../../catalog/audit.js';
import { getSourceByName } from '../../catalog/sources.js';
import { ApiError } from '../../errors.js';
import { connectSource } from '../../mongo/connect.js';
import { displayUri, parseConnection } from '../../mongo/connection-config.js';
import { toDriverDocument } from '../../mongo/driver-document.js';
import { docOf, elementBytes, field } from '../../oplog/bson-raw.js';
import { fsyncDir } from '../../repo/durable-file.js';
import type { Services } from '../../services.js';
import { ejsonText } from '../../views/ejson-text.js';
import { leasedPointView, withView } from '../../views/point-view.js';
import { aggregateCursor, count, distinct, findCursor, matchingRaw } from '../../views/query.js';
import { isDamage } from '../../views/view-cache.js';
import type { ViewRow } from '../../catalog/view-index.js';
import {
  parseCollation,
  parseFilter,
  parsePipeline,
  parseProjection,
  parseSort,
} from '../../views/query-input.js';
import { viewAnswer } from '../views.js';
import { pointOf } from './restore.js';
import type { PartialHandlers } from './types.js';
import { dirname } from 'node:path';
import { EJSON } from 'bson';

type Deps = Pick<Services, 'catalog' | 'stores' | 'tasks' | 'views' | 'actor'>;

/** The point of a query: a restore point as restores take it (or a snapshot id). */
const pointFor = (svc: Deps, source: string, at: string) =>
  pointOf(svc.catalog, getSourceByName(svc.catalog, source), at);

/** Documents to write, as bytes: stored ones as they are, derived ones encoded from their values. */
const bytesOf = (d: { raw: Buffer | null; js: object }) => d.raw ?? Buffer.from(serialize(d.js));

const BATCH = 1000;
/** A restore batch also stops at this many bytes: its documents are held decoded for the driver, several times their size. */
const BATCH_BYTES = 2 * 1024 * 1024;
/** Failed documents listed in a selective restore's result (all are counted in `failed`). */
const MAX_FAILURES = 1000;

/**
 * A cursor's documents, watched for damage: a view file found damaged while a later batch is
 * read is removed (its cursors end with it) and the read refused, never answered from.
 */
function* watched(svc: Pick<Deps, 'views'>, row: ViewRow, docs: Iterator<string>): Generator<string> {
  try {
    for (;;) {
      const r = docs.next();
      if (r.done) return;
      yield r.value;
    }
  } catch (err) {
    if (isDamage(err)) svc.views.discard(row);
    throw err;
  } finally {
    docs.return?.(undefined);
  }
}

/** At most `limit` of `docs` (all without one). */
function* limitTo(docs: Generator<string>, limit: number | undefined): Generator<string> {
  let n = 0;
  if (limit === undefined) return yield* docs;
  for (const d of docs) {
    yield d;
    if (++n >= limit) return;
  }
}

/** mongod's count with skip and limit: the matching documents after skip, at most limit (0: no limit). */
const windowed = (n: number, skip: number, limit: number) => {
  const after = Math.max(n - skip, 0);
  return limit > 0 ? Math.min(after, limit) : after;
};

const damaged = (err: unknown): never => {
  if (isDamage(err))
    throw new ApiError(
      'CORRUPT',
      'The view was found damaged while its cursor read it; it was removed: run the query again.',
    );
  throw err;
};

export const queryHandlers: PartialHandlers<
  | 'query.find'
  | 'query.more'
  | 'query.close'
  | 'query.count'
  | 'query.distinct'
  | 'query.aggregate'
  | 'query.export'
  | 'query.restore',
  Deps
> = {
  'query.find': async (svc, input, call) => {
    const filter = parseFilter(input.filter);
    const projection = parseProjection(input.projection);
    const sort = parseSort(input.sort);
    const collation = parseCollation(input.collation);
    return withView(svc, input.source, input.at, pointFor(svc, input.source, input.at), (v) => {
      const { documents, plan } = findCursor(v.db, input.ns, {
        filter,
        projection,
        sort,
        collation,
        skip: input.skip,
        limit: input.limit,
        canonical: input.canonical,
        allowDiskUse: input.allowDiskUse,
      });
      const batch = svc.views.cursors.start(
        call.client,
        v.row.id,
        input.ns,
        watched(svc, v.row, documents),
        input.batchSize,
      );
      return { view: viewAnswer(v.row, v.how), ns: input.ns, ...batch, plan };
    });
  },
  'query.more': (svc, input, call) => {
    try {
      return svc.views.cursors.more(call.client, input.cursorId, input.batchSize);
    } catch (err) {
      return damaged(err);
    }
  },
  'query.close': (svc, input, call) => ({
    cursorId: input.cursorId,
    closed: svc.views.cursors.close(call.client, input.cursorId),
  }),
  'query.count': async (svc, input) => {
    const filter = parseFilter(input.filter);
    const collation = parseCollation(input.collation);
    return withView(svc, input.source, input.at, pointFor(svc, input.source, input.at), (v) => ({
      view: viewAnswer(v.row, v.how),
      ns: input.ns,
      count: windowed(count(v.db, input.ns, filter, collation), input.skip, input.limit),
    }));
  },
  'query.distinct': async (svc, input) => {
    const filter = parseFilter(input.filter);
    const collation = parseCollation(input.collation);
    return withView(svc, input.source, input.at, pointFor(svc, input.source, input.at), (v) => ({
      view: viewAnswer(v.row, v.how),
      ns: input.ns,
      values: distinct(v.db, input.ns, input.distinct, filter, input.canonical, collation),
    }));
  },
  'query.aggregate': async (svc, input, call) => {
    const pipeline = parsePipeline(input.pipeline);
    const collation = parseCollation(input.collation);
    return withView(svc, input.source, input.at, pointFor(svc, input.source, input.at), (v) => {
      const limited = limitTo(
        aggregateCursor(v.db, input.ns, pipeline, input.canonical, input.allowDiskUse, collation),
        input.limit,
      );
      const batch = svc.views.cursors.start(
        call.client,
        v.row.id,
        input.ns,
        watched(svc, v.row, limited),
        input.batchSize,
      );
      return { view: viewAnswer(v.row, v.how), ns: input.ns, ...batch };
    });
  },
  'query.export': async (svc, input) => {
    const filter = parseFilter(input.filter);
    const projection = parseProjection(input.projection);
    const sort = parseSort(input.sort);
    const collation = parseCollation(input.collation);
    const point = pointFor(svc, input.source, input.at);
    if (existsSync(input.out)) throw new ApiError('CONFLICT', `${input.out} exists; give a new file name.`);
    const task = svc.tasks.start('query.export', async (ctx) => {
      const temp = `${input.out}.tmp-${process.pid}`;
      // Written synchronously while the view is read: memory stays at one batch, whatever the size.
      const fd = openSync(temp, 'wx', 0o644);
      let documents = 0;
      let bytes = 0;
      try {
        const answer = await withView(svc, input.source, input.at, point, (v) => {
          let parts: Buffer[] = [];
          let partBytes = 0;
          const flush = () => {
            if (partBytes) writeSync(fd, Buffer.concat(parts));
            parts = [];
            partBytes = 0;
          };
          for (const d of matchingRaw(v.db, input.ns, {
            filter,
            projection,
            sort,
            collation,
            skip: input.skip,
            limit: input.limit,
            allowDiskUse: input.allowDiskUse,
          })) {
            const b = bytesOf(d);
            const out =
              input.format === 'bson'
                ? b
                : Buffer.from(
                    `${d.raw ? ejsonText(b, !input.canonical) : EJSON.stringify(d.js, { relaxed: !input.canonical })}\n`,
                  );
            parts.push(out);
            partBytes += out.length;
            bytes += out.length;
            if (partBytes >= 1 << 20) flush();
            if (++documents % 10_000 === 0) {
              ctx.throwIfCancelled();
              ctx.progress({ done: documents, unit: 'documents', message: `writing ${input.out}` });
            }
          }
          flush();
          return viewAnswer(v.row, v.how);
        });
        fsyncSync(fd);
        closeSync(fd);
        if (existsSync(input.out))
          throw new ApiError('CONFLICT', `${input.out} appeared meanwhile; nothing replaced.`);
        renameSync(temp, input.out);
        fsyncDir(dirname(input.out));
        return { view: answer, ns: input.ns, path: input.out, format: input.format, documents, bytes };
      } catch (err) {
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
        rmSync(temp, { force: true });
        throw err;
      }
    });
    return { taskId: task.taskId };
  },
  'query.restore': async (svc, input) => {
    const filter = parseFilter(input.filter);
    const collation = parseCollation(input.collation);
    const point = pointFor(svc, input.source, input.at);
    const { config, password } = parseConnection(input.targetUri);
    const client = await connectSource(config, input.password ?? password, 10_000);
    const target = input.targetNs ?? input.ns;
    const dot = target.indexOf('.');
    if (dot < 1) throw new ApiError('INVALID_INPUT', `targetNs ${target} is not db.collection.`);
    const task = svc.tasks.start('query.restore', async (ctx) => {
      try {
        const coll = client.db(target.slice(0, dot)).collection(target.slice(dot + 1));
        let selected = 0;
        let inserted = 0;
        let replaced = 0;
        const failures: { id: string; message: string }[] = [];
        let failed = 0;
        const write = async (batch: Buffer[]) => {
          ctx.throwIfCancelled();
          const ops = batch.map((raw) => {
            const doc = toDriverDocument(raw);
            if (input.mode === 'insert') return { insertOne: { document: doc } };
            const id = field(raw, '_id')!;
            return {
              replaceOne: {
                filter: toDriverDocument(docOf(elementBytes(raw, id))),
                replacement: doc,
                upsert: true,
              },
            };
          });
          const res = await coll.bulkWrite(ops as never, { ordered: false }).catch((err: unknown) => {
            const e = err as {
              result?: unknown;
              writeErrors?: { index: number; errmsg?: string }[] | { index: number; errmsg?: string };
            };
            const list = Array.isArray(e.writeErrors) ? e.writeErrors : e.writeErrors ? [e.writeErrors] : [];
            if (list.length === 0) throw err;
            for (const w of list) {
              // Every failure counted, the first MAX_FAILURES listed: a result stays small however many fail.
              if (++failed > MAX_FAILURES) continue;
              const raw = batch[w.index]!;
              failures.push({
                id: ejsonText(docOf(elementBytes(raw, field(raw, '_id')!))),
                message: w.errmsg ?? 'write error',
              });
            }
            return (
              (
                e as {
                  result?: {
                    insertedCount?: number;
                    upsertedCount?: number;
                    modifiedCount?: number;
                    matchedCount?: number;
                  };
                }
              ).result ?? null
            );
          });
          if (res) {
            inserted += (res.insertedCount ?? 0) + (res.upsertedCount ?? 0);
            replaced += res.matchedCount ?? 0;
          }
          ctx.progress({ done: selected, unit: 'documents', message: `writing ${target}` });
        };
        // The selection is read from the view a batch at a time and written before the next is read:
        // memory holds one batch, whatever the number of documents selected. The view's file is read
        // between the writes (pages of it, the connection free meanwhile); one found damaged ends the
        // task, removed (what was written stays: an upsert can simply be run again).
        const v = await leasedPointView(svc, input.source, input.at, point); // not moved in place meanwhile
        const release = v.release;
        try {
          const db = v.db;
          let batch: Buffer[] = [];
          let bytes = 0;
          for (const d of matchingRaw(db, input.ns, { filter, collation, skip: 0 })) {
            const raw = bytesOf(d);
            batch.push(raw);
            bytes += raw.length;
            selected++;
            if (batch.length >= BATCH || bytes >= BATCH_BYTES) {
              await write(batch);
              batch = [];
              bytes = 0;
            }
          }
          if (batch.length) await write(batch);
        } catch (err) {
          if (isDamage(err)) {
            svc.views.discard(v.row);
            throw new ApiError(
              'CORRUPT',
              `The view was found damaged while the selection was read; it was removed after ${selected} documents were selected: run the restore again.`,
            );
          }
          throw err;
        } finally {
          release();
        }
        audit(svc.catalog, {
          actor: svc.actor,
          action: 'query.restore',
          target: input.source,
          outcome: failed ? 'failed' : 'done',
          details: {
            at: input.at,
            ns: input.ns,
            target: displayUri(config),
            targetNs: target,
            selected,
            inserted,
            replaced,
            failures: failed,
          },
        });
        return { ns: input.ns, targetNs: target, selected, inserted, replaced, failed, failures };
      } finally {
        await client.close().catch(() => undefined);
      }
    });
    return { taskId: task.taskId };
  },
};
