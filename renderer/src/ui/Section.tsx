import { Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';

/** Every section starts the same way: its name (the one level-2 heading) and what it is for. */
export function Section({ title, lead, children }: { title: string; lead: ReactNode; children: ReactNode }) {
  return (
    <Stack gap="md">
      <div>
        <Title order={2}>{title}</Title>
        <Text c="dimmed" size="sm" mt={4}>
          {lead}
        </Text>
      </div>
      {children}
    </Stack>
  );
}
