import { Alert, Stack, Table, Text } from '@mantine/core';
import { epochSecondsToIso, hours } from '../../ui/format';
import { Time } from '../../ui/Time';
import type { ProbeReportView } from './sources-store';

/** What `source test` found: topology, version, oplog window, privileges, and whether PITR is possible. */
export function ProbeReport({ report }: { report: ProbeReportView }) {
  const { topology, oplog, privileges, pitr } = report;
  const row = (label: string, value: React.ReactNode, color?: string) => (
    <Table.Tr>
      <Table.Th w={200}>{label}</Table.Th>
      <Table.Td c={color}>{value}</Table.Td>
    </Table.Tr>
  );
  return (
    <Stack gap="xs" data-testid="probe-report">
      <Table variant="vertical" withRowBorders={false} verticalSpacing={2}>
        <Table.Tbody>
          {row('Reachable', `yes${report.authenticated ? `, authenticated as ${report.user}` : ''}`, 'teal')}
          {row(
            'Topology',
            topology.kind === 'replicaSet'
              ? `replica set ${topology.setName} (${topology.members.length} member(s), primary ${topology.primary ?? 'none'})`
              : topology.kind,
          )}
          {row('Server version', report.serverVersion)}
          {row(
            'Oplog window',
            oplog ? (
              <>
                {hours(oplog.hours)} (<Time iso={epochSecondsToIso(oplog.first.t)} /> to{' '}
                <Time iso={epochSecondsToIso(oplog.last.t)} />)
              </>
            ) : (
              'no oplog'
            ),
          )}
          {row(
            'Privileges',
            `${privileges.sufficient ? 'sufficient' : `missing: ${privileges.missing.join(', ')}`} (${privileges.checked})`,
            privileges.sufficient ? 'teal' : 'red',
          )}
          {row(
            'Point-in-time restore',
            pitr.enabled ? 'possible' : `disabled: ${pitr.reason}`,
            pitr.enabled ? 'teal' : 'yellow.8',
          )}
        </Table.Tbody>
      </Table>
      {report.warnings.map((w) => (
        <Alert key={w} color="yellow" variant="light" py={6}>
          <Text size="sm">{w}</Text>
        </Alert>
      ))}
    </Stack>
  );
}
