import { Group, Paper, Stack } from '@mantine/core';
import { useEffect, useState } from 'react';
import { useNavigation, type PointHandoff } from '../../app/navigation';
import { EmptyState } from '../../ui/EmptyState';
import { Section } from '../../ui/Section';
import { TaskProgress } from '../../ui/TaskProgress';
import { IncidentList } from '../incidents/IncidentList';
import { useSources } from '../sources/sources-store';
import { useBrowse } from './browse-store';
import { CollectionTree } from './CollectionTree';
import { HistoryPanel } from './HistoryPanel';
import { PinnedLatest } from './PinnedLatest';
import { PointPicker } from './PointPicker';
import { ResultActions } from './ResultActions';
import { Results } from './Results';

/**
 * The point-in-time browser: a source at a second (or an exact `t:i`, or
 * latest) opened as a view without restoring it, its databases and
 * collections, queries on one of them, one document's history, export and
 * selective restore; the incidents of the source below.
 */
export function Browse() {
  const sources = useSources((s) => s.sources);
  const source = useBrowse((s) => s.source);
  const at = useBrowse((s) => s.at);
  const asked = useBrowse((s) => s.asked);
  const buildTask = useBrowse((s) => s.buildTask);
  const open = useBrowse((s) => s.open);
  // A point handed over by the timeline or an incident opens at once; it is read once.
  const [handoff] = useState<PointHandoff | null>(() => useNavigation.getState().takeHandoff(['browse']));
  useEffect(() => {
    if (handoff) void open(handoff.source, handoff.at, handoff.ns ?? null);
  }, [handoff, open]);
  const names = (sources ?? []).map((s) => s.name);
  const initial = handoff ?? (source && asked ? { source, at: asked } : null);

  return (
    <Section title="Browse" lead="Query any second of any source without restoring it.">
      <Stack gap="sm">
        <PointPicker
          key={names.join(',')}
          sources={names}
          initial={initial}
          onOpen={(s, a) => void open(s, a)}
        />
        <TaskProgress taskId={buildTask} label="View" />
        <PinnedLatest />
        {!(source && at) && (
          <EmptyState title="Point-in-time browser">
            Pick a source and a second inside its window to list its databases and collections as they were,
            query them, and follow one document&apos;s history.
          </EmptyState>
        )}
        {source && at && (
          <Group align="flex-start" wrap="nowrap" gap="sm">
            <CollectionTree />
            <Paper withBorder p="sm" className="browse-main">
              <Stack gap="sm">
                <Results />
                <ResultActions />
              </Stack>
            </Paper>
          </Group>
        )}
        <HistoryPanel />
      </Stack>
      <IncidentList />
    </Section>
  );
}
