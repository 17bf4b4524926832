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
    return { text, fields, id: '_id' in fields ? JSON.stringify(fields._id) : null };
  });
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

/** The pretty Extended JSON of a document (the text again when it does not parse). */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
