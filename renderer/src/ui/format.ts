/**
 * The one place times, durations and sizes are turned into text. The engine
 * speaks UTC ISO strings; a DBA reads local wall-clock time, with the UTC
 * instant one hover away (the `title` of `<Time>`), and an age where "how
 * long ago" is what matters (last snapshot, last check).
 */

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * `2026-11-23 12:22:58` in the machine's time zone: year first so that it
 * sorts and reads the same in every locale, seconds because backups are
 * about seconds.
 */
export function localDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** `2026-11-23 11:22:58.384 UTC`: the exact instant, as restore points are typed. */
export function utcDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const ms = d.getUTCMilliseconds();
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}` +
    `${ms ? `.${String(ms).padStart(3, '0')}` : ''} UTC`
  );
}

/** Seconds since the Unix epoch (oplog timestamps' `t`) as an ISO string. */
export function epochSecondsToIso(t: number): string {
  return new Date(t * 1000).toISOString();
}

/**
 * "just now", "45 s ago", "3 min ago", "2 h ago", "4 days ago"; in the
 * future (next scheduled run) "in 3 min". Rounded down: "1 min ago" is at
 * least a minute.
 */
export function relativeAge(iso: string, now: number = Date.now()): string {
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return '';
  const diff = Math.round((now - then) / 1000);
  const abs = Math.abs(diff);
  if (abs < 5) return 'just now';
  const text = abs < 60 ? `${abs} s` : duration(abs, { round: 'down' });
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

/** A span of seconds for people: `45 s`, `3 min`, `2.5 h`, `4 days`. */
export function duration(seconds: number | null, opts: { round?: 'down' | 'nearest' } = {}): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  const r = opts.round === 'down' ? Math.floor : Math.round;
  const s = Math.abs(seconds);
  if (s < 120 && opts.round !== 'down') return `${Math.round(seconds)} s`;
  if (s < 60) return `${r(seconds)} s`;
  if (s < 3600) return `${r(seconds / 60)} min`;
  if (s < 48 * 3600) {
    const h = seconds / 3600;
    return opts.round === 'down' ? `${Math.floor(h)} h` : `${h < 10 ? h.toFixed(1) : Math.round(h)} h`;
  }
  return `${r(seconds / 86400)} days`;
}

/** Hours with one decimal (oplog windows): `12.3 h`. */
export function hours(h: number): string {
  return `${h.toFixed(1)} h`;
}

/** Sizes in binary units, as the disk tools a DBA uses print them. */
export function bytes(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/**
 * A schedule's clock time: policies are in UTC (`03:00 UTC`), and the local
 * equivalent is added when asked, `03:00 UTC (04:00 local)`.
 */
export function utcClock(at: string, withLocal: boolean): string {
  if (!withLocal) return `${at} UTC`;
  const [h, m] = at.split(':').map(Number) as [number, number];
  const d = new Date();
  d.setUTCHours(h, m, 0, 0);
  return `${at} UTC (${pad(d.getHours())}:${pad(d.getMinutes())} local)`;
}

/** A count with thousands grouped by thin spaces, the same in every locale: `1 234 567`. */
export function count(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009');
}
