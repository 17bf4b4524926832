import { Button, Group, List, Progress, Stack, Text, ThemeIcon } from '@mantine/core';
import { useState } from 'react';
import { errorMessage } from '../../app/connection-store';
import { useTask } from '../../app/tasks-store';
import { ErrorText } from '../../ui/ErrorText';
import { duration } from '../../ui/format';
import { useRestores } from './restores-store';
import { useTaskRate } from './task-rate';

const rate = (perSecond: number, unit: string) =>
  `${perSecond >= 100 ? Math.round(perSecond).toLocaleString('en-US') : perSecond.toFixed(1)} ${unit}/s`;

/** Step 5: the phases so far, the current one's progress, rate and time left, and Cancel. */
export function ProgressStep({ taskId }: { taskId: string }) {
  const task = useTask(taskId);
  const { phases, perSecond, unit, etaSeconds } = useTaskRate(taskId);
  const cancel = useRestores((s) => s.cancel);
  const [cancelling, setCancelling] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!task) return null;
  const running = task.state === 'running';
  const { done, total } = task.progress;
  const percent = total ? Math.min(100, (done / total) * 100) : null;
  const doCancel = async () => {
    setCancelling(true);
    setError(null);
    try {
      await cancel(taskId);
    } catch (err) {
      setError(errorMessage(err));
      setCancelling(false);
    }
  };
  return (
    <Stack gap="sm" data-testid="restore-progress" data-state={task.state}>
      <List spacing={4} size="sm" aria-label="Phases" center>
        {phases.map((p, k) => {
          const current = running && k === phases.length - 1;
          return (
            <List.Item
              key={p}
              icon={
                <ThemeIcon
                  size={16}
                  radius="xl"
                  color={current ? 'blue' : 'teal'}
                  variant={current ? 'light' : 'filled'}
                >
                  <span aria-hidden="true">{current ? '…' : '✓'}</span>
                </ThemeIcon>
              }
            >
              <Text span size="sm" fw={current ? 600 : 400}>
                {p}
              </Text>
            </List.Item>
          );
        })}
      </List>
      {running && (
        <>
          <Progress
            aria-label="Restore progress"
            value={percent ?? 100}
            animated={percent === null}
            striped={percent === null}
            maw={480}
          />
          <Group gap="md">
            {total !== null && (
              <Text size="sm">
                {done.toLocaleString('en-US')} / {total.toLocaleString('en-US')} {unit}
              </Text>
            )}
            {perSecond !== null && <Text size="sm">{rate(perSecond, unit)}</Text>}
            {etaSeconds !== null && <Text size="sm">about {duration(etaSeconds)} left in this phase</Text>}
          </Group>
          <Button
            color="red"
            variant="light"
            w="fit-content"
            disabled={cancelling}
            onClick={() => void doCancel()}
          >
            {cancelling ? 'Cancelling…' : 'Cancel'}
          </Button>
        </>
      )}
      {task.state === 'cancelled' && (
        <Text size="sm" c="red">
          Cancelled. A restore into a target leaves the __mbm_restore_incomplete marker there; the history
          says so.
        </Text>
      )}
      {task.error && task.state === 'failed' && <ErrorText message={task.error.message} />}
      <ErrorText message={error} />
    </Stack>
  );
}
