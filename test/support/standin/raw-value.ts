/**
 * Embeds already-encoded BSON documents inside a document being serialized
 * (the `o` of insert oplog entries keeps the client's exact bytes, also inside
 * a transaction's applyOps). The bson package cannot embed raw bytes itself.
 */
import { serialize, type Document } from 'bson';
import { isPlainObject } from './typed-values.js';

export class RawValue {
  constructor(readonly bytes: Uint8Array) {}
}

function containsRaw(v: unknown): boolean {
  if (v instanceof RawValue) return true;
  if (Array.isArray(v)) return v.some(containsRaw);
  if (isPlainObject(v)) return Object.values(v).some(containsRaw);
  return false;
}

function element(type: number, name: string, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([type]), Buffer.from(`${name}\0`), body]);
}

function encode(obj: Document | unknown[]): Buffer {
  const entries = Array.isArray(obj) ? obj.map((v, k) => [String(k), v] as const) : Object.entries(obj);
  const parts: Buffer[] = [];
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    if (v instanceof RawValue) parts.push(element(0x03, k, v.bytes));
    else if (Array.isArray(v) && containsRaw(v)) parts.push(element(0x04, k, encode(v)));
    else if (isPlainObject(v) && containsRaw(v)) parts.push(element(0x03, k, encode(v)));
    else {
      const b = Buffer.from(serialize({ [k]: v }));
      parts.push(b.subarray(4, b.length - 1));
    }
  }
  const body = Buffer.concat(parts);
  const out = Buffer.alloc(body.length + 5);
  out.writeInt32LE(out.length, 0);
  body.copy(out, 4);
  return out;
}

export function serializeWithRaw(doc: Document): Uint8Array {
  return containsRaw(doc) ? encode(doc) : serialize(doc);
}
