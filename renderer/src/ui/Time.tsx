import { useEffect, useState } from 'react';
import { localDateTime, relativeAge, utcDateTime } from './format';

/**
 * The clock that relative ages are computed against, ticking every
 * `everyMs`. It only re-renders text ("3 min ago" becomes "4 min ago"); it
 * fetches nothing.
 */
export function useNow(everyMs = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/**
 * An instant from the engine: local time on screen, the exact UTC instant on
 * hover, and optionally its age ("3 min ago") beside it.
 */
export function Time({ iso, age = false }: { iso: string; age?: boolean }) {
  const now = useNow(age ? 15_000 : 3_600_000);
  const time = (
    <time dateTime={iso} title={utcDateTime(iso)}>
      {localDateTime(iso)}
    </time>
  );
  if (!age) return time;
  return (
    <span>
      {time}
      <span className="age"> · {relativeAge(iso, now)}</span>
    </span>
  );
}
