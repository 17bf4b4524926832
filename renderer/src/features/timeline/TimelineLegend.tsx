import { Group, Text } from '@mantine/core';

const ITEMS: [className: string, label: string][] = [
  ['tl-key-band', 'oplog captured'],
  ['tl-key-restorable', 'restorable'],
  ['tl-key-gap', 'gap'],
  ['tl-key-pending', 'not yet captured (recovery point)'],
  ['tl-key-monthly', 'monthly'],
  ['tl-key-weekly', 'weekly'],
  ['tl-key-daily', 'daily'],
  ['tl-key-hourly', 'hourly'],
  ['tl-key-ondemand', 'on demand'],
  ['tl-key-imported', 'imported'],
  ['tl-key-locked', 'locked by retention'],
  ['tl-key-live', 'live edge'],
  ['tl-key-pitr', 'PITR window start'],
  ['tl-key-inplace', 'in-place restore'],
];

/** What the colours and shapes on the canvas mean. */
export function TimelineLegend() {
  return (
    <Group gap="sm" wrap="wrap" aria-label="Legend" role="list">
      {ITEMS.map(([cls, label]) => (
        <Group key={cls} gap={4} role="listitem" wrap="nowrap">
          <span className={`tl-key ${cls}`} aria-hidden="true" />
          <Text size="xs" c="dimmed">
            {label}
          </Text>
        </Group>
      ))}
    </Group>
  );
}
