/**
 * The `o` of an update entry applied to a raw BSON document, as applyOps
 * (what mongorestore sends) applies it:
 *  - `{$v: 2, diff}` (MongoDB 5.0+): apply-diff.ts (mongod's applier);
 *  - `$set` / `$unset`, with `$v: 1` or no `$v` (MongoDB 4.x): apply-modifiers.ts;
 *  - anything else is a replacement: the whole new document (mongod logs
 *    `replaceOne` that way), `_id` first.
 * A missing document is upserted (applyOps' `alwaysUpsert` default): the
 * update applies to the entry's `o2` (`{_id}`, plus a shard key when there is
 * one), so replaying a range twice converges.
 */
import { ApiError } from '../errors.js';
import { applyObjectDiff } from './apply-diff.js';
import { applyModifiers } from './apply-modifiers.js';
import {
  DocBuilder,
  T,
  copyDocument,
  elementBytes,
  elements,
  field,
  readNumber,
  subDocument,
  type RawElement,
} from './bson-raw.js';

export type UpdateKind = 'diff' | 'modifiers' | 'replacement';

/** What kind of update `o` is, from its top-level elements. */
export function updateKind(o: Buffer, els: RawElement[] = elements(o)): UpdateKind {
  let operators = false;
  for (const e of els) {
    if (e.name === '$v') {
      const v = readNumber(o, e);
      if (v === 2) return 'diff';
      if (v !== 1)
        throw new ApiError('INVALID_INPUT', `Cannot apply oplog update: unknown update version $v: ${v}.`);
      operators = true;
    } else if (e.name.charCodeAt(0) === 0x24) operators = true; // '$'
  }
  return operators ? 'modifiers' : 'replacement';
}

/** The replacement with `_id` first, taken from `idSource` when the replacement lacks it. */
function replacement(o: Buffer, els: RawElement[], idSource: Buffer | null): Buffer {
  const id = els.find((e) => e.name === '_id');
  if (id && els[0] === id) return o;
  const out = new DocBuilder();
  if (id) out.append(elementBytes(o, id));
  else {
    const from = idSource ? field(idSource, '_id') : undefined;
    if (!from || !idSource)
      throw new ApiError('INVALID_INPUT', 'Cannot apply oplog update: replacement without _id.');
    out.append(elementBytes(idSource, from));
  }
  for (const e of els) if (e !== id) out.append(elementBytes(o, e));
  return out.finish();
}

/**
 * Returns the document after the update. `pre` is null when the document
 * does not exist (upsert).
 */
export function applyUpdateEntry(pre: Buffer | null, o: Buffer, o2: Buffer | null): Buffer {
  const post = apply(pre, o, o2);
  // The result is the caller's to keep: never a view into the entry (or its segment).
  return post === o || post === o2 ? copyDocument(post) : post;
}

function apply(pre: Buffer | null, o: Buffer, o2: Buffer | null): Buffer {
  const els = elements(o);
  const kind = updateKind(o, els);
  if (kind === 'replacement') return replacement(o, els, pre ?? o2);
  const base = pre ?? o2;
  if (!base)
    throw new ApiError('INVALID_INPUT', 'Cannot apply oplog update: no document and no o2 to upsert.');
  if (kind === 'modifiers') return applyModifiers(base, o);
  const diff = els.find((e) => e.name === 'diff');
  if (!diff || diff.type !== T.object)
    throw new ApiError('INVALID_INPUT', 'Cannot apply oplog update: $v: 2 without a diff.');
  return applyObjectDiff(base, subDocument(o, diff));
}
