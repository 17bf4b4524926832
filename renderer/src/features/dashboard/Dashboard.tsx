import { Alert, Loader, Group, Text } from '@mantine/core';
import { EmptyState } from '../../ui/EmptyState';
import { Section } from '../../ui/Section';
import { useSources } from '../sources/sources-store';
import { useDashboard } from './dashboard-store';
import { EngineCard } from './EngineCard';
import { SourceTable } from './SourceTable';

export function Dashboard() {
  const sources = useSources((s) => s.sources);
  const listError = useSources((s) => s.error);
  const statusError = useDashboard((s) => s.error);
  const error = listError ?? statusError;
  return (
    <Section
      title="Dashboard"
      lead="The state of protection across every source: live recovery point, last snapshot, oplog coverage, storage used and open alerts."
    >
      {error && (
        <Alert role="alert" color="red" title="The engine did not answer">
          {error}
        </Alert>
      )}
      {sources === null ? (
        !error && (
          <Group gap="xs">
            <Loader size="sm" />
            <Text size="sm">Loading sources…</Text>
          </Group>
        )
      ) : sources.length > 0 ? (
        <SourceTable sources={sources} />
      ) : (
        <EmptyState title="No sources protected yet">
          Add a MongoDB replica set under <strong>Sources</strong>. Once its backup job is active, this page
          shows how many seconds of writes would be lost right now, the newest snapshot, gaps in oplog
          coverage and any alerts that need you.
        </EmptyState>
      )}
      <EngineCard />
    </Section>
  );
}
