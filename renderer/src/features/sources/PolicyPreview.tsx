import { Alert, Group, Loader, Paper, Stack, Table, Text, Title } from '@mantine/core';
import type { SnapshotTier } from '../../../../engine/api/contract';
import { bytes, duration } from '../../ui/format';
import { Time } from '../../ui/Time';
import { useSources, type PolicyPreview as Preview } from './sources-store';

type Kept = Preview['snapshots'][number];
type Keeper = SnapshotTier | 'on demand';

/** The tier that keeps a snapshot longest names it in the calendar (a daily taken at the hour is a daily). */
const KEEPER_ORDER: Keeper[] = ['monthly', 'weekly', 'daily', 'hourly'];
const keeper = (s: Kept): Keeper =>
  KEEPER_ORDER.find((t) => s.tiers.includes(t as SnapshotTier)) ?? 'on demand';
const LETTER: Record<Keeper, string> = {
  monthly: 'M',
  weekly: 'W',
  daily: 'D',
  hourly: 'H',
  'on demand': 'O',
};
/** Monday first, as ISO weeks (the policy's days are UTC). */
const WEEKDAY_HEADS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const DAY = 86_400_000;

const utcDay = (iso: string) => iso.slice(0, 10);

function counts(list: readonly Kept[]): [Keeper, number][] {
  const by = new Map<Keeper, number>();
  for (const s of list) by.set(keeper(s), (by.get(keeper(s)) ?? 0) + 1);
  return [...KEEPER_ORDER, 'on demand' as const].filter((k) => by.has(k)).map((k) => [k, by.get(k)!]);
}

/** Five weeks of days ending with the horizon's week: which snapshots from each day exist then. */
function Calendar({ preview }: { preview: Preview }) {
  const horizon = Date.parse(preview.horizon);
  const lastDay = Date.parse(`${utcDay(preview.horizon)}T00:00:00Z`);
  const sundayAfter = lastDay + ((7 - new Date(lastDay).getUTCDay()) % 7) * DAY;
  const first = sundayAfter - (5 * 7 - 1) * DAY;
  const byDay = new Map<string, Kept[]>();
  for (const s of preview.snapshots) byDay.set(utcDay(s.at), [...(byDay.get(utcDay(s.at)) ?? []), s]);
  const weeks = Array.from({ length: 5 }, (_, w) =>
    Array.from({ length: 7 }, (_, d) => new Date(first + (w * 7 + d) * DAY).toISOString().slice(0, 10)),
  );
  const older = preview.snapshots.filter((s) => Date.parse(s.at) < first);
  return (
    <Stack gap={4}>
      <Table
        className="preview-calendar"
        aria-label={`Snapshots that exist on ${utcDay(preview.horizon)}, by the UTC day they were taken`}
        withTableBorder
        withColumnBorders
        verticalSpacing={2}
        horizontalSpacing={4}
      >
        <Table.Thead>
          <Table.Tr>
            {WEEKDAY_HEADS.map((d) => (
              <Table.Th key={d} scope="col">
                {d}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {weeks.map((week) => (
            <Table.Tr key={week[0]}>
              {week.map((day) => {
                const kept = byDay.get(day) ?? [];
                const future = Date.parse(`${day}T00:00:00Z`) > horizon;
                const label = kept.length
                  ? `${day}: ${counts(kept)
                      .map(([k, n]) => `${n} ${k}`)
                      .join(', ')}`
                  : `${day}: none`;
                return (
                  <Table.Td
                    key={day}
                    data-day={day}
                    aria-label={label}
                    title={label}
                    className={
                      future
                        ? 'preview-day preview-day-after'
                        : kept.length
                          ? 'preview-day preview-day-kept'
                          : 'preview-day'
                    }
                  >
                    <Text span size="xs" c="dimmed">
                      {day.slice(5)}
                    </Text>
                    {kept.length > 0 && (
                      <Text size="xs" fw={600}>
                        {counts(kept)
                          .map(([k, n]) => `${n}${LETTER[k]}`)
                          .join(' ')}
                      </Text>
                    )}
                  </Table.Td>
                );
              })}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Text size="xs" c="dimmed">
        H hourly · D daily · W weekly · M monthly · O on demand (the tier that keeps it longest); days in UTC.
      </Text>
      {older.length > 0 && (
        <Text size="sm" data-testid="preview-older">
          Older, still kept:{' '}
          {older.map((s, k) => (
            <span key={s.at}>
              {k > 0 && ', '}
              {utcDay(s.at)} ({keeper(s)}
              {s.lockedUntil ? ', locked' : ''})
            </span>
          ))}
        </Text>
      )}
    </Stack>
  );
}

function Storage({ preview }: { preview: Preview }) {
  const st = preview.storage;
  const b = st.basis;
  return (
    <Stack gap={2} data-testid="preview-storage">
      <Text size="sm">
        Estimated storage then: <strong>{bytes(st.totalBytes)}</strong> — snapshots {bytes(st.snapshotBytes)},
        oplog {bytes(st.oplogBytes)} ({st.oplogDays.toFixed(1)} days kept)
      </Text>
      <Text size="xs" c="dimmed">
        {b.snapshotBytes === null
          ? 'No snapshot measured yet: planned snapshots count as 0 B.'
          : `${st.estimatedSnapshots} planned snapshot(s) sized like the newest one (${bytes(b.snapshotBytes)}).`}{' '}
        {b.oplogBytesPerDay === null
          ? 'No oplog captured yet: the oplog counts as 0 B.'
          : `Oplog at ${bytes(b.oplogBytesPerDay)} per day, measured over ${duration(b.oplogMeasuredDays * 86_400)}.`}
      </Text>
    </Stack>
  );
}

/**
 * What the policy being edited would keep a month from now, before it is saved: the engine runs
 * its scheduler and retention rules forward from today's snapshots (policy.preview), so this is
 * what retention will actually leave, and the storage that takes at this source's measured sizes.
 */
export function PolicyPreview({ source }: { source: string }) {
  const state = useSources((s) => s.previews[source]);
  const preview = state?.preview;
  return (
    <Paper withBorder p="sm" radius="md" component="section" aria-label="Preview of this policy">
      <Group gap="xs" mb={4}>
        <Title order={4} size="h6">
          A month from now
        </Title>
        {preview && (
          <Text span size="sm" c="dimmed">
            (<Time iso={preview.horizon} />)
          </Text>
        )}
        {state?.pending && <Loader size="xs" aria-label="Updating the preview" />}
      </Group>
      {state?.error && (
        <Text size="sm" c="red" role="alert">
          No preview for these values: {state.error}
        </Text>
      )}
      {!preview ? (
        !state?.error && (
          <Text size="sm" c="dimmed">
            Working out what this policy keeps…
          </Text>
        )
      ) : (
        <Stack gap="xs">
          {preview.problems.length > 0 && (
            <Alert color="red" variant="light" py={6} title="Saving would be refused">
              {preview.problems.join(' ')}
            </Alert>
          )}
          <Text size="sm" data-testid="preview-summary">
            {preview.snapshots.length} snapshot(s) kept
            {preview.snapshots.length > 0 &&
              `: ${counts(preview.snapshots)
                .map(([k, n]) => `${n} ${k}`)
                .join(', ')}`}{' '}
            · {preview.snapshots.filter((s) => s.existing).length} of them taken already · {preview.planned}{' '}
            taken in the month
          </Text>
          <Calendar preview={preview} />
          <Storage preview={preview} />
        </Stack>
      )}
    </Paper>
  );
}
