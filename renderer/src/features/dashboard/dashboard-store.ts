/** The live protection state of every source (Dashboard section). */
import { create } from 'zustand';
import type { CommandOutput } from '../../../../engine/api/contract';
import { engine, errorMessage } from '../../app/connection-store';

export type SourceStatus = CommandOutput<'source.status'>;
export type SourceOverview = CommandOutput<'source.overview'>;
export type RestoreTestStatus = CommandOutput<'restore-test.last'>[number];

/**
 * A source's restore tests as its card shows them: the newest one with its measured recovery time
 * (RTO: the restore itself, without the validation after it) and when the next runs.
 */
export interface RestoreTestSummary {
  last: {
    /** null while it runs. */
    passed: boolean | null;
    startedAt: string;
    finishedAt: string | null;
    /** Seconds the restore took; null when it did not get that far. */
    rtoSeconds: number | null;
  } | null;
  /** When the next scheduled test runs; null when restore tests are off for this source. */
  nextRunAt: string | null;
}

export const restoreTestSummary = (r: RestoreTestStatus): RestoreTestSummary => ({
  last: r.last && {
    passed: r.last.passed,
    startedAt: r.last.startedAt,
    finishedAt: r.last.finishedAt,
    rtoSeconds: r.last.rto ? r.last.rto.restoreMs / 1000 : null,
  },
  nextRunAt: r.nextRunAt,
});

/**
 * How long a source's overview (storage trend, PITR window, next snapshot) is kept before the
 * poll asks again. It has no event and moves slowly (the trend sums a month of segment rows, the
 * window is hours long), so it is read once a minute, and at once after a task ends.
 */
export const OVERVIEW_MAX_AGE_MS = 60_000;

/** The storage trend's length on the cards. */
export const TREND_DAYS = 30;

interface DashboardSlice {
  /** By source name; a source missing here has not answered yet. */
  statuses: Record<string, SourceStatus>;
  error: string | null;
  /** By source name: what the card shows besides live status. */
  overviews: Record<string, SourceOverview>;
  overviewErrors: Record<string, string>;
  /** By source name: the restore tests (read with the overviews, for every source at once). */
  restoreTests: Record<string, RestoreTestSummary>;
  /** When each overview was read (ms), to read it again only when it is old. */
  overviewReadAt: Record<string, number>;
  /** One pass over the given sources, all asked at once; replaces the whole map so removed sources go. */
  loadStatuses(sources: readonly string[]): Promise<void>;
  /** Reads the overviews older than OVERVIEW_MAX_AGE_MS (all of them after expireOverviews). */
  loadOverviews(sources: readonly string[], now?: number): Promise<void>;
  /** A task ended (a snapshot, a deletion): the next pass reads every overview again. */
  expireOverviews(): void;
}

export const useDashboard = create<DashboardSlice>((set, get) => ({
  statuses: {},
  error: null,
  overviews: {},
  overviewErrors: {},
  overviewReadAt: {},
  restoreTests: {},
  async loadStatuses(sources) {
    try {
      const client = engine();
      const answers = await Promise.all(sources.map((source) => client.invoke('source.status', { source })));
      set({ statuses: Object.fromEntries(answers.map((s) => [s.source, s])), error: null });
    } catch (err) {
      set({ error: errorMessage(err) });
    }
  },
  async loadOverviews(sources, now = Date.now()) {
    const readAt = get().overviewReadAt;
    const due = sources.filter((s) => !(now - (readAt[s] ?? -Infinity) < OVERVIEW_MAX_AGE_MS));
    if (due.length === 0) return;
    set((s) => ({
      overviewReadAt: { ...s.overviewReadAt, ...Object.fromEntries(due.map((n) => [n, now])) },
    }));
    const client = engine();
    const restoreTests = client.invoke('restore-test.last', {}).then(
      (all) => set({ restoreTests: Object.fromEntries(all.map((r) => [r.source, restoreTestSummary(r)])) }),
      () => undefined, // the card keeps what it showed; the overview's error says when the engine is away
    );
    await Promise.all([
      restoreTests,
      ...due.map(async (source) => {
        try {
          const o = await client.invoke('source.overview', { source, days: TREND_DAYS });
          set((s) => {
            const { [source]: _gone, ...overviewErrors } = s.overviewErrors;
            return { overviews: { ...s.overviews, [source]: o }, overviewErrors };
          });
        } catch (err) {
          set((s) => ({ overviewErrors: { ...s.overviewErrors, [source]: errorMessage(err) } }));
        }
      }),
    ]);
  },
  expireOverviews() {
    set({ overviewReadAt: {} });
  },
}));
