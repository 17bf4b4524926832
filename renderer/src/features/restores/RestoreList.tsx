import { Stack, Text } from '@mantine/core';
import { TaskProgress } from '../../ui/TaskProgress';
import { useRestores } from './restores-store';

/** Restores started from this window, each with its task's progress (from the tasks slice). */
export function RestoreList() {
  const started = useRestores((s) => s.started);
  return (
    <Stack gap="sm">
      {started.map((r) => (
        <div key={r.taskId}>
          <Text size="sm">
            {r.source} to {r.point}
          </Text>
          <TaskProgress taskId={r.taskId} label="Restore" />
        </div>
      ))}
    </Stack>
  );
}
