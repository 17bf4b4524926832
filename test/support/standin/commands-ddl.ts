/** create, drop, dropDatabase, renameCollection, collMod, createIndexes, dropIndexes, listDatabases/Collections/Indexes. */
import { UUID, serialize, type Document } from 'bson';
import { Query } from 'mingo';
import type { Ctx } from './context.js';
import type { Handler } from './commands-crud.js';
import { insertOne } from './commands-crud.js';
import { E, MongoError } from './errors.js';
import { getPath, type Collection, type IndexSpec } from './store.js';
import { valueKey } from './numbers.js';

const COMMAND_META = new Set([
  'lsid',
  '$db',
  '$clusterTime',
  'txnNumber',
  'autocommit',
  'startTransaction',
  '$readPreference',
  'writeConcern',
  'readConcern',
  'comment',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
  'maxTimeMS',
]);

function optionsOf(cmd: Document, skip: string): Document {
  return Object.fromEntries(Object.entries(cmd).filter(([k]) => k !== skip && !COMMAND_META.has(k)));
}

export function createCollection(ctx: Ctx, db: string, name: string, options: Document): Collection {
  const store = ctx.server.store;
  if (store.collection(db, name)) throw E.nsExists(`Collection ${db}.${name} already exists.`);
  if (options.viewOn) {
    // MongoDB records a view as a document in <db>.system.views.
    const { coll: views, created } = store.ensure(db, 'system.views');
    if (created)
      ctx.server.oplog.append({
        op: 'c',
        ns: `${db}.$cmd`,
        ui: views.uuid,
        o: { create: 'system.views', idIndex: { v: 2, key: { _id: 1 }, name: '_id_' } },
      });
    const { coll } = store.ensure(
      db,
      name,
      { viewOn: options.viewOn, pipeline: options.pipeline ?? [] },
      'view',
    );
    insertOne(ctx, views, { _id: `${db}.${name}`, viewOn: options.viewOn, pipeline: options.pipeline ?? [] });
    return coll;
  }
  if (options.timeseries) {
    const { coll: buckets } = store.ensure(db, `system.buckets.${name}`, {
      validator: {},
      clusteredIndex: true,
      timeseries: options.timeseries,
    });
    ctx.server.oplog.append({
      op: 'c',
      ns: `${db}.$cmd`,
      ui: buckets.uuid,
      o: { create: `system.buckets.${name}`, clusteredIndex: true, timeseries: options.timeseries },
    });
    const { coll } = store.ensure(
      db,
      name,
      {
        timeseries: options.timeseries,
        ...(options.expireAfterSeconds !== undefined
          ? { expireAfterSeconds: options.expireAfterSeconds }
          : {}),
      },
      'timeseries',
    );
    return coll;
  }
  const { coll } = store.ensure(db, name, options);
  ctx.server.oplog.append({
    op: 'c',
    ns: `${db}.$cmd`,
    ui: coll.uuid,
    o: { create: name, ...options, idIndex: { v: 2, key: { _id: 1 }, name: '_id_' } },
  });
  return coll;
}

export function dropCollection(ctx: Ctx, db: string, name: string): boolean {
  const c = ctx.server.store.collection(db, name);
  if (!c) return false;
  if (c.type === 'view') {
    ctx.server.store.drop(db, name);
    const views = ctx.server.store.collection(db, 'system.views');
    const d = views?.get(`${db}.${name}`);
    if (views && d) {
      views.delete(`${db}.${name}`);
      ctx.server.oplog.append({ op: 'd', ns: views.ns, ui: views.uuid, o: { _id: `${db}.${name}` } });
    }
    return true;
  }
  ctx.server.store.drop(db, name);
  ctx.server.oplog.append({
    op: 'c',
    ns: `${db}.$cmd`,
    ui: c.uuid,
    o: { drop: name },
    o2: { numRecords: c.docs.size },
  });
  return true;
}

function indexName(key: Document): string {
  return Object.entries(key)
    .map(([k, v]) => `${k}_${String(v)}`)
    .join('_');
}

/** The full spec mongod stores and logs (`v`, `key`, `name`, then the options), or null when it exists already. */
function indexSpec(coll: Collection, spec: Document): IndexSpec | null {
  const key = spec.key as Document;
  if (!key || typeof key !== 'object' || Object.keys(key).length === 0)
    throw E.badValue('Index key pattern must be a non-empty object.');
  const name = (spec.name as string) ?? indexName(key);
  const same = coll.indexes.find((i) => i.name === name);
  if (same) {
    if (Buffer.from(serialize(same.key)).equals(Buffer.from(serialize(key)))) return null;
    throw E.indexKeySpecsConflict(`An existing index has the same name as the requested index: ${name}`);
  }
  return {
    v: 2,
    key,
    name,
    ...Object.fromEntries(Object.entries(spec).filter(([k]) => !['key', 'name', 'v'].includes(k))),
  };
}

/** The first duplicate key a unique index would meet in the collection's documents. */
function duplicateOf(coll: Collection, ix: IndexSpec): MongoError | null {
  if (!ix.unique) return null;
  const fields = Object.keys(ix.key);
  const seen = new Set<string>();
  for (const d of coll.all()) {
    const values = fields.map((f) => getPath(d.js, f) ?? null);
    const sig = valueKey(values);
    if (seen.has(sig)) {
      const keyValue = Object.fromEntries(fields.map((f, n) => [f, values[n]]));
      const shown = fields.map((f, n) => `${f}: ${JSON.stringify(values[n])}`).join(', ');
      return E.duplicateKey(
        `E11000 duplicate key error collection: ${coll.ns} index: ${ix.name} dup key: { ${shown} }`,
        ix.key,
        keyValue,
      );
    }
    seen.add(sig);
  }
  return null;
}

/**
 * createIndexes as mongod logs it: on an empty collection one `createIndexes`
 * entry per index; on a non-empty one a two-phase build, `startIndexBuild`
 * then `commitIndexBuild` with all the indexes (or `abortIndexBuild` with the
 * cause when a unique index meets a duplicate). An applyOps replay
 * (`singlePhase`) logs createIndexes, as mongod's oplog application does.
 */
export function createIndexes(ctx: Ctx, coll: Collection, specs: Document[], singlePhase = false): number {
  const fresh: IndexSpec[] = [];
  for (const spec of specs) {
    const full = indexSpec(coll, spec);
    if (full && !fresh.some((f) => f.name === full.name)) fresh.push(full);
  }
  if (fresh.length === 0) return 0;
  const ns = `${coll.db}.$cmd`;
  if (coll.docs.size === 0 || singlePhase) {
    for (const full of fresh) {
      const dup = duplicateOf(coll, full);
      if (dup) throw dup;
      coll.indexes.push(full);
      ctx.server.oplog.append({ op: 'c', ns, ui: coll.uuid, o: { createIndexes: coll.name, ...full } });
    }
    return fresh.length;
  }
  const indexBuildUUID = new UUID();
  ctx.server.oplog.append({
    op: 'c',
    ns,
    ui: coll.uuid,
    o: { startIndexBuild: coll.name, indexBuildUUID, indexes: fresh },
  });
  for (const full of fresh) {
    const dup = duplicateOf(coll, full);
    if (!dup) continue;
    ctx.server.oplog.append({
      op: 'c',
      ns,
      ui: coll.uuid,
      o: {
        abortIndexBuild: coll.name,
        indexBuildUUID,
        indexes: fresh,
        cause: { ok: false, code: dup.code, codeName: dup.codeName, errmsg: dup.message, ...dup.extra },
      },
    });
    throw new MongoError(
      dup.code,
      dup.codeName,
      `Index build failed: ${indexBuildUUID.toHexString()}: Collection ${coll.ns} ( ${coll.uuid.toHexString()} ) :: caused by :: ${dup.message}`,
      dup.extra,
    );
  }
  coll.indexes.push(...fresh);
  ctx.server.oplog.append({
    op: 'c',
    ns,
    ui: coll.uuid,
    o: { commitIndexBuild: coll.name, indexBuildUUID, indexes: fresh },
  });
  return fresh.length;
}

function listCollectionEntry(c: Collection): Document {
  if (c.type === 'view') return { name: c.name, type: 'view', options: c.options, info: { readOnly: true } };
  return {
    name: c.name,
    type: c.type,
    options: c.options,
    info: { readOnly: false, uuid: c.uuid },
    ...(c.type === 'collection' ? { idIndex: { v: 2, key: { _id: 1 }, name: '_id_' } } : {}),
  };
}

export const ddlCommands: Record<string, Handler> = {
  create(ctx) {
    // idIndex describes the _id index to build (mongorestore sends it); mongod does not keep it among
    // the collection's options (listCollections shows it beside them).
    const { idIndex: _idIndex, ...options } = optionsOf(ctx.cmd, 'create');
    createCollection(ctx, ctx.db, ctx.cmd.create as string, options);
    return { ok: 1 };
  },

  drop(ctx) {
    const name = ctx.cmd.drop as string;
    const coll = ctx.server.store.collection(ctx.db, name);
    const nIndexesWas = coll?.indexes.length ?? 0;
    dropCollection(ctx, ctx.db, name);
    return { nIndexesWas, ns: `${ctx.db}.${name}`, ok: 1 };
  },

  dropdatabase(ctx) {
    const colls = [...(ctx.server.store.dbs.get(ctx.db)?.keys() ?? [])];
    // mongod logs a `drop` per collection, system.views included, then dropDatabase; views are
    // documents of system.views there, so they go with it and log nothing of their own.
    for (const c of colls) {
      if (ctx.server.store.collection(ctx.db, c)?.type === 'view') ctx.server.store.drop(ctx.db, c);
      else dropCollection(ctx, ctx.db, c);
    }
    ctx.server.store.dbs.delete(ctx.db);
    ctx.server.oplog.append({ op: 'c', ns: `${ctx.db}.$cmd`, o: { dropDatabase: 1 } });
    return { dropped: ctx.db, ok: 1 };
  },

  renamecollection(ctx) {
    const from = ctx.cmd.renameCollection as string;
    const to = ctx.cmd.to as string;
    const [fdb, ...fr] = from.split('.');
    const [tdb, ...tr] = to.split('.');
    const store = ctx.server.store;
    const src = store.collection(fdb!, fr.join('.'));
    if (!src) throw E.nsNotFound(`Source collection ${from} does not exist`);
    const target = store.collection(tdb!, tr.join('.'));
    if (target && !ctx.cmd.dropTarget) throw E.nsExists(`Target namespace exists: ${to}`);
    if (fdb !== tdb) throw E.badValue('Renaming across databases is not supported by the stand-in.');
    // mongod (4.2+, SERVER-28285) logs a rename over an existing collection as one entry: `dropTarget`
    // is the dropped collection's UUID and `o2.numRecords` its size; without a target, no `dropTarget`.
    const dropped = target ? { uuid: target.uuid, numRecords: target.docs.size } : null;
    if (target) store.drop(tdb!, tr.join('.'));
    store.drop(fdb!, fr.join('.'));
    src.name = tr.join('.');
    let dbMap = store.dbs.get(tdb!);
    if (!dbMap) store.dbs.set(tdb!, (dbMap = new Map()));
    dbMap.set(src.name, src);
    const o: Document = { renameCollection: from, to, stayTemp: false };
    if (dropped) o.dropTarget = dropped.uuid;
    ctx.server.oplog.append({
      op: 'c',
      ns: `${fdb}.$cmd`,
      ui: src.uuid,
      o,
      ...(dropped ? { o2: { numRecords: dropped.numRecords } } : {}),
    });
    return { ok: 1 };
  },

  collmod(ctx) {
    const name = ctx.cmd.collMod as string;
    const coll = ctx.server.store.collection(ctx.db, name);
    if (!coll) throw E.nsNotFound(`ns does not exist: ${ctx.db}.${name}`);
    const change = optionsOf(ctx.cmd, 'collMod');
    const result: Document = { ok: 1 };
    const o2: Document = {};
    if (change.index) {
      const idx = change.index as Document;
      const ix = coll.indexes.find(
        (i) =>
          i.name === idx.name ||
          (idx.keyPattern &&
            Buffer.from(serialize(i.key)).equals(Buffer.from(serialize(idx.keyPattern as Document)))),
      );
      if (!ix)
        throw E.indexNotFound(
          `cannot find index ${String(idx.name ?? JSON.stringify(idx.keyPattern))} for ns ${coll.ns}`,
        );
      for (const [k, v] of Object.entries(idx)) {
        if (k === 'name' || k === 'keyPattern') continue;
        o2[`${k}_old`] = ix[k];
        result[`${k}_old`] = ix[k];
        result[`${k}_new`] = v;
        ix[k] = v;
      }
    }
    for (const [k, v] of Object.entries(change)) if (k !== 'index') coll.options[k] = v;
    ctx.server.oplog.append({
      op: 'c',
      ns: `${ctx.db}.$cmd`,
      ui: coll.uuid,
      o: { collMod: name, ...change },
      ...(Object.keys(o2).length ? { o2 } : {}),
    });
    return result;
  },

  createindexes(ctx) {
    const coll = ctx.ensureColl(ctx.cmd.createIndexes as string);
    const before = coll.indexes.length;
    createIndexes(ctx, coll, (ctx.cmd.indexes ?? []) as Document[]);
    return {
      numIndexesBefore: before,
      numIndexesAfter: coll.indexes.length,
      createdCollectionAutomatically: false,
      ok: 1,
    };
  },

  dropindexes(ctx) {
    const name = ctx.cmd.dropIndexes as string;
    const coll = ctx.server.store.collection(ctx.db, name);
    if (!coll) throw E.nsNotFound(`ns not found ${ctx.db}.${name}`);
    const which = ctx.cmd.index;
    const nIndexesWas = coll.indexes.length;
    const names =
      which === '*'
        ? coll.indexes.filter((i) => i.name !== '_id_').map((i) => i.name)
        : Array.isArray(which)
          ? (which as string[])
          : typeof which === 'string'
            ? [which]
            : coll.indexes
                .filter((i) =>
                  Buffer.from(serialize(i.key)).equals(Buffer.from(serialize(which as Document))),
                )
                .map((i) => i.name);
    for (const n of names) {
      if (n === '_id_') throw E.invalidOptions('cannot drop _id index');
      const ix = coll.indexes.find((i) => i.name === n);
      if (!ix) throw E.indexNotFound(`index not found with name [${n}]`);
      coll.indexes = coll.indexes.filter((i) => i !== ix);
      ctx.server.oplog.append({
        op: 'c',
        ns: `${ctx.db}.$cmd`,
        ui: coll.uuid,
        o: { dropIndexes: name, index: n },
        o2: { ...ix },
      });
    }
    return { nIndexesWas, ok: 1 };
  },

  listdatabases(ctx) {
    const dbs = [...ctx.server.store.dbs.entries()].map(([name, colls]) => {
      const size = [...colls.values()].reduce((n, c) => n + c.dataSize(), 0);
      return { name, sizeOnDisk: size + 4096, empty: colls.size === 0 };
    });
    dbs.push({
      name: 'local',
      sizeOnDisk: ctx.server.oplog.entries.reduce((n, e) => n + e.raw.byteLength, 0) + 4096,
      empty: false,
    });
    const filtered = ctx.cmd.filter
      ? (new Query(ctx.cmd.filter as Document).find(dbs).all() as typeof dbs)
      : dbs;
    if (ctx.cmd.nameOnly) return { databases: filtered.map((d) => ({ name: d.name })), ok: 1 };
    return {
      databases: filtered,
      totalSize: filtered.reduce((n, d) => n + d.sizeOnDisk, 0),
      totalSizeMb: 0,
      ok: 1,
    };
  },

  listcollections(ctx, cursors) {
    let entries = [...(ctx.server.store.dbs.get(ctx.db)?.values() ?? [])].map(listCollectionEntry);
    if (ctx.db === 'local')
      entries.push({
        name: 'oplog.rs',
        type: 'collection',
        options: { capped: true, size: 990 * 1024 * 1024 },
        info: { readOnly: false },
      });
    if (ctx.cmd.filter) entries = new Query(ctx.cmd.filter as Document).find(entries).all() as Document[];
    if (ctx.cmd.nameOnly) entries = entries.map((e) => ({ name: e.name, type: e.type }));
    const batchSize = (ctx.cmd.cursor as Document | undefined)?.batchSize as number | undefined;
    return cursors.firstBatch(
      `${ctx.db}.$cmd.listCollections`,
      entries.map((e) => serialize(e)),
      batchSize,
      false,
      ctx.extra(),
    );
  },

  listindexes(ctx, cursors) {
    const name = ctx.cmd.listIndexes as string;
    const coll = ctx.coll(name);
    if (!coll) throw E.nsNotFound(`ns does not exist: ${ctx.db}.${name}`);
    const batchSize = (ctx.cmd.cursor as Document | undefined)?.batchSize as number | undefined;
    return cursors.firstBatch(
      `${ctx.db}.$cmd.listIndexes.${name}`,
      coll.indexes.map((i) => serialize(i)),
      batchSize,
      false,
      ctx.extra(),
    );
  },
};
