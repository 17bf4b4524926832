import { Badge, Stack, Table, Text } from '@mantine/core';
import { duration, hours } from '../../ui/format';
import { Time } from '../../ui/Time';
import type { SourceView } from '../sources/sources-store';
import { useDashboard, type SourceStatus } from './dashboard-store';

const CAPTURE_COLOR: Record<SourceStatus['capture']['state'], string> = {
  capturing: 'teal',
  starting: 'blue',
  paused: 'yellow',
  reconnecting: 'orange',
  'write-failed': 'red',
  stopped: 'gray',
};

function Coverage({ status }: { status: SourceStatus }) {
  const iv = status.coverage.intervals;
  if (iv.length === 0) return <>no oplog yet</>;
  const last = iv[iv.length - 1]!;
  return (
    <>
      {iv.length} interval(s), {status.coverage.gaps.length} gap(s), newest to <Time iso={last.end.wall} />
    </>
  );
}

/** One row per source: is it protected right now, and how well. */
export function SourceTable({ sources }: { sources: readonly SourceView[] }) {
  const statuses = useDashboard((s) => s.statuses);
  return (
    <Table.ScrollContainer minWidth={900}>
      <Table aria-label="Protection by source" withTableBorder>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Source</Table.Th>
            <Table.Th scope="col">Capture</Table.Th>
            <Table.Th scope="col">Recovery point</Table.Th>
            <Table.Th scope="col">Last snapshot</Table.Th>
            <Table.Th scope="col">Coverage</Table.Th>
            <Table.Th scope="col">Source oplog window</Table.Th>
            <Table.Th scope="col">Open alerts</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {sources.map((src) => {
            const st = statuses[src.name];
            const snap = st?.lastSnapshot;
            return (
              <Table.Tr key={src.id} data-testid={`source-row-${src.name}`}>
                <Table.Th scope="row">{src.name}</Table.Th>
                <Table.Td>
                  {st ? (
                    <Badge
                      className="state-badge"
                      variant="light"
                      color={CAPTURE_COLOR[st.capture.state]}
                      data-testid="capture-state"
                    >
                      {st.capture.state}
                    </Badge>
                  ) : (
                    <span data-testid="capture-state">…</span>
                  )}
                </Table.Td>
                <Table.Td>{st ? duration(st.capture.recoveryPointSeconds) : '…'}</Table.Td>
                <Table.Td>{snap?.completedAt ? <Time iso={snap.completedAt} age /> : 'none yet'}</Table.Td>
                <Table.Td>{st ? <Coverage status={st} /> : '…'}</Table.Td>
                <Table.Td data-testid="oplog-window">
                  {st?.oplogWindow ? (
                    <>
                      {hours(st.oplogWindow.hours)}{' '}
                      <Text span c="dimmed" size="sm">
                        (measured <Time iso={st.oplogWindow.checkedAt} />)
                      </Text>
                    </>
                  ) : (
                    'unknown'
                  )}
                </Table.Td>
                <Table.Td>
                  {st?.openAlerts.length ? (
                    <Stack gap={4}>
                      {st.openAlerts.map((a) => (
                        <Text key={a.id} size="sm" c={a.severity === 'critical' ? 'red' : 'yellow.8'}>
                          {a.kind}: {a.message}
                        </Text>
                      ))}
                    </Stack>
                  ) : (
                    'none'
                  )}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
