import { Button, Group, Switch, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { localDateTime, epochSecondsToIso, utcDateTime } from '../../ui/format';
import { useTimeline, zoomIn, zoomOut } from './timeline-store';
import { parseTypedInstant, spanOf, ZOOM_LEVELS } from './time-scale';

/** Zoom and pan by buttons, a typed date to go to, and whether the view follows the live edge. */
export function TimelineToolbar() {
  const follow = useTimeline((s) => s.follow);
  const fetching = useTimeline((s) => s.fetching);
  const [typed, setTyped] = useState('');
  const [typedError, setTypedError] = useState<string | null>(null);
  const pan = (share: number) => {
    const v = useTimeline.getState().view;
    if (v) useTimeline.getState().pan(spanOf(v) * share);
  };
  const goTo = () => {
    const t = parseTypedInstant(typed);
    if (t === null) {
      setTypedError('Type a date and time: 2026-11-23 12:22:58 (local), or ISO with a zone (…T11:22:58Z).');
      return;
    }
    setTypedError(null);
    // A typed second is shown a minute wide, with that second picked on the selected source.
    const s = useTimeline.getState();
    s.zoomTo(60, t);
    const source = s.selected;
    if (source) void s.pick(source, t);
  };
  return (
    <Group gap="xs" wrap="wrap" align="flex-end">
      <Group gap={4}>
        <Button size="xs" variant="default" onClick={zoomIn} aria-label="Zoom in" title="Zoom in (+)">
          +
        </Button>
        <Button size="xs" variant="default" onClick={zoomOut} aria-label="Zoom out" title="Zoom out (−)">
          −
        </Button>
        {ZOOM_LEVELS.map((z) => (
          <Button
            key={z.id}
            size="xs"
            variant="subtle"
            onClick={() => useTimeline.getState().zoomTo(z.seconds)}
            aria-label={`Zoom to ${z.label.toLowerCase()}`}
          >
            {z.label}
          </Button>
        ))}
        <Button size="xs" variant="subtle" onClick={() => useTimeline.getState().fitAll()}>
          All
        </Button>
      </Group>
      <Group gap={4}>
        <Button
          size="xs"
          variant="default"
          onClick={() => pan(-0.5)}
          aria-label="Earlier"
          title="Earlier (←)"
        >
          ←
        </Button>
        <Button size="xs" variant="default" onClick={() => pan(0.5)} aria-label="Later" title="Later (→)">
          →
        </Button>
      </Group>
      <Switch
        size="sm"
        label="Follow live edge"
        checked={follow}
        onChange={(e) => useTimeline.getState().setFollow(e.currentTarget.checked)}
      />
      <Group gap={4} align="flex-end">
        <TextInput
          size="xs"
          label="Go to"
          placeholder="2026-11-23 12:22:58"
          value={typed}
          error={typedError}
          onChange={(e) => setTyped(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') goTo();
          }}
        />
        <Button size="xs" variant="default" onClick={goTo}>
          Go
        </Button>
      </Group>
      {fetching > 0 && (
        <Text size="xs" c="dimmed" role="status">
          Loading…
        </Text>
      )}
    </Group>
  );
}

/** The second under the cursor: local time with UTC beside it. */
export function CursorReadout() {
  const cursor = useTimeline((s) => s.cursor);
  if (cursor === null)
    return (
      <Text size="xs" c="dimmed" data-testid="timeline-cursor">
        Point at the timeline to read a second; click it to see what a restore there would use.
      </Text>
    );
  const iso = epochSecondsToIso(cursor);
  return (
    <Text size="xs" data-testid="timeline-cursor">
      <time dateTime={iso}>{localDateTime(iso)}</time> local · {utcDateTime(iso)}
    </Text>
  );
}
