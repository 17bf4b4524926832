/**
 * `<coll>.metadata.json` (and the archive prelude's `metadata` string): the
 * collection's options, indexes, UUID, name and type as canonical Extended
 * JSON, in mongodump's field order (options, indexes, uuid, collectionName,
 * type). mongodump omits empty options, a missing UUID and the type of an
 * ordinary collection; older versions wrote `"options":{}` and no
 * collectionName. A dump imported into the repository keeps the list of
 * fields its files had, so that exporting it again writes the same fields.
 */
import { EJSON } from 'bson';
import { ApiError } from '../errors.js';
import type { NamespaceType } from '../repo/snapshot-files.js';

export const METADATA_FIELDS = ['options', 'indexes', 'uuid', 'collectionName', 'type'] as const;
export type MetadataField = (typeof METADATA_FIELDS)[number];

export interface DumpMetadata {
  /** Canonical Extended JSON objects, as the manifest stores them. */
  options: Record<string, unknown>;
  indexes: Record<string, unknown>[];
  uuid: string | null;
  collectionName: string | null;
  type: NamespaceType;
  /** The top-level fields the file had, in its order. */
  fields: MetadataField[];
}

const canonical = (v: unknown) =>
  JSON.parse(EJSON.stringify(v as never, { relaxed: false })) as Record<string, unknown>;

/**
 * In relaxed Extended JSON, Go's reader (mongorestore's) takes a number
 * written with a fraction or exponent (`1.0`, `1e3`) as a double and other
 * numbers as integers; JSON.parse cannot tell `1.0` from `1`, so such
 * numbers are rewritten as canonical `$numberDouble` first (outside strings).
 */
function markDoubles(text: string): string {
  let out = '';
  let k = 0;
  while (k < text.length) {
    const c = text[k]!;
    if (c === '"') {
      let j = k + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(k, j + 1);
      k = j + 1;
      continue;
    }
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(k, k + 64));
    if (m && (c === '-' || (c >= '0' && c <= '9'))) {
      out += m[1] || m[2] ? `{"$numberDouble":"${m[0]}"}` : m[0];
      k += m[0].length;
      continue;
    }
    out += c;
    k++;
  }
  return out;
}

/** Parses a metadata document; relaxed and canonical Extended JSON are both accepted, as mongorestore does. */
export function parseDumpMetadata(text: string, label: string): DumpMetadata {
  let doc: Record<string, unknown>;
  try {
    // relaxed: false keeps `2` an Int32 and `1.0` a Double, as Go's Extended JSON reader types them.
    doc = EJSON.parse(markDoubles(text), { relaxed: false }) as Record<string, unknown>;
  } catch (err) {
    throw new ApiError('INVALID_INPUT', `${label} is not valid Extended JSON: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw new ApiError('INVALID_INPUT', `${label} is not a JSON object.`);
  const fields = Object.keys(doc).filter((k): k is MetadataField =>
    (METADATA_FIELDS as readonly string[]).includes(k),
  );
  const options = doc.options ?? {};
  const indexes = doc.indexes ?? [];
  if (typeof options !== 'object' || Array.isArray(options) || options === null)
    throw new ApiError('INVALID_INPUT', `${label}: "options" is not an object.`);
  if (!Array.isArray(indexes)) throw new ApiError('INVALID_INPUT', `${label}: "indexes" is not an array.`);
  const type = doc.type === 'view' ? 'view' : doc.type === 'timeseries' ? 'timeseries' : 'collection';
  return {
    options: canonical(options),
    indexes: indexes.map((i) => canonical(i)),
    uuid: typeof doc.uuid === 'string' && doc.uuid ? doc.uuid : null,
    collectionName: typeof doc.collectionName === 'string' ? doc.collectionName : null,
    type,
    fields,
  };
}

/** The metadata text mongodump would write for a namespace (no spaces, HTML not escaped). */
export function dumpMetadataJson(
  m: Omit<DumpMetadata, 'fields' | 'collectionName'> & { name: string; fields?: readonly MetadataField[] },
): string {
  const out: Record<string, unknown> = {};
  const fields: readonly MetadataField[] = m.fields ?? [
    ...(Object.keys(m.options).length ? (['options'] as const) : []),
    'indexes',
    ...(m.uuid ? (['uuid'] as const) : []),
    'collectionName',
    ...(m.type !== 'collection' ? (['type'] as const) : []),
  ];
  for (const f of fields) {
    if (f === 'options') out.options = m.options;
    else if (f === 'indexes') out.indexes = m.indexes;
    else if (f === 'uuid') {
      if (m.uuid) out.uuid = m.uuid;
    } else if (f === 'collectionName') out.collectionName = m.name;
    else if (m.type !== 'collection') out.type = m.type;
  }
  return JSON.stringify(out);
}
