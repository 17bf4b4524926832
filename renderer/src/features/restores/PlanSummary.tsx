import { Alert, Button, Group, Loader, Stack, Text } from '@mantine/core';
import { ErrorText } from '../../ui/ErrorText';
import { bytes, localDateTime } from '../../ui/format';
import { Time } from '../../ui/Time';
import type { RestorePlan, SnapshotView } from './restores-store';

/** The plan of the point being chosen, as restore.plan last answered it. */
export type PlanState =
  | { state: 'idle' }
  | { state: 'loading' }
  | { state: 'error'; message: string }
  | {
      state: 'ready';
      plan: RestorePlan;
      /** For a refusal: the nearest restorable points (`t:i`), null on a side that has none; undefined while looked for. */
      nearest?: { before: string | null; after: string | null };
    };

const REASON: Record<Extract<RestorePlan, { restorable: false }>['reason'], string> = {
  NO_COVERAGE: 'No oplog covers this point',
  BEFORE_WINDOW: 'Before the backup window',
  IN_GAP: 'In a gap of the oplog',
  IN_FUTURE: 'After the newest captured entry',
  NO_SNAPSHOT: 'No snapshot to start from',
};

/** An oplog timestamp `t:i` as the local second it falls in, with the exact value beside it (one string: a button's label is a flex row, which drops the spaces between pieces). */
const pointLabel = (ts: string) =>
  `${localDateTime(new Date(Number(ts.split(':')[0]) * 1000).toISOString())} (${ts})`;

/** Live answer to "can this point be restored, and from what?", with the nearest good points when not. */
export function PlanSummary({
  plan,
  snapshots,
  onPick,
}: {
  plan: PlanState;
  snapshots: SnapshotView[];
  onPick: (optime: string) => void;
}) {
  if (plan.state === 'idle')
    return (
      <Text size="sm" c="dimmed">
        Choose a point to see its plan.
      </Text>
    );
  if (plan.state === 'loading')
    return (
      <Group gap="xs">
        <Loader size="xs" />
        <Text size="sm">Planning…</Text>
      </Group>
    );
  if (plan.state === 'error') return <ErrorText message={plan.message} />;
  const p = plan.plan;
  if (p.restorable) {
    const snap = snapshots.find((s) => s.id === p.snapshot.id);
    return (
      <Alert color="teal" variant="light" title="Restorable" data-testid="plan">
        <Stack gap={2}>
          <Text size="sm">
            Snapshot <span className="mono">{p.snapshot.id}</span>
            {p.snapshot.completedAt && (
              <>
                {' '}
                taken <Time iso={p.snapshot.completedAt} />
              </>
            )}
            {snap &&
              ` · ${snap.documents.toLocaleString('en-US')} documents, ${bytes(snap.storedBytes)} stored`}
          </Text>
          <Text size="sm">
            Then at most {p.entriesToReplayAtMost.toLocaleString('en-US')} oplog entries in{' '}
            {p.segments.length} segment(s), replayed through {localDateTime(p.replayThrough.wall)}{' '}
            <span className="mono">({p.replayThrough.text})</span>.
          </Text>
        </Stack>
      </Alert>
    );
  }
  return (
    <Alert color="red" variant="light" title={`Not restorable: ${REASON[p.reason]}`} data-testid="plan">
      <Stack gap="xs">
        <Text size="sm">{p.message}</Text>
        {!plan.nearest ? (
          <Group gap="xs">
            <Loader size="xs" />
            <Text size="sm">Looking for the nearest restorable points…</Text>
          </Group>
        ) : plan.nearest.before || plan.nearest.after ? (
          <Group gap="xs">
            <Text size="sm">Nearest restorable:</Text>
            {plan.nearest.before && (
              <Button size="xs" variant="light" onClick={() => onPick(plan.nearest!.before!)}>
                {`Before: ${pointLabel(plan.nearest.before)}`}
              </Button>
            )}
            {plan.nearest.after && (
              <Button size="xs" variant="light" onClick={() => onPick(plan.nearest!.after!)}>
                {`After: ${pointLabel(plan.nearest.after)}`}
              </Button>
            )}
          </Group>
        ) : (
          <Text size="sm">No point of this source can be restored yet: take a snapshot first.</Text>
        )}
      </Stack>
    </Alert>
  );
}
