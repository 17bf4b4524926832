import { Alert, Badge, Button, CloseButton, Group, Loader, Paper, Stack, Text, Title } from '@mantine/core';
import { useNavigation, type PointAction } from '../../app/navigation';
import { count, duration, epochSecondsToIso, localDateTime, utcDateTime } from '../../ui/format';
import { Time } from '../../ui/Time';
import { useTimeline, type PickedPoint } from './timeline-store';

const REASONS: Record<string, string> = {
  NO_COVERAGE: 'No oplog covers this second',
  BEFORE_WINDOW: 'Before the oldest captured oplog',
  IN_GAP: 'Inside a gap of the oplog',
  IN_FUTURE: 'After the newest captured entry',
  NO_SNAPSHOT: 'No snapshot to start from',
};

/** A second as the panel names it: local time, UTC beside it. */
function Second({ t }: { t: number }) {
  const iso = epochSecondsToIso(t);
  return (
    <span>
      <time dateTime={iso}>{localDateTime(iso)}</time>{' '}
      <Text span c="dimmed" size="sm">
        ({utcDateTime(iso)})
      </Text>
    </span>
  );
}

/**
 * What a restore at the picked second would use (snapshot, oplog entries to
 * replay, estimated time from the last measured restore) with the actions
 * that take the point elsewhere; or why it cannot be restored and the
 * nearest seconds that can.
 */
export function PointPanel() {
  const point = useTimeline((s) => s.point);
  if (!point) return null;
  return (
    <Paper
      withBorder
      p="md"
      radius="md"
      component="section"
      aria-label="Restore point"
      data-testid="point-panel"
    >
      <Group justify="space-between" align="flex-start" mb="xs">
        <div>
          <Title order={3} size="h5">
            {point.source} at <Second t={point.t} />
          </Title>
          {point.before && (
            <Text size="sm" data-testid="point-before">
              Just before: {point.before} (oplog timestamp {point.at})
            </Text>
          )}
        </div>
        <CloseButton aria-label="Close the point" onClick={() => useTimeline.getState().closePoint()} />
      </Group>
      <PointBody point={point} />
    </Paper>
  );
}

function PointBody({ point }: { point: PickedPoint }) {
  const { plan } = point;
  if (point.error)
    return (
      <Alert role="alert" color="red" title="The engine did not answer">
        {point.error}
      </Alert>
    );
  if (!plan)
    return (
      <Group gap="xs">
        <Loader size="xs" />
        <Text size="sm">Planning a restore to this second…</Text>
      </Group>
    );
  if (plan.restorable) return <Restorable point={point} plan={plan} />;
  return (
    <Stack gap="xs">
      <Group gap="xs">
        <Badge color="red" variant="light">
          Not restorable
        </Badge>
        <Text size="sm" fw={600}>
          {REASONS[plan.reason] ?? plan.reason}
        </Text>
      </Group>
      <Text size="sm">{plan.message}</Text>
      <Nearest point={point} />
    </Stack>
  );
}

function Nearest({ point }: { point: PickedPoint }) {
  if (point.loading || !point.nearest)
    return (
      <Group gap="xs">
        <Loader size="xs" />
        <Text size="sm">Looking for the nearest restorable seconds…</Text>
      </Group>
    );
  const { before, after } = point.nearest;
  if (before === null && after === null)
    return <Text size="sm">No second of this source can be restored yet: it needs a snapshot first.</Text>;
  const go = (t: number) => {
    const s = useTimeline.getState();
    s.zoomTo(60, t);
    void s.pick(point.source, t);
  };
  return (
    <Group gap="xs" aria-label="Nearest restorable points" role="group">
      <Text size="sm">Nearest restorable:</Text>
      {before !== null && (
        <Button size="xs" variant="light" onClick={() => go(before)}>
          Earlier: {localDateTime(epochSecondsToIso(before))}
        </Button>
      )}
      {after !== null && (
        <Button size="xs" variant="light" onClick={() => go(after)}>
          Later: {localDateTime(epochSecondsToIso(after))}
        </Button>
      )}
    </Group>
  );
}

function Restorable({
  point,
  plan,
}: {
  point: PickedPoint;
  plan: Extract<NonNullable<PickedPoint['plan']>, { restorable: true }>;
}) {
  const handOff = (action: PointAction) =>
    useNavigation.getState().handOff({ action, source: point.source, at: point.at });
  return (
    <Stack gap="xs">
      <Group gap="xs">
        <Badge color="teal" variant="light">
          Restorable
        </Badge>
        <Text size="sm">replayed through oplog timestamp {plan.replayThrough.text}</Text>
      </Group>
      <dl className="point-facts">
        <dt>Snapshot</dt>
        <dd>
          {plan.snapshot.id}, consistent at <Time iso={plan.snapshot.consistentTs.wall} />
          {point.documents !== null && ` (${count(point.documents)} documents)`}
        </dd>
        <dt>Oplog to replay</dt>
        <dd>
          at most {count(plan.entriesToReplayAtMost)} entries from {plan.segments.length} segment
          {plan.segments.length === 1 ? '' : 's'}
        </dd>
        <dt>Estimated time</dt>
        <dd data-testid="point-estimate">
          {point.loading ? (
            'measuring…'
          ) : point.rate && point.estimateSeconds !== null ? (
            <>
              about {duration(Math.max(1, point.estimateSeconds))}, at the rate of the restore finished{' '}
              <Time iso={point.rate.finishedAt} />
            </>
          ) : (
            'no restore measured yet: run a restore test to learn this source’s restore rate'
          )}
        </dd>
      </dl>
      <Group gap="xs">
        <Button size="xs" onClick={() => handOff('restore')}>
          {point.before ? 'Restore to just before this' : 'Restore here'}
        </Button>
        <Button size="xs" variant="default" onClick={() => handOff('browse')}>
          Browse here
        </Button>
        <Button size="xs" variant="default" onClick={() => handOff('export')}>
          Export here
        </Button>
      </Group>
    </Stack>
  );
}
