/**
 * The query bar's fields checked before anything is sent: each is a JSON
 * object (filter, projection, sort) or a positive whole number (limit). A
 * syntax error names its line and column, as the user sees the text, so it
 * can be shown under the field at once; the engine still parses Extended
 * JSON itself and answers its own typed errors (unknown operator…).
 */

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/** Line and column (1-based) of a character offset in the text. */
function where(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}

/** The offset a JSON.parse message names, when it names one (V8: "at position N"). */
function offsetOf(message: string): number | null {
  const m = /position (\d+)/.exec(message);
  return m ? Number(m[1]) : null;
}

/** An object field: empty means "not given" (undefined); otherwise the text as typed, once it parses. */
export function checkObject(label: string, text: string): Checked<string | undefined> {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, value: undefined };
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const at = offsetOf(message);
    const lead = text.length - text.trimStart().length;
    const place = at === null ? 'unexpected end of input' : where(text, at + lead);
    return { ok: false, error: `${label} is not valid JSON (${place}).` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return { ok: false, error: `${label} must be a JSON object, e.g. {}.` };
  return { ok: true, value: trimmed };
}

/** The limit: a whole number from 1 to the engine's page size. */
export function checkLimit(text: string, max = 10_000): Checked<number> {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < 1 || Number(trimmed) > max)
    return { ok: false, error: `Limit must be a whole number from 1 to ${max}.` };
  return { ok: true, value: Number(trimmed) };
}
