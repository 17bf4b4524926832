import { Alert, Group, Loader, Stack, Text } from '@mantine/core';
import { useEffect, useMemo } from 'react';
import { EmptyState } from '../../ui/EmptyState';
import { Section } from '../../ui/Section';
import { useDashboard } from '../dashboard/dashboard-store';
import { useSources } from '../sources/sources-store';
import { buildLanes, type LaneSource } from './lanes';
import { PointPanel } from './PointPanel';
import { TimelineAxis } from './TimelineAxis';
import { TimelineLegend } from './TimelineLegend';
import { CursorReadout, TimelineToolbar } from './TimelineToolbar';
import { useTimeline } from './timeline-store';
import { incidentFlags } from './incident-flags';
import { historyHints } from './open-early';

const newest = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

export function Timeline() {
  const sources = useSources((s) => s.sources);
  const listError = useSources((s) => s.error);
  const statuses = useDashboard((s) => s.statuses);
  const cache = useTimeline((s) => s.cache);
  const horizons = useTimeline((s) => s.horizons);
  const restores = useTimeline((s) => s.restores);
  const error = useTimeline((s) => s.error);
  const edges = useTimeline((s) => s.edges);
  const names = (sources ?? []).map((s) => s.name).join('\n');

  useEffect(() => {
    if (!names) return;
    const list = names.split('\n');
    void useTimeline.getState().start(list, historyHints(list, useDashboard.getState().statuses));
  }, [names]);
  // Each poll pass brings new statuses: where the live edge moved, answers reaching it are read again.
  useEffect(() => {
    if (!names) return;
    useTimeline
      .getState()
      .refreshLive(
        Object.fromEntries(
          Object.values(statuses).map((st) => [st.source, st.capture.capturedTs?.t ?? null]),
        ),
      );
  }, [statuses, names]);

  const lanes = useMemo(() => {
    const laneSources: LaneSource[] = (sources ?? []).map((s) => {
      const st = statuses[s.name];
      return {
        name: s.name,
        imported: s.imported,
        captureState: st?.capture.state ?? null,
        capturedT: newest(st?.capture.capturedTs?.t ?? null, edges[s.name] ?? null),
        recoveryPointSeconds: st?.capture.recoveryPointSeconds ?? null,
      };
    });
    return buildLanes(laneSources, cache, horizons, restores, incidentFlags);
  }, [sources, statuses, edges, cache, horizons, restores]);

  return (
    <Section
      title="Timeline"
      lead="Snapshots, oplog coverage and gaps of every source on one time axis, from years down to single seconds. Click a second to see what a restore there would use."
    >
      {(listError ?? error) && (
        <Alert role="alert" color="red" title="The engine did not answer">
          {listError ?? error}
        </Alert>
      )}
      {sources === null ? (
        !listError && (
          <Group gap="xs">
            <Loader size="sm" />
            <Text size="sm">Loading sources…</Text>
          </Group>
        )
      ) : sources.length === 0 ? (
        <EmptyState title="Nothing captured yet">
          When a backup job runs, snapshots appear here as markers on a time axis and the captured oplog as
          continuous bands. A break in a band is a gap: no point inside it can be restored. Pick any second
          inside a band to plan a restore to exactly that moment. Add a source under <strong>Sources</strong>{' '}
          to start.
        </EmptyState>
      ) : (
        <Stack gap="xs">
          <TimelineToolbar />
          <TimelineAxis lanes={lanes} />
          <CursorReadout />
          <TimelineLegend />
          <PointPanel />
        </Stack>
      )}
    </Section>
  );
}
