import {
  Badge,
  Button,
  Group,
  Loader,
  NativeSelect,
  Paper,
  Table,
  Text,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { useEffect } from 'react';
import { useNavigation } from '../../app/navigation';
import { EmptyState } from '../../ui/EmptyState';
import { ErrorText } from '../../ui/ErrorText';
import { Time } from '../../ui/Time';
import { useSources } from '../sources/sources-store';
import { useIncidents, type IncidentView } from './incidents-store';

/** How each kind of finding is named in the list. */
const KIND_LABEL: Record<IncidentView['kind'], string> = {
  drop: 'Collection dropped',
  dropDatabase: 'Database dropped',
  dropIndexes: 'Indexes dropped',
  renameOverCollection: 'Renamed over a collection',
  massDelete: 'Mass delete',
  massUpdate: 'Mass update',
  transaction: 'Transaction',
};

/**
 * What the finder for destructive operations found in a source's captured
 * oplog, newest first, each with "restore to just before this": the restore
 * wizard opens with the point just before the event's first entry.
 */
export function IncidentList() {
  const sources = useSources((s) => s.sources);
  const source = useIncidents((s) => s.source);
  const list = useIncidents((s) => s.list);
  const loading = useIncidents((s) => s.loading);
  const error = useIncidents((s) => s.error);
  const select = useIncidents((s) => s.select);
  const reload = useIncidents((s) => s.reload);
  const handOff = useNavigation((s) => s.handOff);

  // The first source, once the list of sources is known, unless one is chosen already.
  const first = sources?.[0]?.name ?? null;
  useEffect(() => {
    if (!source && first) void select(first);
  }, [source, first, select]);

  const incidents = list ? [...list.incidents].reverse() : null;
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="incidents-title">
      <Group justify="space-between" mb="sm">
        <Title order={3} size="h4" id="incidents-title">
          Incidents
        </Title>
        <Group gap="xs">
          <NativeSelect
            aria-label="Source"
            data={(sources ?? []).map((s) => s.name)}
            value={source ?? ''}
            onChange={(e) => void select(e.currentTarget.value || null)}
            disabled={!sources?.length}
          />
          <Button variant="default" onClick={() => void reload()} disabled={!source} loading={loading}>
            Refresh
          </Button>
        </Group>
      </Group>
      <Text c="dimmed" size="sm" mb="sm">
        Drops, dropped databases and indexes, renames over a collection, and deletes or updates of more than{' '}
        {list?.scan.documents.toLocaleString('en-US') ?? 'N'} documents of one namespace within{' '}
        {list?.scan.seconds ?? 'M'} seconds (transactions included), found in the captured oplog.
      </Text>
      <ErrorText message={error} />
      {!source ? (
        sources !== null && (
          <EmptyState title="No source yet">
            Add a source under Sources: its oplog is searched as it is captured.
          </EmptyState>
        )
      ) : incidents === null ? (
        !error && (
          <Group gap="xs">
            <Loader size="sm" />
            <Text size="sm">Looking for incidents…</Text>
          </Group>
        )
      ) : incidents.length === 0 ? (
        <EmptyState title="No incidents found">
          Nothing destructive in the captured oplog of {source}
          {list?.scan.pendingSegments ? ` (${list.scan.pendingSegments} segments still to scan)` : ''}.
        </EmptyState>
      ) : (
        <Table aria-label="Incidents" withTableBorder>
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">When</Table.Th>
              <Table.Th scope="col">What</Table.Th>
              <Table.Th scope="col">Namespace</Table.Th>
              <Table.Th scope="col">Details</Table.Th>
              <Table.Th scope="col">Restore point before it</Table.Th>
              <Table.Th scope="col">
                <VisuallyHidden>Action</VisuallyHidden>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {incidents.map((f) => (
              <Table.Tr key={f.id}>
                <Table.Td>
                  <Time iso={f.wall ?? f.firstTs.wall} />
                  <Text size="xs" c="dimmed">
                    ts {f.firstTs.text}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Badge
                    color={f.kind === 'massUpdate' || f.kind === 'dropIndexes' ? 'yellow' : 'red'}
                    variant="light"
                  >
                    {KIND_LABEL[f.kind]}
                  </Badge>
                </Table.Td>
                <Table.Td>{f.ns}</Table.Td>
                <Table.Td>
                  <Text size="sm">{f.summary}</Text>
                  {f.lsid && (
                    <Text size="xs" c="dimmed">
                      session {f.lsid.id}
                      {f.txnNumber !== null ? `, txnNumber ${f.txnNumber}` : ''}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{f.restoreBefore ? f.restoreBefore.text : 'none captured'}</Table.Td>
                <Table.Td>
                  <Button
                    size="xs"
                    disabled={!f.restoreBefore}
                    title={f.restoreBefore ? undefined : 'Nothing was captured before this entry.'}
                    aria-label={`Restore ${source} to just before: ${f.summary}`}
                    onClick={() =>
                      f.restoreBefore &&
                      handOff({ action: 'restore', source, at: f.restoreBefore.text, ns: nsToFocus(f) })
                    }
                  >
                    Restore to just before this
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {list?.truncated && (
        <Text size="xs" c="dimmed" mt="xs">
          Only the newest {list.incidents.length} findings are shown.
        </Text>
      )}
    </Paper>
  );
}

/** The namespace the wizard preselects: the collection, or every collection of a dropped database. */
function nsToFocus(f: IncidentView): string {
  return f.kind === 'dropDatabase' ? `${f.ns}.*` : f.ns;
}
