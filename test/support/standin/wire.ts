/**
 * MongoDB wire protocol framing for the stand-in: OP_MSG (2013) with body
 * and document-sequence sections, and the legacy OP_QUERY (2004) / OP_REPLY
 * (1) pair that drivers still use for the very first `hello`.
 */
import { deserialize, onDemand, serialize, type Document } from 'bson';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;
export const OP_COMPRESSED = 2012;

const CHECKSUM_PRESENT = 1;
const MORE_TO_COME = 2;

export interface Incoming {
  requestId: number;
  opCode: number;
  /** The command document, with kind-1 sequences folded in as arrays (as the server does). */
  command: Document;
  /** OP_QUERY: the collection name (e.g. admin.$cmd). */
  fullCollectionName?: string;
  moreToCome: boolean;
  /** Raw bytes of each document of `documents` (insert), so stored documents keep their exact BSON. */
  rawDocuments?: Uint8Array[];
  /** Raw bytes of each applyOps operation's `o` (applyOps), for exact replays. */
  rawApplyOpsO?: (Uint8Array | undefined)[];
  /** Raw bytes of each update statement's `u` (update), so updates keep the client's BSON types and order. */
  rawUpdates?: (Uint8Array | undefined)[];
  /** Raw bytes of findAndModify's `update` document. */
  rawFamUpdate?: Uint8Array;
}

/** The raw bytes of an embedded-document field. */
export function rawField(doc: Uint8Array, field: string): Uint8Array | undefined {
  const name = Buffer.from(field);
  for (const [type, nameOff, nameLen, off, len] of onDemand.parseToElements(doc) as Iterable<Element>) {
    if (
      type === 3 &&
      nameLen === name.length &&
      Buffer.from(doc.buffer, doc.byteOffset + nameOff, nameLen).equals(name)
    )
      return doc.subarray(off, off + len);
  }
  return undefined;
}

type Element = [type: number, nameOffset: number, nameLength: number, offset: number, length: number];

/** The raw bytes of the documents in array field `field` of a BSON document. */
export function rawArrayDocs(doc: Uint8Array, field: string): Uint8Array[] | undefined {
  const name = Buffer.from(field);
  for (const [type, nameOff, nameLen, off, len] of onDemand.parseToElements(doc) as Iterable<Element>) {
    if (
      type !== 4 ||
      nameLen !== name.length ||
      !Buffer.from(doc.buffer, doc.byteOffset + nameOff, nameLen).equals(name)
    )
      continue;
    const arr = doc.subarray(off, off + len);
    return [...(onDemand.parseToElements(arr) as Iterable<Element>)].map(([, , , o, l]) =>
      arr.subarray(o, o + l),
    );
  }
  return undefined;
}

/** Moves `_id` to the front of a raw document, as the server stores it, without re-encoding anything. */
export function idFirstRaw(doc: Uint8Array): Uint8Array {
  const elements = [...(onDemand.parseToElements(doc) as Iterable<Element>)];
  const isId = ([, nameOff, nameLen]: Element) =>
    nameLen === 3 && Buffer.from(doc.buffer, doc.byteOffset + nameOff, 3).toString() === '_id';
  const k = elements.findIndex(isId);
  if (k <= 0) return doc;
  const span = ([, nameOff, , off, len]: Element) => doc.subarray(nameOff - 1, off + len);
  const body = Buffer.concat([span(elements[k]!), ...elements.filter((_, j) => j !== k).map(span)]);
  const out = Buffer.alloc(body.length + 5);
  out.writeInt32LE(out.length, 0);
  body.copy(out, 4);
  return out;
}

const BSON_OPTS = { promoteLongs: false, promoteValues: true, bsonRegExp: true } as const;

export function decodeBson(buf: Uint8Array): Document {
  return deserialize(buf, BSON_OPTS);
}

function readCString(buf: Buffer, at: number): [string, number] {
  const end = buf.indexOf(0, at);
  if (end < 0) throw new Error('unterminated cstring');
  return [buf.toString('utf8', at, end), end + 1];
}

/** Parses one whole message (header included). */
export function parseMessage(msg: Buffer): Incoming {
  const requestId = msg.readInt32LE(4);
  const opCode = msg.readInt32LE(12);
  if (opCode === OP_MSG) {
    const flags = msg.readUInt32LE(16);
    const end = msg.length - (flags & CHECKSUM_PRESENT ? 4 : 0);
    let pos = 20;
    let body: Document | null = null;
    let bodyRaw: Uint8Array | null = null;
    let rawDocuments: Uint8Array[] | undefined;
    let rawUpdateStatements: Uint8Array[] | undefined;
    const sequences: Record<string, Document[]> = {};
    while (pos < end) {
      const kind = msg[pos++]!;
      if (kind === 0) {
        const len = msg.readInt32LE(pos);
        bodyRaw = msg.subarray(pos, pos + len);
        body = decodeBson(bodyRaw);
        pos += len;
      } else if (kind === 1) {
        const size = msg.readInt32LE(pos);
        const stop = pos + size;
        const [id, after] = readCString(msg, pos + 4);
        let p = after;
        const docs: Document[] = [];
        const raws: Uint8Array[] = [];
        while (p < stop) {
          const len = msg.readInt32LE(p);
          raws.push(msg.subarray(p, p + len));
          docs.push(decodeBson(msg.subarray(p, p + len)));
          p += len;
        }
        sequences[id] = docs;
        if (id === 'documents') rawDocuments = raws;
        if (id === 'updates') rawUpdateStatements = raws;
        pos = stop;
      } else throw new Error(`unknown OP_MSG section kind ${kind}`);
    }
    if (!body) throw new Error('OP_MSG without a body section');
    for (const [id, docs] of Object.entries(sequences)) body[id] = docs;
    if (!rawDocuments && bodyRaw && 'insert' in body) rawDocuments = rawArrayDocs(bodyRaw, 'documents');
    const rawApplyOpsO =
      bodyRaw && 'applyOps' in body
        ? rawArrayDocs(bodyRaw, 'applyOps')?.map((op) => rawField(op, 'o'))
        : undefined;
    if (!rawUpdateStatements && bodyRaw && 'update' in body)
      rawUpdateStatements = rawArrayDocs(bodyRaw, 'updates');
    const rawUpdates = rawUpdateStatements?.map((u) => rawField(u, 'u'));
    const rawFamUpdate =
      bodyRaw && ('findAndModify' in body || 'findandmodify' in body)
        ? rawField(bodyRaw, 'update')
        : undefined;
    return {
      requestId,
      opCode,
      command: body,
      moreToCome: (flags & MORE_TO_COME) !== 0,
      ...(rawDocuments ? { rawDocuments } : {}),
      ...(rawApplyOpsO ? { rawApplyOpsO } : {}),
      ...(rawUpdates ? { rawUpdates } : {}),
      ...(rawFamUpdate ? { rawFamUpdate } : {}),
    };
  }
  if (opCode === OP_QUERY) {
    const [ns, after] = readCString(msg, 20);
    const qpos = after + 8; // numberToSkip, numberToReturn
    const len = msg.readInt32LE(qpos);
    let command = decodeBson(msg.subarray(qpos, qpos + len));
    if (command.$query) command = command.$query as Document; // wrapped form
    return { requestId, opCode, command, fullCollectionName: ns, moreToCome: false };
  }
  throw new Error(`unsupported opCode ${opCode}`);
}

let nextId = 1;

function header(length: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(nextId++ & 0x7fffffff, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

/** Raw, pre-serialized documents pass through untouched (exact BSON round trip). */
export class RawDoc {
  constructor(readonly bytes: Uint8Array) {}
}

/** Serializes a reply body; RawDoc values inside `cursor.firstBatch/nextBatch` are spliced in as is. */
export function serializeReply(doc: Document): Buffer {
  return Buffer.from(serialize(doc, { ignoreUndefined: true }));
}

export function opMsgReply(responseTo: number, body: Buffer): Buffer {
  const flags = Buffer.alloc(5); // flagBits 0, section kind 0
  return Buffer.concat([header(16 + 5 + body.length, responseTo, OP_MSG), flags, body]);
}

export function opReply(responseTo: number, body: Buffer): Buffer {
  const fixed = Buffer.alloc(20); // responseFlags, cursorID(8), startingFrom, numberReturned
  fixed.writeInt32LE(1, 16);
  return Buffer.concat([header(16 + 20 + body.length, responseTo, OP_REPLY), fixed, body]);
}
