/**
 * The Timeline section's state and every call it makes to the engine: the
 * view (which seconds are shown, following the live edge or not), the
 * buckets fetched for it (cached by range, so panning and zooming draw from
 * what is there while the next answer is in flight), the restore history
 * (in-place restores are marked, the last measured one gives the rate), the
 * retention horizon of each job, and the point picked on the axis with its
 * restore plan.
 *
 * Fetching follows the view after it settles (debounced) and asks only for
 * the visible range with a margin of half a view on each side, at about one
 * bucket per pixel; the canvas never waits for it.
 */
import { create } from 'zustand';
import type { CommandOutput } from '../../../../engine/api/contract';
import { engine, errorMessage } from '../../app/connection-store';
import { coversView, liveEdgeOf, type CachedTimeline, type TimelineData } from './layout';
import { nearestRestorable } from './nearest';
import { estimateSeconds, measuredRate, type MeasuredRate, type RestoreView } from './restore-estimate';
import {
  MAX_SPAN_SECONDS,
  MIN_SPAN_SECONDS,
  ZOOM_STEP,
  centredOn,
  clampSpan,
  isoSecond,
  panBy,
  spanOf,
  zoomAt,
  type ViewRange,
} from './time-scale';

export type RestorePlan = CommandOutput<'restore.plan'>;
type BackupJob = CommandOutput<'backup-job.get'>;

/** Where a source's history is, as source.status says: its oldest captured second and its live edge. */
export interface HistoryHint {
  oldest: number | null;
  live: number | null;
  /** Capture runs: the first view follows now even before the first segment. */
  capturing?: boolean;
}

/** What the point panel shows for the second picked on the axis. */
export interface PickedPoint {
  source: string;
  t: number;
  /** The point as the API takes it: the second, or an exact `t:i` (just before an incident). */
  at: string;
  /** Picked on an incident's flag: what happened (the point is the entry just before it). */
  before: string | null;
  plan: RestorePlan | null;
  loading: boolean;
  error: string | null;
  /** The snapshot's document count (for the estimate), when known. */
  documents: number | null;
  rate: MeasuredRate | null;
  estimateSeconds: number | null;
  /** For a point that cannot be restored: the nearest restorable seconds (null: none that way). */
  nearest: { before: number | null; after: number | null } | null;
}

interface TimelineSlice {
  /** The seconds shown; null until the first answer says where the history is. */
  view: ViewRange | null;
  /** The view once it stopped moving (debounced): what the description and the fetches follow. */
  settled: ViewRange | null;
  /** Drawing width in CSS pixels. */
  width: number;
  /** The right edge follows now (the live edge moves in real time). */
  follow: boolean;
  /** Answers of timeline.get by source, coarsest (the overview) first. */
  cache: Record<string, CachedTimeline[]>;
  /** Where each source's history begins (first covered or snapshotted second), from the overview. */
  historyStart: Record<string, number | null>;
  /** Requests in flight. */
  fetching: number;
  error: string | null;
  restores: RestoreView[] | null;
  /** The oldest second the job's retention keeps (now minus the longest tier's keep), by source. */
  horizons: Record<string, number | null>;
  /** The newest captured second of each source as capture.segment events tell it (ahead of any answer). */
  edges: Record<string, number>;
  /** The second under the mouse or the keyboard cursor. */
  cursor: number | null;
  /** The lane keyboard actions act on. */
  selected: string | null;
  point: PickedPoint | null;

  /**
   * Reads what the section needs for these sources and places the first view; `hints` (from
   * source.status) let the first view be fetched at once, beside the overview.
   */
  start(sources: readonly string[], hints?: Record<string, HistoryHint>): Promise<void>;
  setWidth(width: number): void;
  setView(view: ViewRange): void;
  zoom(factor: number, anchor?: number): void;
  pan(seconds: number): void;
  /** Shows `span` seconds around the centre (or around `t`). */
  zoomTo(span: number, t?: number): void;
  /** Everything from the oldest history to now. */
  fitAll(): void;
  setFollow(follow: boolean): void;
  /** Moves a following view to now (called once a second while following). */
  followTick(nowSeconds: number): void;
  /** A poll pass brought each source's newest captured second: answers it has outgrown are fetched again. */
  refreshLive(captured: Record<string, number | null>): void;
  /** Reads the restore history again (a restore ended: an in-place one is a flag, a measured one a rate). */
  loadRestores(): Promise<void>;
  /** capture.segment: the live edge moved now; answers reaching it are read again (at most once a second). */
  onSegment(source: string, lastT: number): void;
  setCursor(t: number | null): void;
  select(source: string | null): void;
  /**
   * Plans the second `t`, or the exact oplog point `exact` (`t:i`) that falls in it; `before`
   * names the incident that point is just before (a click on its flag).
   */
  pick(source: string, t: number, exact?: string, before?: string): Promise<void>;
  closePoint(): void;
}

/** How long the view must rest before it is fetched. */
export const SETTLE_MS = 120;
/** timeline.get's widest answer. */
const MAX_BUCKETS = 8192;
/** The overview: twenty years to tomorrow, once per source, the backdrop while finer answers load. */
const OVERVIEW_YEARS = 20;
const OVERVIEW_WIDTH = 4096;
/** Answers kept per source besides the overview. */
const KEEP = 6;
/** The overview is read again at most this often while the live edge moves. */
const OVERVIEW_REFRESH_MS = 60_000;

const nowSeconds = () => Date.now() / 1000;
let settleTimer: ReturnType<typeof setTimeout> | undefined;
/** Requests in flight by key, with what they will cover (a view they cover is not asked for again). */
const inFlight = new Map<string, { source: string; from: number; to: number; bucketSeconds: number }>();
let overviewAt = 0;
let pickToken = 0;
/** The start under way, by its sources. */
let starting: { key: string; done: Promise<void> } | null = null;
let segmentTimer: ReturnType<typeof setTimeout> | undefined;
/** Segments can be cut four times a second: the timeline reads the live end again at most this often. */
const SEGMENT_REFRESH_MS = 1000;

/** Where a following view is: now near the right edge, a tenth of the span ahead for the live edge to move into. */
export function followView(span: number, now: number): ViewRange {
  return { from: now - span * 0.9, to: now + span * 0.1 };
}

function fetchTimeline(source: string, from: number, to: number, width: number): Promise<TimelineData> {
  return engine().invoke('timeline.get', { source, from: isoSecond(from), to: isoSecond(to), width });
}

/**
 * The range to fetch for a view: the view and `margin` views each side (half a view: a drag of that
 * much stays sharp), on a grid so that small pans reuse it.
 */
export function fetchRange(
  view: ViewRange,
  width: number,
  margin = 0.5,
): { from: number; to: number; width: number } {
  const span = spanOf(view);
  const pad = span * Math.min(margin, Math.max(0, (MAX_BUCKETS / Math.max(1, width) - 1) / 2));
  const grid = Math.max(1, Math.floor(span / 8));
  const from = Math.floor((view.from - pad) / grid) * grid;
  const to = Math.max(from + 1, Math.ceil((view.to + pad) / grid) * grid);
  const buckets = Math.max(1, Math.min(MAX_BUCKETS, Math.round(((to - from) / span) * width)));
  return { from, to, width: buckets };
}

/** The longest a policy keeps anything: its oldest snapshot can be this old. */
export function retentionSeconds(policy: BackupJob['policy']): number {
  const day = 86_400;
  return Math.max(
    policy.onDemandKeepDays * day,
    policy.hourly ? policy.hourly.keepDays * day : 0,
    policy.daily ? policy.daily.keepDays * day : 0,
    policy.weekly ? policy.weekly.keepWeeks * 7 * day : 0,
    policy.monthly ? policy.monthly.keepMonths * 31 * day : 0,
  );
}

/** The first second with anything in an answer (coverage or a snapshot). */
function firstOf(c: CachedTimeline): number | null {
  const { covered, snapshots, bucketSeconds } = c.data;
  for (let i = 0; i < covered.length; i++)
    if (covered[i]! > 0 || (snapshots[i] ?? 0) > 0) return c.from + i * bucketSeconds;
  return null;
}

export const useTimeline = create<TimelineSlice>((set, get) => {
  /** Keeps an answer: newest last, stale ones it replaces dropped, at most KEEP besides the overview. */
  const keep = (source: string, entry: CachedTimeline) => {
    set((s) => {
      const list = (s.cache[source] ?? []).filter(
        (c) => !(entry.overview && c.overview) && !(c.stale && c.from >= entry.from && c.to <= entry.to),
      );
      const ov = list.filter((c) => c.overview);
      const rest = list.filter((c) => !c.overview);
      const next = entry.overview ? [entry, ...rest] : [...ov, ...[...rest, entry].slice(-KEEP)];
      return { cache: { ...s.cache, [source]: next } };
    });
  };

  const request = async (source: string, from: number, to: number, width: number, overview = false) => {
    const key = `${source}|${from}|${to}|${width}`;
    if (inFlight.has(key)) return;
    inFlight.set(key, { source, from, to, bucketSeconds: (to - from) / width });
    set((s) => ({ fetching: s.fetching + 1 }));
    try {
      const data = await fetchTimeline(source, from, to, width);
      keep(source, { from, to, data, overview });
      set({ error: null });
    } catch (err) {
      set({ error: errorMessage(err) });
    } finally {
      inFlight.delete(key);
      set((s) => ({ fetching: s.fetching - 1 }));
    }
  };

  /** Fetches, for every source shown, the settled view unless the cache already draws it sharply. */
  const ensure = () => {
    const { settled, width, cache } = get();
    if (!settled) return;
    for (const source of Object.keys(cache)) {
      if (coversView(cache[source]!, settled, width)) continue;
      const perPx = (settled.to - settled.from) / Math.max(1, width);
      const coming = [...inFlight.values()].some(
        (f) =>
          f.source === source &&
          f.from <= settled.from &&
          f.to >= settled.to &&
          f.bucketSeconds <= perPx * 1.5 + 1e-9,
      );
      if (coming) continue;
      const r = fetchRange(settled, width);
      void request(source, r.from, r.to, r.width);
    }
  };

  const settle = () => {
    clearTimeout(settleTimer);
    settleTimer = setTimeout(() => {
      set({ settled: get().view });
      ensure();
    }, SETTLE_MS);
  };

  const overview = async (source: string) => {
    const to = Math.ceil(nowSeconds() / 86_400 + 1) * 86_400;
    const from = to - OVERVIEW_YEARS * 366 * 86_400;
    await request(source, from, to, OVERVIEW_WIDTH, true);
    const first = get().cache[source]?.find((c) => c.overview);
    set((s) => ({ historyStart: { ...s.historyStart, [source]: first ? firstOf(first) : null } }));
  };

  const move = (view: ViewRange, follow = get().follow) => {
    set({ view: clampSpan(view), follow });
    settle();
  };

  /** What start does: the first view, the overview, the restore history and each job's retention. */
  const startReads = async (sources: readonly string[], hints: Record<string, HistoryHint>) => {
    set((s) => ({
      cache: Object.fromEntries(sources.map((n) => [n, s.cache[n] ?? []])),
      selected: s.selected && sources.includes(s.selected) ? s.selected : (sources[0] ?? null),
    }));
    overviewAt = Date.now();
    const client = engine();
    // The first view: the whole history (two minutes at least; a week at most while capture runs,
    // following now). The statuses already say where it is, so the view is asked for first (the
    // engine answers in order) and exactly (no margin: the first paint waits for it); without
    // them the overview says where the history is.
    const placeFirstView = () => {
      const now = nowSeconds();
      const starts = sources
        .map((n) => hints[n]?.oldest ?? get().historyStart[n] ?? null)
        .filter((t): t is number => t !== null);
      const edges = sources.map((n) => hints[n]?.live ?? liveEdgeOf(get().cache[n] ?? []));
      const oldest = starts.length ? Math.min(...starts) : now;
      const anyLive =
        edges.some((e) => e !== null && now - e < 3600) || sources.some((n) => hints[n]?.capturing);
      // A tenth of the history's length before its start, whichever way the view is placed: a
      // following view keeps only 90% of its span behind now, so it is that much wider. (It was
      // not: its left edge fell inside the history, just after its start, and a PITR window
      // beginning a second before the first entry was out of sight, or not, by who answered first.)
      const span = Math.max(120, (now - oldest) * 1.1);
      const view = clampSpan(
        anyLive || !starts.length
          ? followView(Math.min(7 * 86_400, span / 0.9), now)
          : { from: now - span, to: now + span * 0.02 },
      );
      set({ view, settled: view, follow: anyLive || !starts.length });
      const { width } = get();
      const r = fetchRange(view, width, 0);
      for (const n of sources) void request(n, r.from, r.to, r.width);
    };
    const hinted =
      !get().view && sources.every((n) => hints[n] && (hints[n].oldest !== null || hints[n].live !== null));
    if (hinted) placeFirstView();
    const side = Promise.all([
      client.invoke('restore.list', {}).then(
        (restores) => set({ restores }),
        (err: unknown) => set({ error: errorMessage(err) }),
      ),
      ...sources.map((n) =>
        client.invoke('backup-job.get', { source: n }).then(
          (job) =>
            set((s) => ({
              horizons: { ...s.horizons, [n]: nowSeconds() - retentionSeconds(job.policy) },
            })),
          () => set((s) => ({ horizons: { ...s.horizons, [n]: null } })), // imported sources have no job to keep
        ),
      ),
    ]);
    const overviews = Promise.all(sources.map((n) => overview(n)));
    if (get().view && !hinted) ensure();
    else if (!get().view) {
      await overviews;
      if (!get().view) placeFirstView();
    }
    await Promise.all([side, overviews]);
  };

  return {
    view: null,
    settled: null,
    width: 800,
    follow: true,
    cache: {},
    historyStart: {},
    fetching: 0,
    error: null,
    restores: null,
    horizons: {},
    edges: {},
    cursor: null,
    selected: null,
    point: null,

    start(sources, hints = {}) {
      // Opening the section starts this before the mount does it again: one start per set of sources at a time.
      const key = sources.join('\n');
      if (starting?.key === key) return starting.done;
      const done = startReads(sources, hints).finally(() => {
        if (starting?.done === done) starting = null;
      });
      starting = { key, done };
      return done;
    },
    setWidth(width) {
      const w = Math.max(100, Math.round(width));
      if (w === get().width) return;
      set({ width: w });
      settle();
    },
    setView: (view) => move(view, false),
    zoom(factor, anchor) {
      const { view, follow } = get();
      if (!view) return;
      // While following, zoom around now so the live edge stays in sight.
      const at = anchor ?? (follow ? nowSeconds() : (view.from + view.to) / 2);
      const next = zoomAt(view, factor, at);
      move(follow ? followView(spanOf(next), nowSeconds()) : next);
    },
    pan(seconds) {
      const { view } = get();
      if (view) move(panBy(view, seconds), false);
    },
    zoomTo(span, t) {
      const { view, follow } = get();
      if (!view) return;
      if (follow && t === undefined) return move(followView(span, nowSeconds()));
      move(centredOn(t ?? (view.from + view.to) / 2, span), false);
    },
    fitAll() {
      const now = nowSeconds();
      const starts = Object.values(get().historyStart).filter((t): t is number => t !== null);
      const oldest = starts.length ? Math.min(...starts) : now - 3600;
      const span = Math.min(MAX_SPAN_SECONDS, Math.max(MIN_SPAN_SECONDS, (now - oldest) * 1.1));
      move({ from: now - span, to: now + span * 0.02 }, false);
    },
    setFollow(follow) {
      const { view } = get();
      if (follow && view) move(followView(spanOf(view), nowSeconds()), true);
      else set({ follow });
    },
    followTick(now) {
      const { view, follow } = get();
      if (follow && view) move(followView(spanOf(view), now), true);
    },
    refreshLive(captured) {
      const { cache } = get();
      const now = Date.now();
      let changed = false;
      const next: Record<string, CachedTimeline[]> = {};
      for (const [source, list] of Object.entries(cache)) {
        const edge = liveEdgeOf(list);
        const newer = captured[source];
        // Only a live edge that moved past what the answers know makes them stale.
        const moved = newer !== undefined && newer !== null && (edge === null || newer > edge);
        next[source] = list.map((c) => {
          if (!moved || c.overview || c.stale || c.to <= (edge ?? -Infinity)) return c;
          changed = true;
          return { ...c, stale: true };
        });
      }
      if (changed) set({ cache: next });
      if (changed && now - overviewAt > OVERVIEW_REFRESH_MS) {
        overviewAt = now;
        for (const source of Object.keys(cache)) void overview(source);
      }
      ensure();
    },
    async loadRestores() {
      try {
        set({ restores: await engine().invoke('restore.list', {}) });
      } catch (err) {
        set({ error: errorMessage(err) });
      }
    },
    onSegment(source, lastT) {
      set((s) => ({ edges: { ...s.edges, [source]: Math.max(lastT, s.edges[source] ?? lastT) } }));
      if (segmentTimer) return;
      segmentTimer = setTimeout(() => {
        segmentTimer = undefined;
        get().refreshLive(get().edges);
      }, SEGMENT_REFRESH_MS);
    },
    setCursor: (cursor) => set({ cursor }),
    select: (selected) => set({ selected }),

    async pick(source, t, exact, before) {
      const token = ++pickToken;
      const second = Math.floor(t);
      const at = exact ?? isoSecond(second);
      const base: PickedPoint = {
        source,
        t: second,
        at,
        before: exact !== undefined ? (before ?? null) : null,
        plan: null,
        loading: true,
        error: null,
        documents: null,
        rate: null,
        estimateSeconds: null,
        nearest: null,
      };
      set({ point: base, selected: source });
      const current = () => token === pickToken;
      const update = (p: Partial<PickedPoint>) => {
        if (current()) set((s) => ({ point: s.point ? { ...s.point, ...p } : s.point }));
      };
      try {
        const client = engine();
        const plan = await client.invoke('restore.plan', { source, at });
        if (plan.restorable) {
          const rate = measuredRate(get().restores ?? [], source);
          const snapshots = await client.invoke('snapshot.list', { source });
          const documents = snapshots.find((s) => s.id === plan.snapshot.id)?.documents ?? null;
          update({
            plan,
            rate,
            documents,
            estimateSeconds:
              rate && documents !== null
                ? estimateSeconds(rate, documents, plan.entriesToReplayAtMost)
                : null,
            loading: false,
          });
          return;
        }
        update({ plan });
        const get1 = (from: number, to: number, width: number) => fetchTimeline(source, from, to, width);
        const oldest = (get().historyStart[source] ?? second - 86_400) - 86_400;
        const bounds = { from: Math.min(oldest, second - 1), to: Math.max(nowSeconds() + 60, second + 2) };
        const [before, after] = await Promise.all(
          (['before', 'after'] as const).map(async (dir) => {
            const found = await nearestRestorable(get1, second, dir, bounds);
            if (found === null) return null;
            // The buckets say restorable; the planner is the judge.
            const check = await client.invoke('restore.plan', { source, at: isoSecond(found) });
            return check.restorable ? found : null;
          }),
        );
        update({ nearest: { before: before ?? null, after: after ?? null }, loading: false });
      } catch (err) {
        update({ error: errorMessage(err), loading: false });
      }
    },
    closePoint() {
      pickToken++;
      set({ point: null });
    },
  };
});

/** Zoom one step in or out (buttons and keys). */
export const zoomIn = () => useTimeline.getState().zoom(ZOOM_STEP);
export const zoomOut = () => useTimeline.getState().zoom(1 / ZOOM_STEP);
