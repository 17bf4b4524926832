import { Paper, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';

/** What a section shows before there is anything in it: what will appear, and how to get there. */
export function EmptyState({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Paper withBorder p="lg" radius="md" role="note" className="empty-state">
      <Title order={3} size="h4" mb="xs">
        {title}
      </Title>
      <Text c="dimmed" size="sm" component="div">
        {children}
      </Text>
    </Paper>
  );
}
