/**
 * The Timeline's first answer is asked for the moment the section is
 * chosen, not once React has mounted it: mounting the section (and
 * unmounting the one before) takes as long as the engine's answer, so the
 * two now overlap instead of adding up. The sources and their statuses are
 * already in the Sources and Dashboard slices (the status bar and the
 * dashboard read them); without them the section's own start does it.
 */
import { useNavigation } from '../../app/navigation';
import { useDashboard, type SourceStatus } from '../dashboard/dashboard-store';
import { useSources } from '../sources/sources-store';
import { useTimeline, type HistoryHint } from './timeline-store';

/** Where each source's history is, as its status says (the first view is placed from it). */
export function historyHints(
  names: readonly string[],
  statuses: Record<string, SourceStatus>,
): Record<string, HistoryHint> {
  return Object.fromEntries(
    names.map((n) => {
      const st = statuses[n];
      const starts = (st?.coverage.intervals ?? []).map((i) => i.start.t);
      return [
        n,
        {
          oldest: starts.length ? Math.min(...starts) : null,
          live: st?.capture.capturedTs?.t ?? null,
          capturing: st?.capture.state === 'capturing',
        },
      ];
    }),
  );
}

/** Starts the section's reads for the sources known now (the section's mount asks again; nothing is asked twice). */
export function openTimeline(): void {
  const names = (useSources.getState().sources ?? []).map((s) => s.name);
  if (names.length === 0) return;
  // Not measured yet (the canvas is not there): the window's width is at least the canvas's, so the
  // first answer is fine enough for it (a coarser one would be asked for again once measured).
  if (!useTimeline.getState().view) useTimeline.getState().setWidth(window.innerWidth);
  void useTimeline.getState().start(names, historyHints(names, useDashboard.getState().statuses));
}

// zustand calls this inside setSection, before React renders the section.
useNavigation.subscribe((s, prev) => {
  if (s.section === 'timeline' && prev.section !== 'timeline') openTimeline();
});
