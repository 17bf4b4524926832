import { describe, expect, it } from 'vitest';
import {
  bytes,
  duration,
  localDateTime,
  relativeAge,
  utcClock,
  utcDateTime,
} from '../../renderer/src/ui/format';

describe('the one time and number format', () => {
  const iso = '2026-11-23T11:22:58.384Z';
  const at = Date.parse(iso);

  it('shows instants as local time and the exact UTC instant', () => {
    const d = new Date(iso);
    const p = (n: number) => String(n).padStart(2, '0');
    expect(localDateTime(iso)).toBe(
      `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`,
    );
    expect(utcDateTime(iso)).toBe('2026-11-23 11:22:58.384 UTC');
    expect(utcDateTime('2026-11-23T11:22:58.000Z')).toBe('2026-11-23 11:22:58 UTC');
    expect(localDateTime('not a date')).toBe('not a date');
  });

  it('gives ages rounded down, and times to come', () => {
    expect(relativeAge(iso, at + 2_000)).toBe('just now');
    expect(relativeAge(iso, at + 45_000)).toBe('45 s ago');
    expect(relativeAge(iso, at + 3 * 60_000 + 59_000)).toBe('3 min ago');
    expect(relativeAge(iso, at + 2 * 3_600_000 + 59 * 60_000)).toBe('2 h ago');
    expect(relativeAge(iso, at + 4 * 86_400_000 + 3_600_000)).toBe('4 days ago');
    expect(relativeAge(iso, at - 5 * 60_000)).toBe('in 5 min');
  });

  it('writes durations and sizes as a DBA reads them', () => {
    expect(duration(null)).toBe('—');
    expect(duration(2)).toBe('2 s');
    expect(duration(119)).toBe('119 s');
    expect(duration(600)).toBe('10 min');
    expect(duration(9000)).toBe('2.5 h');
    expect(duration(3 * 86_400)).toBe('3 days');
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1536)).toBe('1.5 KiB');
    expect(bytes(250 * 1024 ** 3)).toBe('250 GiB');
  });

  it('keeps schedules in UTC and adds the local clock when asked', () => {
    expect(utcClock('03:00', false)).toBe('03:00 UTC');
    expect(utcClock('03:00', true)).toMatch(/^03:00 UTC \(\d\d:\d\d local\)$/);
  });
});
