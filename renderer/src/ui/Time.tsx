import { useSyncExternalStore } from 'react';
import { localDateTime, relativeAge, utcDateTime } from './format';

const TICK_MS = 15_000;
let now = Date.now();
let timer: ReturnType<typeof setInterval> | undefined;
const listeners = new Set<() => void>();

/** One clock for every age on screen, started by the first that needs it, stopped with the last. */
function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (!timer) {
    now = Date.now(); // the clock was idle: catch up before the first render counts from it
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, TICK_MS);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/**
 * The time relative ages are computed against, moving every 15 s. It only
 * re-renders text ("3 min ago" becomes "4 min ago"); it fetches nothing.
 */
export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now);
}

/**
 * An instant from the engine: local time on screen, the exact UTC instant on
 * hover, and optionally its age ("3 min ago") beside it.
 */
export function Time({ iso, age = false }: { iso: string; age?: boolean }) {
  const time = (
    <time dateTime={iso} title={utcDateTime(iso)}>
      {localDateTime(iso)}
    </time>
  );
  if (!age) return time;
  return <WithAge iso={iso}>{time}</WithAge>;
}

/** Only instants that show an age follow the clock. */
function WithAge({ iso, children }: { iso: string; children: React.ReactNode }) {
  const now = useNow();
  return (
    <span>
      {children}
      <span className="age"> · {relativeAge(iso, now)}</span>
    </span>
  );
}
