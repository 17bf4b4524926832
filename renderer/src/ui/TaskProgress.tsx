import { Group, Progress, Text } from '@mantine/core';
import { useTask } from '../app/tasks-store';
import { Time } from './Time';

const VERB = { running: 'running', succeeded: 'finished', failed: 'failed', cancelled: 'cancelled' } as const;

/**
 * A task's progress as the tasks slice knows it: a bar while it runs (with
 * the engine's own words for the step), then how it ended and when.
 */
export function TaskProgress({ taskId, label }: { taskId: string | null | undefined; label: string }) {
  const task = useTask(taskId);
  if (!task) return null;
  const { progress, state } = task;
  const percent = progress.total ? Math.min(100, (progress.done / progress.total) * 100) : null;
  return (
    <div data-testid={`task-${task.kind}`} data-state={state}>
      <Group gap="xs" wrap="nowrap">
        <Text size="sm" fw={500}>
          {label} {VERB[state]}
        </Text>
        {state !== 'running' && task.finishedAt && (
          <Text size="sm" c="dimmed">
            <Time iso={task.finishedAt} age />
          </Text>
        )}
        {state === 'running' && progress.total !== null && (
          <Text size="sm" c="dimmed">
            {progress.done} / {progress.total} {progress.unit}
          </Text>
        )}
      </Group>
      {state === 'running' && (
        <Progress
          aria-label={`${label} progress`}
          value={percent ?? 100}
          animated={percent === null}
          striped={percent === null}
          size="sm"
          mt={4}
          maw={420}
        />
      )}
      {state === 'running' && progress.message && (
        <Text size="xs" c="dimmed">
          {progress.message}
        </Text>
      )}
      {task.error && (
        <Text size="sm" c="red">
          {task.error.message}
        </Text>
      )}
    </div>
  );
}
