/** The point the browser queries, as the API takes it, from what the picker holds. */

export type PointMode = 'second' | 'optime' | 'latest';

/** A date-time picker's value (local `YYYY-MM-DD HH:mm:ss`) as an ISO-8601 second in UTC, or null. */
export function isoFromPicker(value: string | null): string | null {
  if (!value) return null;
  const d = new Date(value.replace(' ', 'T'));
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** An ISO second (from a hand-off) as the picker's local `YYYY-MM-DD HH:mm:ss`. */
export function pickerFromIso(iso: string): string | null {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A handed-off point sorted into the picker's modes. */
export function modeOf(at: string): PointMode {
  if (at === 'latest') return 'latest';
  if (/^\d+:\d+$/.test(at)) return 'optime';
  return 'second';
}

export const OPTIME = /^\d+:\d+$/;
