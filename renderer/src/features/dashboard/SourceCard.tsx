import { Badge, Card, Group, Stack, Table, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { bytes, duration, hours } from '../../ui/format';
import { Time } from '../../ui/Time';
import type { SourceView } from '../sources/sources-store';
import type { RestoreTestSummary, SourceOverview, SourceStatus } from './dashboard-store';
import { StorageTrend } from './StorageTrend';

const CAPTURE_COLOR: Record<SourceStatus['capture']['state'], string> = {
  capturing: 'teal',
  starting: 'blue',
  paused: 'yellow',
  reconnecting: 'orange',
  'write-failed': 'red',
  stopped: 'gray',
};

const JOB_COLOR: Record<SourceOverview['jobState'], string> = {
  active: 'teal',
  stopped: 'gray',
  inactive: 'gray',
  misconfigured: 'red',
};

function Row({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <Table.Tr>
      <Table.Th w={150} scope="row">
        {label}
      </Table.Th>
      <Table.Td data-testid={testId}>{children}</Table.Td>
    </Table.Tr>
  );
}

/** Live recovery point: red, and said in words, above the policy's objective. */
function RecoveryPoint({ status, overview }: { status?: SourceStatus; overview?: SourceOverview }) {
  if (!status) return <>…</>;
  const rp = status.capture.recoveryPointSeconds;
  const objective = overview?.rpoObjectiveSeconds;
  const above = rp !== null && objective !== undefined && rp > objective;
  return (
    <Text
      span
      size="sm"
      c={above ? 'red' : undefined}
      fw={above ? 700 : undefined}
      data-above-objective={above}
    >
      {rp !== null
        ? duration(rp)
        : status.capture.state === 'capturing'
          ? 'nothing captured yet'
          : 'not capturing'}
      {objective !== undefined && (
        <Text span size="sm" c={above ? 'red' : 'dimmed'} fw={400}>
          {above ? ` — above the objective of ${duration(objective)}` : ` (objective ${duration(objective)})`}
        </Text>
      )}
    </Text>
  );
}

function PitrWindow({ overview, status }: { overview?: SourceOverview; status?: SourceStatus }) {
  if (!overview) return <>…</>;
  const w = overview.pitrWindow;
  if (status && status.coverage.intervals.length === 0 && w.coveredSeconds === 0)
    return <>no oplog captured yet (window {w.hours} h)</>;
  return (
    <Stack gap={2}>
      <Text span size="sm">
        {duration(w.coveredSeconds)} of {w.hours} h covered · {duration(w.restorableSeconds)} restorable
      </Text>
      {w.gaps.length === 0 ? (
        <Text span size="sm" c="dimmed">
          no gap
        </Text>
      ) : (
        <Text span size="sm" c="red" data-testid="pitr-gaps">
          {w.gaps.length} gap{w.gaps.length > 1 ? 's' : ''} ({duration(w.gapSeconds)} lost):{' '}
          {w.gaps.map((g, k) => (
            <span key={g.after.text}>
              {k > 0 && ', '}
              {g.reason} after <Time iso={g.after.wall} />
            </span>
          ))}
        </Text>
      )}
    </Stack>
  );
}

function NextSnapshot({ overview }: { overview?: SourceOverview }) {
  if (!overview) return <>…</>;
  const n = overview.nextSnapshot;
  if (!n) return <>none scheduled (job {overview.jobState})</>;
  return (
    <>
      <Time iso={n.at} age />{' '}
      <Text span size="sm" c="dimmed">
        ({n.tiers.join(', ')})
      </Text>
    </>
  );
}

function RestoreTest({ test }: { test: RestoreTestSummary | null | undefined }) {
  const next = test?.nextRunAt ? (
    <Text span size="sm" c="dimmed">
      {' '}
      · next <Time iso={test.nextRunAt} age />
    </Text>
  ) : null;
  const last = test?.last;
  if (!last)
    return (
      <>
        <Text span size="sm" c="dimmed">
          no restore test yet
        </Text>
        {next}
      </>
    );
  const [label, color] =
    last.passed === null ? ['running', 'blue'] : last.passed ? ['passed', 'teal'] : ['failed', 'red'];
  return (
    <>
      <Badge variant="light" color={color} className="state-badge">
        {label}
      </Badge>{' '}
      <Time iso={last.finishedAt ?? last.startedAt} age />
      {last.passed !== null && (
        <> · RTO {last.rtoSeconds === null ? 'not measured' : duration(last.rtoSeconds)}</>
      )}
      {next}
    </>
  );
}

/** One source's protection at a glance: is it protected right now, how well, and what it costs. */
export function SourceCard({
  source,
  status,
  overview,
  overviewError,
  restoreTest,
}: {
  source: SourceView;
  status?: SourceStatus;
  overview?: SourceOverview;
  overviewError?: string;
  restoreTest?: RestoreTestSummary | null;
}) {
  const snap = status?.lastSnapshot;
  return (
    <Card
      withBorder
      component="section"
      aria-label={`Protection of ${source.name}`}
      data-testid={`source-card-${source.name}`}
    >
      <Group justify="space-between" mb="xs" wrap="nowrap">
        <Title order={3} size="h4">
          {source.name}
        </Title>
        <Group gap={6} wrap="nowrap">
          {overview && (
            <Badge
              className="state-badge"
              variant="outline"
              color={JOB_COLOR[overview.jobState]}
              data-testid="job-state"
            >
              job {overview.jobState}
            </Badge>
          )}
          {status ? (
            <Badge
              className="state-badge"
              variant="light"
              color={CAPTURE_COLOR[status.capture.state]}
              data-testid="capture-state"
            >
              {status.capture.state}
            </Badge>
          ) : (
            <span data-testid="capture-state">…</span>
          )}
        </Group>
      </Group>
      {overviewError && (
        <Text size="sm" c="red" role="alert">
          {overviewError}
        </Text>
      )}
      <Table variant="vertical" withRowBorders={false} verticalSpacing={3} fz="sm">
        <Table.Tbody>
          <Row label="Recovery point" testId="recovery-point">
            <RecoveryPoint status={status} overview={overview} />
          </Row>
          <Row label="Last snapshot" testId="last-snapshot">
            {status ? snap?.completedAt ? <Time iso={snap.completedAt} age /> : 'none yet' : '…'}
          </Row>
          <Row label="Next snapshot" testId="next-snapshot">
            <NextSnapshot overview={overview} />
          </Row>
          <Row label="PITR window" testId="pitr-window">
            <PitrWindow overview={overview} status={status} />
          </Row>
          <Row label="Source oplog window" testId="oplog-window">
            {status?.oplogWindow ? (
              <>
                {hours(status.oplogWindow.hours)}{' '}
                <Text span c="dimmed" size="sm">
                  (measured <Time iso={status.oplogWindow.checkedAt} />)
                </Text>
              </>
            ) : (
              'unknown'
            )}
          </Row>
          <Row label="Storage used" testId="storage-used">
            {overview ? (
              <>
                {bytes(overview.storage.storedBytes)}{' '}
                <Text span c="dimmed" size="sm">
                  (snapshots {bytes(overview.storage.snapshotBytes)}, oplog{' '}
                  {bytes(overview.storage.oplogBytes)})
                </Text>
              </>
            ) : (
              '…'
            )}
          </Row>
          <Row label="Last restore test" testId="restore-test">
            <RestoreTest test={restoreTest} />
          </Row>
          <Row label="Open alerts" testId="open-alerts">
            {status?.openAlerts.length ? (
              <Stack gap={4}>
                {status.openAlerts.map((a) => (
                  <Text key={a.id} size="sm" c={a.severity === 'critical' ? 'red' : 'yellow.8'}>
                    {a.kind}: {a.message}
                  </Text>
                ))}
              </Stack>
            ) : status ? (
              'none'
            ) : (
              '…'
            )}
          </Row>
        </Table.Tbody>
      </Table>
      {overview && (
        <div className="trend">
          <Text size="xs" c="dimmed" mt="xs">
            Storage held at the end of each day, last {overview.storage.days.length} days (compressed)
          </Text>
          <StorageTrend days={overview.storage.days} source={source.name} />
        </div>
      )}
    </Card>
  );
}
