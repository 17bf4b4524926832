import { Button, Checkbox, Group, Loader, Table, Text } from '@mantine/core';
import { useState } from 'react';
import { EmptyState } from '../../ui/EmptyState';
import { ErrorText } from '../../ui/ErrorText';
import { Section } from '../../ui/Section';
import { Time } from '../../ui/Time';
import { KIND_HELP } from './alert-kinds';
import { useAlerts } from './alerts-store';

/** Every alert, open ones first to act on; acknowledging one is audited. */
export function Alerts() {
  const alerts = useAlerts((s) => s.alerts);
  const loadError = useAlerts((s) => s.error);
  const resolve = useAlerts((s) => s.resolve);
  const [onlyOpen, setOnlyOpen] = useState(true);
  const [error, setError] = useState<string | null>(null);

  const shown = alerts && (onlyOpen ? alerts.filter((a) => !a.resolvedAt) : alerts);
  return (
    <Section
      title="Alerts"
      lead="Conditions that put backups at risk. They also appear as events and, in the desktop app, as notifications. Alerts whose condition clears resolve themselves; acknowledge the others once handled."
    >
      <Checkbox
        checked={onlyOpen}
        onChange={(e) => setOnlyOpen(e.currentTarget.checked)}
        label="Open alerts only"
      />
      <ErrorText message={error ?? loadError} />
      {shown === null ? (
        !loadError && (
          <Group gap="xs">
            <Loader size="sm" />
            <Text size="sm">Loading alerts…</Text>
          </Group>
        )
      ) : shown.length === 0 ? (
        <EmptyState title={onlyOpen ? 'No open alerts' : 'No alerts yet'}>
          Alerts are raised when a backup fails, the oplog rolls over before it is captured (a gap in
          point-in-time coverage), the source oplog window or the recovery point misses its objective, the
          repository disk is nearly full, or a secondary copy fails.
        </EmptyState>
      ) : (
        <Table aria-label="Alerts" withTableBorder>
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Raised</Table.Th>
              <Table.Th scope="col">Source</Table.Th>
              <Table.Th scope="col">Alert</Table.Th>
              <Table.Th scope="col">State</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {shown.map((a) => (
              <Table.Tr key={a.id} data-testid={`alert-${a.id}`}>
                <Table.Td>
                  <Time iso={a.raisedAt} age />
                </Table.Td>
                <Table.Td>{a.source ?? 'all'}</Table.Td>
                <Table.Td>
                  <Text fw={600} size="sm" c={a.severity === 'critical' ? 'red' : 'yellow.8'}>
                    {a.kind} ({a.severity})
                  </Text>
                  <Text size="sm">{a.message}</Text>
                  {KIND_HELP[a.kind] && (
                    <Text size="xs" c="dimmed">
                      {KIND_HELP[a.kind]}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  {a.resolvedAt ? (
                    <Text size="sm" c="dimmed">
                      resolved <Time iso={a.resolvedAt} />
                    </Text>
                  ) : (
                    <Button
                      size="xs"
                      variant="light"
                      onClick={() => void resolve(a.id).then(setError)}
                      aria-label={`Acknowledge alert ${a.id} (${a.kind})`}
                    >
                      Acknowledge
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Section>
  );
}
