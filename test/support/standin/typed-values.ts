/**
 * Keeping BSON types through updates. Queries and update operators run on
 * promoted JavaScript values (mingo), where Double(2.0) and Int32(2) are the
 * same number; the document the server stores must keep the types mongod
 * would keep. `retype` puts the types back: a value equal to the one the
 * client sent ($set, a replacement) or to the pre-image's takes that type.
 */
import { Double, Int32, Long, deserialize, serialize, type Document } from 'bson';
import { parseDoc, type RValue } from '../reference-applier.js';

export const TYPED_OPTS = { promoteValues: false, promoteLongs: false, bsonRegExp: true } as const;

/** Decodes without promoting numbers (Int32, Double, Long stay wrapped) and without re-ordering anything. */
export const decodeTyped = (raw: Uint8Array): Document => deserialize(raw, TYPED_OPTS);

/** A plain (sub)document, as opposed to arrays and BSON values (ObjectId, Date, Binary, Double…). */
export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  (v as { _bsontype?: unknown })._bsontype === undefined &&
  !(v instanceof Date) &&
  !(v instanceof RegExp) &&
  !ArrayBuffer.isView(v);

const NUMERIC = new Set(['Int32', 'Double', 'Long', 'Decimal128']);

function numericValue(v: unknown): number | null {
  const t = (v as { _bsontype?: string })?._bsontype;
  if (t === 'Int32' || t === 'Double') return Number((v as { value: number }).value);
  if (t === 'Long') return Number((v as { toNumber(): number }).toNumber());
  return null;
}

const child = (h: unknown, k: string | number): unknown =>
  Array.isArray(h) ? h[Number(k)] : isPlainObject(h) ? h[String(k)] : undefined;

/** The result type of arithmetic ($inc, $mul) at a path: the wider operand, as mongod computes. */
export class TypeHint {
  constructor(readonly type: 'Int32' | 'Long' | 'Double') {}
}

const RANK = { Int32: 0, Long: 1, Double: 2 } as const;
const numType = (v: unknown): keyof typeof RANK | null => {
  const t = (v as { _bsontype?: string })?._bsontype;
  return t === 'Int32' || t === 'Long' || t === 'Double' ? t : null;
};

/** Type hints for the paths an update's $inc / $mul changes (pre and operand typed). */
export function arithmeticHints(typedSpec: Document | undefined, preTyped: Document): Document {
  const out: Document = {};
  for (const op of ['$inc', '$mul']) {
    const spec = typedSpec?.[op] as Document | undefined;
    if (!isPlainObject(spec)) continue;
    for (const [path, operand] of Object.entries(spec)) {
      const parts = path.split('.');
      let cur: unknown = preTyped;
      for (const p of parts) cur = child(cur, p);
      const a = numType(cur) ?? 'Int32';
      const b = numType(operand);
      if (!b) continue;
      let at: Document = out;
      for (const p of parts.slice(0, -1)) {
        if (!isPlainObject(at[p])) at[p] = {};
        at = at[p] as Document;
      }
      at[parts[parts.length - 1]!] = new TypeHint(RANK[a] >= RANK[b] ? a : b);
    }
  }
  return out;
}

/** `js` (promoted) with each number given the type of the first hint holding the same number there. */
export function retype(js: unknown, hints: unknown[]): unknown {
  if (typeof js === 'number') {
    for (const h of hints) {
      if (h instanceof TypeHint) {
        if (h.type === 'Double') return new Double(js);
        if (h.type === 'Long' && Number.isInteger(js)) return Long.fromNumber(js);
        if (Number.isInteger(js) && Math.abs(js) < 2 ** 31) return new Int32(js);
        return Number.isInteger(js) ? Long.fromNumber(js) : new Double(js);
      }
      const t = (h as { _bsontype?: string })?._bsontype;
      if (t && NUMERIC.has(t) && numericValue(h) === js) return h;
    }
    return js;
  }
  if (Array.isArray(js))
    return js.map((v, k) =>
      retype(
        v,
        hints.map((h) => child(h, k)),
      ),
    );
  if (isPlainObject(js)) {
    const out: Document = {};
    for (const [k, v] of Object.entries(js))
      out[k] = retype(
        v,
        hints.map((h) => child(h, k)),
      );
    return out;
  }
  return js;
}

/** The values an update spec sets ($set, $setOnInsert), as a nested hint document. */
export function setHints(typedSpec: Document | undefined): Document {
  const out: Document = {};
  if (!typedSpec) return out;
  for (const op of ['$set', '$setOnInsert']) {
    const set = typedSpec[op] as Document | undefined;
    if (!isPlainObject(set)) continue;
    for (const [path, v] of Object.entries(set)) {
      const parts = path.split('.');
      let cur: Document = out;
      for (const p of parts.slice(0, -1)) {
        if (!isPlainObject(cur[p])) cur[p] = {};
        cur = cur[p] as Document;
      }
      cur[parts[parts.length - 1]!] = v;
    }
  }
  return out;
}

/** Field order of a stored document, read from its raw bytes (JavaScript objects put "2024" first). */
export interface Order {
  keys: string[];
  child: (k: string) => Order | undefined;
}

export function orderOf(v: RValue | undefined): Order | undefined {
  if (!v || v.kind === 'leaf') return undefined;
  const entries: [string, RValue][] =
    v.kind === 'doc' ? v.fields : v.items.map((x, k) => [String(k), x] as [string, RValue]);
  const map = new Map(entries);
  return { keys: entries.map(([k]) => k), child: (k) => orderOf(map.get(k)) };
}

export const rawOrder = (raw: Uint8Array | undefined): Order | undefined =>
  raw ? orderOf(parseDoc(raw)) : undefined;

function element(name: string, v: unknown): Buffer {
  const b = Buffer.from(serialize({ [name]: v }));
  return b.subarray(4, b.length - 1);
}

function wrap(body: Buffer): Buffer {
  const out = Buffer.alloc(body.length + 5);
  out.writeInt32LE(out.length, 0);
  body.copy(out, 4);
  return out;
}

function encodeValue(name: string, v: unknown, orders: (Order | undefined)[]): Buffer {
  const sub = orders.map((o) => o?.child(name));
  if (Array.isArray(v)) {
    const body = Buffer.concat(v.map((x, k) => encodeValue(String(k), x, sub)));
    return Buffer.concat([Buffer.from([0x04]), Buffer.from(`${name}\0`), wrap(body)]);
  }
  if (isPlainObject(v))
    return Buffer.concat([Buffer.from([0x03]), Buffer.from(`${name}\0`), encodeOrdered(v, sub, false)]);
  return element(name, v);
}

/**
 * Serializes `doc` with its fields in mongod's order: `_id` first, then fields
 * as ordered in the first of `orders` that has them (the pre-image), then new
 * ones in the order update operators process names (numeric names numerically).
 */
export function encodeOrdered(doc: Document, orders: (Order | undefined)[], idFirst = true): Buffer {
  const present = new Set(Object.keys(doc).filter((k) => doc[k] !== undefined));
  const keys: string[] = [];
  const take = (k: string) => {
    if (present.has(k)) {
      keys.push(k);
      present.delete(k);
    }
  };
  if (idFirst) take('_id');
  for (const o of orders) for (const k of o?.keys ?? []) take(k);
  const rest = [...present].sort((a, b) => {
    const na = /^\d+$/.test(a);
    const nb = /^\d+$/.test(b);
    if (na && nb) return Number(a) - Number(b);
    return a < b ? -1 : a > b ? 1 : 0;
  });
  keys.push(...rest);
  return wrap(Buffer.concat(keys.map((k) => encodeValue(k, doc[k], orders))));
}
