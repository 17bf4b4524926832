/**
 * File names in a mongodump directory. mongodump escapes a collection name
 * with Go's url.QueryEscape (everything but A-Z a-z 0-9 - _ . ~ as %XX of its
 * UTF-8 bytes, a space as +) and, when the escaped name would make a file
 * name longer than 255 bytes, keeps the first 208 bytes, then `%24` and the
 * unpadded base64url SHA-1 of the real name (the real name is then only in
 * the metadata's collectionName). Database names are used as they are.
 */
import { createHash } from 'node:crypto';
import { ApiError } from '../errors.js';

const MAX_ESCAPED = 238;
const TRUNCATED_PREFIX = 208;

export function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

export function queryUnescape(s: string, label: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new ApiError('INVALID_INPUT', `${label}: "${s}" is not a URL-escaped collection name.`);
  }
}

/** The base file name (without .bson / .metadata.json) mongodump uses for a collection. */
export function collectionFileBase(collection: string): string {
  const escaped = queryEscape(collection);
  if (escaped.length <= MAX_ESCAPED) return escaped;
  const hash = createHash('sha1').update(collection, 'utf8').digest('base64url');
  return `${escaped.slice(0, TRUNCATED_PREFIX)}%24${hash}`;
}
