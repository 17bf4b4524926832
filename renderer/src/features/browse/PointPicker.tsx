import { Button, Group, NativeSelect, SegmentedControl, TextInput } from '@mantine/core';
import { DateTimePicker } from '@mantine/dates';
import { useState } from 'react';
import { ErrorText } from '../../ui/ErrorText';
import { OPTIME, isoFromPicker, modeOf, pickerFromIso, type PointMode } from './point';

/**
 * Which source and which point to browse: a date-time to the second (local
 * time, sent as UTC), an exact `t:i` (what the timeline hands over just
 * before an incident), or `latest`.
 */
export function PointPicker({
  sources,
  initial,
  onOpen,
}: {
  sources: string[];
  initial: { source: string; at: string } | null;
  onOpen: (source: string, at: string) => void;
}) {
  const [source, setSource] = useState(initial?.source ?? sources[0] ?? '');
  const [mode, setMode] = useState<PointMode>(initial ? modeOf(initial.at) : 'second');
  const [second, setSecond] = useState<string | null>(
    initial && modeOf(initial.at) === 'second' ? pickerFromIso(initial.at) : null,
  );
  const [optime, setOptime] = useState(initial && modeOf(initial.at) === 'optime' ? initial.at : '');
  const [error, setError] = useState<string | null>(null);
  const chosen = source || sources[0] || '';

  function open() {
    let at: string | null = 'latest';
    if (mode === 'second') at = isoFromPicker(second);
    if (mode === 'optime') at = OPTIME.test(optime.trim()) ? optime.trim() : null;
    if (!chosen) return setError('Choose a source.');
    if (!at)
      return setError(
        mode === 'second'
          ? 'Pick a date and time to the second.'
          : 'Type the point as t:i, e.g. 1795000000:6.',
      );
    setError(null);
    onOpen(chosen, at);
  }

  return (
    <div>
      <Group align="flex-end" gap="sm" wrap="wrap">
        <NativeSelect
          label="Source"
          data={sources}
          value={chosen}
          onChange={(e) => setSource(e.currentTarget.value)}
          disabled={sources.length === 0}
        />
        <SegmentedControl
          aria-label="Point kind"
          value={mode}
          onChange={(v) => setMode(v as PointMode)}
          data={[
            { value: 'second', label: 'Date-time' },
            { value: 'optime', label: 't:i' },
            { value: 'latest', label: 'Latest' },
          ]}
        />
        {mode === 'second' && (
          <DateTimePicker
            label="Point (local time)"
            withSeconds
            valueFormat="YYYY-MM-DD HH:mm:ss"
            placeholder="Pick a second"
            value={second}
            onChange={setSecond}
            popoverProps={{ withinPortal: true }}
            timePickerProps={{
              hoursInputLabel: 'Hours',
              minutesInputLabel: 'Minutes',
              secondsInputLabel: 'Seconds',
            }}
            submitButtonProps={{ 'aria-label': 'Set the point' }}
            miw={220}
          />
        )}
        {mode === 'optime' && (
          <TextInput
            label="Point (t:i)"
            placeholder="1795000000:6"
            value={optime}
            onChange={(e) => setOptime(e.currentTarget.value)}
          />
        )}
        <Button onClick={open} disabled={sources.length === 0}>
          Open
        </Button>
      </Group>
      <ErrorText message={error} />
    </div>
  );
}
