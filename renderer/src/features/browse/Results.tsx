import { Button, Group, SegmentedControl, Text } from '@mantine/core';
import { useState } from 'react';
import { useBrowse } from './browse-store';
import { EngineError } from './EngineError';
import { QueryBar } from './QueryBar';
import { ResultsJson } from './ResultsJson';
import { ResultsTable } from './ResultsTable';

/** The namespace opened: its query bar, what the engine answered (or refused), and the results as a table or as JSON. */
export function Results() {
  const ns = useBrowse((s) => s.ns);
  const rows = useBrowse((s) => s.rows);
  const more = useBrowse((s) => s.more);
  const plan = useBrowse((s) => s.plan);
  const view = useBrowse((s) => s.view);
  const running = useBrowse((s) => s.running);
  const error = useBrowse((s) => s.queryError);
  const run = useBrowse((s) => s.run);
  const loadMore = useBrowse((s) => s.loadMore);
  const loadingMore = useBrowse((s) => s.loadingMore);
  const [as, setAs] = useState<'table' | 'json'>('table');
  if (!ns) return <Text c="dimmed">Pick a collection to query it.</Text>;

  return (
    <div>
      <Text fw={600} mb="xs">
        {ns}
      </Text>
      <QueryBar key={ns} busy={running} onRun={(q) => void run(q)} />
      <EngineError error={error} />
      {rows && (
        <>
          <Group justify="space-between" my="xs">
            <Text size="sm" c="dimmed" data-testid="result-summary">
              {rows.length} documents{more ? ' (more match)' : ''}
              {plan &&
                ` · ${plan.index ? `index ${plan.index}` : 'collection scan'}, ${plan.documentsExamined} examined`}
              {view && ` · view at ${view.bound.text} (${view.how})`}
            </Text>
            <SegmentedControl
              size="xs"
              aria-label="Show results as"
              value={as}
              onChange={(v) => setAs(v as 'table' | 'json')}
              data={[
                { value: 'table', label: 'Table' },
                { value: 'json', label: 'Extended JSON' },
              ]}
            />
          </Group>
          {as === 'table' ? <ResultsTable /> : <ResultsJson />}
          {more && (
            <Button size="xs" variant="subtle" mt="xs" onClick={() => void loadMore()} loading={loadingMore}>
              Load more
            </Button>
          )}
        </>
      )}
    </div>
  );
}
