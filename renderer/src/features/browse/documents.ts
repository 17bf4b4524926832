/**
 * Documents as the engine answers them (Extended JSON text, one string
 * each) turned into what the table shows: the top-level fields in the order
 * they first appear, one short text per cell, and the `_id` of each row as
 * Extended JSON (what history.get and a selective restore take).
 */

export interface ResultRow {
  /** The document's text exactly as the engine sent it. */
  text: string;
  fields: Record<string, unknown>;
  /** The _id as Extended JSON text; null when the projection left it out. */
  id: string | null;
}

export function toRows(documents: readonly string[]): ResultRow[] {
  return documents.map((text) => {
    let fields: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
        fields = parsed as Record<string, unknown>;
    } catch {
      // The engine sends valid Extended JSON; a row that is not still shows as text in the JSON view.
    }
    const idText = '_id' in fields ? topLevelValueText(text, '_id') : null;
    const id = idText === null ? null : exactJson(idText);
    // The cell shows the exact _id too (JSON.parse rounds an integer beyond 2^53).
    if (id !== null && id !== idText) fields = { ...fields, _id: JSON.parse(id) as unknown };
    return { text, fields, id };
  });
}

/** Beyond this an integer in JSON text is no longer exact once parsed as a JavaScript number. */
const MAX_EXACT = 2n ** 53n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * An `_id` as Extended JSON that says exactly the value: the engine's relaxed text writes an
 * Int64 as a plain number with all its digits, which would be rounded to the nearest double by
 * whoever parses it (the engine's filter included): beyond 2^53 it becomes canonical
 * `{"$numberLong": "…"}`. Anything else is kept as the engine wrote it.
 */
export function exactId(valueText: string): string {
  if (!/^-?\d+$/.test(valueText)) return valueText;
  const n = BigInt(valueText);
  if (n >= -MAX_EXACT && n <= MAX_EXACT) return valueText;
  return n >= INT64_MIN && n <= INT64_MAX ? `{"$numberLong":"${valueText}"}` : valueText;
}

/**
 * JSON text without the space between tokens, every integer beyond 2^53 written as canonical
 * `{"$numberLong": "…"}` (a compound `_id` holds them too): the exact `_id` a filter needs.
 */
export function exactJson(text: string): string {
  let out = '';
  for (let k = 0; k < text.length; k++) {
    const c = text[k]!;
    if (c === '"') {
      const end = valueEnd(text, k);
      out += text.slice(k, end);
      k = end - 1;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(k))![0];
      out += exactId(m);
      k += m.length - 1;
    } else if (!/\s/.test(c)) out += c;
  }
  return out;
}

/** Where the JSON value starting at `from` ends (strings, nesting and escapes followed; no parse, no rounding). */
function valueEnd(text: string, from: number): number {
  let depth = 0;
  let k = from;
  for (; k < text.length; k++) {
    const c = text[k]!;
    if (c === '"') {
      for (k++; k < text.length && text[k] !== '"'; k++) if (text[k] === '\\') k++;
      if (depth === 0) return k + 1;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (depth === 0) return k;
      if (--depth === 0) return k + 1;
    } else if (depth === 0 && (c === ',' || /\s/.test(c))) return k;
  }
  return k;
}

const skipSpace = (text: string, k: number) => {
  while (k < text.length && /\s/.test(text[k]!)) k++;
  return k;
};

/** The exact text of a top-level field's value in a document's JSON text, or null. */
export function topLevelValueText(text: string, name: string): string | null {
  let k = skipSpace(text, 0);
  if (text[k] !== '{') return null;
  k++;
  for (;;) {
    k = skipSpace(text, k);
    if (text[k] !== '"') return null;
    const keyEnd = valueEnd(text, k);
    const key = JSON.parse(text.slice(k, keyEnd)) as string;
    k = skipSpace(text, keyEnd);
    if (text[k] !== ':') return null;
    const start = skipSpace(text, k + 1);
    const end = valueEnd(text, start);
    if (key === name) return text.slice(start, end);
    k = skipSpace(text, end);
    if (text[k] !== ',') return null;
    k++;
  }
}

/** Top-level field names across the rows, `_id` first, then in order of first appearance. */
export function columnsOf(rows: readonly ResultRow[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r.fields)) seen.add(k);
  const cols = [...seen];
  return cols.includes('_id') ? ['_id', ...cols.filter((c) => c !== '_id')] : cols;
}

/** One cell: scalars as they are, wrapped types ($oid, $date, $numberLong…) by their value, the rest as JSON. */
export function cellText(value: unknown): string {
  if (value === undefined) return '';
  if (value === null) return 'null';
  if (typeof value !== 'object') return String(value);
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0]!.startsWith('$')) {
    const inner = (value as Record<string, unknown>)[keys[0]!];
    if (typeof inner === 'string' || typeof inner === 'number') return String(inner);
  }
  const json = JSON.stringify(value);
  return json.length > 120 ? `${json.slice(0, 117)}…` : json;
}

/**
 * The pretty Extended JSON of a document, re-indented from its text rather than parsed and
 * written again, so that every number keeps its digits (an Int64 beyond 2^53 included).
 */
export function prettyJson(text: string): string {
  try {
    JSON.parse(text);
  } catch {
    return text;
  }
  let out = '';
  let depth = 0;
  const nl = () => `\n${'  '.repeat(depth)}`;
  for (let k = 0; k < text.length; k++) {
    const c = text[k]!;
    if (c === '"') {
      const end = valueEnd(text, k);
      out += text.slice(k, end);
      k = end - 1;
    } else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      const next = skipSpace(text, k + 1);
      if (text[next] === close) {
        out += c + close;
        k = next;
      } else {
        depth++;
        out += c + nl();
      }
    } else if (c === '}' || c === ']') {
      depth--;
      out += nl() + c;
    } else if (c === ',') out += `,${nl()}`;
    else if (c === ':') out += ': ';
    else if (!/\s/.test(c)) out += c;
  }
  return out;
}
