/**
 * The restore validation checklist: a target deployment held against the
 * backup's own state at the same point (the offline replay of the plan), as
 * the seed documents' checklist asks: collections present, document counts,
 * index definitions, collection options, and documents compared byte for
 * byte (a sample, or all of them). Every finding names the namespace and
 * what differs, so a failed check can be acted on.
 */
import { EJSON, deserialize, type Document } from 'bson';
import type { MongoClient } from 'mongodb';
import type { Plan } from '../restore/planner.js';
import { toDriverDocument } from '../mongo/driver-document.js';
import type { NamespaceFilter } from '../oplog/namespace-selection.js';
import { docOf, elementBytes, field } from '../oplog/bson-raw.js';
import type { Repository } from '../repo/repository.js';
import { buildOfflineState } from '../restore/offline-state.js';
import { INCOMPLETE_MARKER, targetOf } from '../restore/restore-to-mongo.js';
import type { OfflineState } from '../restore/offline-state.js';
import {
  ROLES_NS,
  USERS_NS,
  authzDatabaseMap,
  mapAuthzDocuments,
  targetAuthz,
} from '../restore/users-roles.js';
import type { TaskContext } from '../tasks/task-runner.js';

export type CheckName = 'collections' | 'counts' | 'indexes' | 'options' | 'documents' | 'users';

export interface ValidationCheck {
  name: CheckName;
  title: string;
  passed: boolean;
  findings: string[];
}

export interface ValidationReport {
  passed: boolean;
  point: string;
  snapshotId: string;
  namespaces: number;
  documentsCompared: number;
  checks: ValidationCheck[];
  durationMs: number;
}

const TITLES: Record<CheckName, string> = {
  collections: 'Databases and collections present',
  counts: 'Document counts per namespace',
  indexes: 'Index definitions (keys, unique, TTL, partial, collation, hidden)',
  options: 'Collection options (validators, capped, time-series, clustered, views)',
  documents: 'Documents identical to the backup, byte for byte',
  users: 'Users and roles of the restored databases',
};

/** The index fields that define its behaviour (not `v` or `ns`, which a target may write differently). */
const INDEX_FIELDS = [
  'key',
  'unique',
  'expireAfterSeconds',
  'partialFilterExpression',
  'collation',
  'hidden',
  'sparse',
  'weights',
  'default_language',
  '2dsphereIndexVersion',
  'wildcardProjection',
];
/** Collection options compared (a target assigns its own uuid). */
const OPTION_FIELDS = [
  'capped',
  'size',
  'max',
  'validator',
  'validationLevel',
  'validationAction',
  'collation',
  'timeseries',
  'expireAfterSeconds',
  'clusteredIndex',
  'viewOn',
  'pipeline',
  'changeStreamPreAndPostImages',
];

const canon = (v: unknown): string => EJSON.stringify(v, { relaxed: false });
const pick = (d: Document, names: string[]): Document =>
  Object.fromEntries(names.filter((n) => d[n] !== undefined).map((n) => [n, d[n]]));
const decode = (b: Buffer): Document => deserialize(b, { promoteValues: false, bsonRegExp: true });
const dbOf = (ns: string) => ns.slice(0, ns.indexOf('.'));
const collOf = (ns: string) => ns.slice(ns.indexOf('.') + 1);

export interface ValidationRequest {
  repo: Repository;
  plan: Extract<Plan, { ok: true }>;
  point: string;
  client: MongoClient;
  selection: NamespaceFilter;
  /** Documents compared per namespace; all when `full`. */
  sample: number;
  full: boolean;
  /** Also check the users and roles of the restored databases (admin.system.users / roles). */
  usersRoles?: boolean;
  ctx?: TaskContext;
}

export async function validateRestore(req: ValidationRequest): Promise<ValidationReport> {
  const started = performance.now();
  const checks = Object.fromEntries(
    (Object.keys(TITLES) as CheckName[])
      .filter((name) => name !== 'users' || req.usersRoles)
      .map((name) => [name, { name, title: TITLES[name], passed: true, findings: [] as string[] }]),
  ) as Record<CheckName, ValidationCheck>;
  const fail = (name: CheckName, finding: string) => {
    checks[name].passed = false;
    if (checks[name].findings.length < 50) checks[name].findings.push(finding);
  };

  req.ctx?.progress({ message: 'replaying the backup to the point' });
  const state = await buildOfflineState(req.repo, req.plan, { usersAndRoles: !!req.usersRoles });
  const expected = [...state]
    .map(([ns, c]) => ({ ns, c, target: targetOf(req.selection, ns) }))
    .filter((x): x is typeof x & { target: string } => x.target !== null);
  let compared = 0;

  const targetDbs = new Set(expected.map((e) => dbOf(e.target)));
  const present = new Map<string, Document>();
  for (const db of targetDbs)
    for (const c of await req.client.db(db).listCollections().toArray())
      present.set(`${db}.${c.name}`, c as Document);

  for (const e of expected) {
    req.ctx?.throwIfCancelled();
    req.ctx?.progress({ message: `checking ${e.target}` });
    const info = present.get(e.target);
    if (!info) {
      fail('collections', `${e.target} is missing (backup: ${e.c.docs.size} documents).`);
      continue;
    }
    const coll = req.client.db(dbOf(e.target)).collection(collOf(e.target));
    const isView = (info as { type?: string }).type === 'view';

    // Options.
    const want = pick(decode(e.c.options), OPTION_FIELDS);
    const got = pick((info as { options?: Document }).options ?? {}, OPTION_FIELDS);
    if (canon(want) !== canon(got))
      fail('options', `${e.target}: options differ: backup ${canon(want)}, target ${canon(got)}.`);
    if (isView) continue;

    // Counts.
    const count = await coll.countDocuments({});
    if (count !== e.c.docs.size)
      fail('counts', `${e.target}: ${count} documents on the target, ${e.c.docs.size} in the backup.`);

    // Indexes, by name.
    const wantIx = new Map(
      e.c.indexes.map((b) => decode(b)).map((ix) => [String(ix.name), canon(pick(ix, INDEX_FIELDS))]),
    );
    const gotIx = new Map(
      (await coll.listIndexes().toArray()).map((ix: Document) => [
        String(ix.name),
        canon(pick(ix, INDEX_FIELDS)),
      ]),
    );
    for (const [name, def] of wantIx) {
      if (!gotIx.has(name)) fail('indexes', `${e.target}: index ${name} is missing (${def}).`);
      else if (gotIx.get(name) !== def)
        fail('indexes', `${e.target}: index ${name} differs: backup ${def}, target ${gotIx.get(name)!}.`);
    }
    for (const name of gotIx.keys())
      if (!wantIx.has(name)) fail('indexes', `${e.target}: index ${name} is not in the backup.`);

    // Documents, byte for byte: a sample spread over the collection in _id order, or all.
    const docs = [...e.c.docs.values()];
    const step = req.full || docs.length <= req.sample ? 1 : docs.length / req.sample;
    const chosen: Buffer[] = [];
    for (let k = 0; k < docs.length && chosen.length < (req.full ? docs.length : req.sample); k += step)
      chosen.push(docs[Math.floor(k)]!);
    for (let k = 0; k < chosen.length; k += 500) {
      const batch = chosen.slice(k, k + 500);
      const ids = batch.map((d) => toDriverDocument(docOf(elementBytes(d, field(d, '_id')!))));
      // One $in on _id: mongod reads it from the _id index, whatever the collection's size.
      const found = (await coll
        .find({ _id: { $in: ids.map((d) => (d as Document)._id) } }, { raw: true })
        .toArray()) as unknown as Uint8Array[];
      const byId = new Map(found.map((raw) => [idHex(Buffer.from(raw)), Buffer.from(raw)]));
      for (const d of batch) {
        compared++;
        const id = idHex(d);
        const t = byId.get(id);
        const idText = canon(decode(docOf(elementBytes(d, field(d, '_id')!)))._id);
        if (!t) fail('documents', `${e.target}: document _id ${idText} is missing.`);
        else if (Buffer.compare(t, d) !== 0)
          fail(
            'documents',
            `${e.target}: document _id ${idText} differs: backup ${canon(decode(d))}, target ${canon(decode(t))}.`,
          );
      }
    }
  }
  // Collections the backup does not have, in the databases restored into.
  const expectedTargets = new Set(expected.map((e) => e.target));
  for (const ns of present.keys()) {
    const c = collOf(ns);
    if (expectedTargets.has(ns) || c === INCOMPLETE_MARKER || c.startsWith('system.')) continue;
    fail('collections', `${ns} is on the target but not in the backup at this point.`);
  }

  if (req.usersRoles) await checkUsersAndRoles(req, state, expected, fail);

  const list = Object.values(checks);
  return {
    passed: list.every((c) => c.passed),
    point: req.point,
    snapshotId: req.plan.snapshot.id,
    namespaces: expected.length,
    documentsCompared: compared,
    checks: list,
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * The target's users and roles of the restored databases against the backup's at the point (filtered
 * and renamed as the restore does), document for document by `_id`, byte for byte.
 */
async function checkUsersAndRoles(
  req: ValidationRequest,
  state: OfflineState,
  expected: { ns: string; target: string }[],
  fail: (name: CheckName, finding: string) => void,
): Promise<void> {
  let map: (db: string) => string | null;
  try {
    map = authzDatabaseMap(
      req.selection,
      expected.map((e) => ({ source: e.ns, target: e.target })),
    );
  } catch (err) {
    fail('users', (err as Error).message);
    return;
  }
  for (const [kind, ns] of [
    ['users', USERS_NS],
    ['roles', ROLES_NS],
  ] as const) {
    const want = mapAuthzDocuments([...(state.get(ns)?.docs.values() ?? [])], kind, map);
    const dbs = new Set(expected.map((e) => dbOf(e.target)));
    for (const d of want) dbs.add(String(decode(d).db));
    const got = await targetAuthz(req.client, kind, [...dbs]);
    const key = (d: Buffer) => String(decode(d)._id);
    const gotById = new Map(got.map((d) => [key(d), d]));
    const wantIds = new Set(want.map(key));
    for (const d of want) {
      const t = gotById.get(key(d));
      if (!t) fail('users', `${kind === 'users' ? 'user' : 'role'} ${key(d)} is missing on the target.`);
      else if (Buffer.compare(t, d) !== 0)
        fail(
          'users',
          `${kind === 'users' ? 'user' : 'role'} ${key(d)} differs: backup ${canon(withoutSecrets(decode(d)))}, target ${canon(withoutSecrets(decode(t)))}.`,
        );
    }
    for (const id of gotById.keys())
      if (!wantIds.has(id))
        fail(
          'users',
          `${kind === 'users' ? 'user' : 'role'} ${id} is on the target but not in the backup at this point.`,
        );
  }
}

/** A user document without its credentials (a finding must not print password hashes). */
const withoutSecrets = (d: Document): Document => {
  const { credentials: _c, ...rest } = d;
  return rest;
};

/** The _id element's type and bytes: equal exactly when the _id values are the same BSON value. */
function idHex(doc: Buffer): string {
  const e = field(doc, '_id');
  return e ? elementBytes(doc, e).toString('hex') : '';
}
