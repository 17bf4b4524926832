import { Alert, Loader, Group, Text } from '@mantine/core';
import { EmptyState } from '../../ui/EmptyState';
import { Section } from '../../ui/Section';
import { useSources } from '../sources/sources-store';
import { useDashboard } from './dashboard-store';
import { EngineCard } from './EngineCard';
import { SourceCards } from './SourceCards';

export function Dashboard() {
  const sources = useSources((s) => s.sources);
  const listError = useSources((s) => s.error);
  const statusError = useDashboard((s) => s.error);
  const error = listError ?? statusError;
  return (
    <Section
      title="Dashboard"
      lead="A card per source: live recovery point against its objective, last and next snapshot, point-in-time window coverage and gaps, storage used and written per day, last restore test, open alerts."
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
        <SourceCards sources={sources} />
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
