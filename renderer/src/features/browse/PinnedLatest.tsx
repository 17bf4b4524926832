import { Button, Group, Text } from '@mantine/core';
import { useBrowse } from './browse-store';

/**
 * `latest` opened: the point it stood for when its view was built, held so that the tree and every
 * result read that one view while capture goes on, and the way on to the newest entry (the engine
 * moves that view forward in place when nothing else reads it).
 */
export function PinnedLatest() {
  const source = useBrowse((s) => s.source);
  const asked = useBrowse((s) => s.asked);
  const at = useBrowse((s) => s.at);
  const bound = useBrowse((s) => s.collections?.view.bound);
  const ns = useBrowse((s) => s.ns);
  const open = useBrowse((s) => s.open);
  if (!source || asked !== 'latest' || !at || at === 'latest' || !bound) return null;
  return (
    <Group gap="xs" data-testid="pinned-latest">
      <Text size="sm" c="dimmed">
        Latest as of {bound.wall.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')} ({bound.text}): held while
        you browse.
      </Text>
      <Button size="xs" variant="light" onClick={() => void open(source, 'latest', ns)}>
        Move to latest
      </Button>
    </Group>
  );
}
