import { Radio, Group, Select, Stack, Text, TextInput } from '@mantine/core';
import { DateTimePicker } from '@mantine/dates';
import type { UseFormReturnType } from '@mantine/form';
import { localDateTime, utcDateTime } from '../../ui/format';
import type { SourceView } from '../sources/sources-store';
import { PlanSummary, type PlanState } from './PlanSummary';
import type { SnapshotView } from './restores-store';
import { chosenPoint, type PointMode, type WizardValues } from './wizard-values';

const MODES: { value: PointMode; label: string }[] = [
  { value: 'latest', label: 'Latest captured' },
  { value: 'datetime', label: 'Date and time' },
  { value: 'optime', label: 'Oplog timestamp' },
  { value: 'snapshot', label: 'A snapshot' },
];

/** Step 1: which source, and which point: the newest entry, a second, an exact `t:i`, or a snapshot. */
export function PointStep({
  form,
  sources,
  snapshots,
  plan,
  onPick,
}: {
  form: UseFormReturnType<WizardValues>;
  sources: SourceView[];
  snapshots: SnapshotView[];
  plan: PlanState;
  /** A nearest restorable point was clicked. */
  onPick: (optime: string) => void;
}) {
  const v = form.getValues();
  const point = chosenPoint(v);
  const complete = snapshots.filter((s) => s.status === 'complete' && s.consistentTs);
  return (
    <Stack gap="sm">
      <Select
        label="Source"
        placeholder="Choose a source"
        data={sources.map((s) => ({ value: s.name, label: s.imported ? `${s.name} (imported)` : s.name }))}
        allowDeselect={false}
        {...form.getInputProps('source')}
        onChange={(name) => {
          form.setValues({ source: name ?? '', snapshot: null, unchecked: [], confirm: '' });
        }}
      />
      <Radio.Group label="Restore point" {...form.getInputProps('pointMode')}>
        <Group gap="md" mt={4}>
          {MODES.map((m) => (
            <Radio key={m.value} value={m.value} label={m.label} />
          ))}
        </Group>
      </Radio.Group>
      {v.pointMode === 'datetime' && (
        <DateTimePicker
          label="Date and time (this computer's time zone)"
          description={
            point
              ? `Every entry with a time up to this second is replayed: ${utcDateTime(point)}.`
              : 'Every entry up to the chosen second is replayed.'
          }
          withSeconds
          timePickerProps={{
            hoursInputLabel: 'Hours',
            minutesInputLabel: 'Minutes',
            secondsInputLabel: 'Seconds',
          }}
          valueFormat="YYYY-MM-DD HH:mm:ss"
          placeholder="Pick a date and time"
          clearable
          maw={360}
          {...form.getInputProps('datetime')}
        />
      )}
      {v.pointMode === 'optime' && (
        <TextInput
          label="Oplog timestamp (t:i)"
          description="Every entry with ts ≤ t:i is replayed."
          placeholder="1795000000:1"
          classNames={{ input: 'mono' }}
          maw={360}
          {...form.getInputProps('optime')}
        />
      )}
      {v.pointMode === 'snapshot' && (
        <Select
          label="Snapshot"
          placeholder={complete.length ? 'Choose a snapshot' : 'No complete snapshot yet'}
          data={complete
            .slice()
            .reverse()
            .map((s) => ({
              value: s.id,
              label: `${localDateTime(s.consistentTs!.wall)} · ${s.documents.toLocaleString('en-US')} documents · ${s.id}`,
            }))}
          {...form.getInputProps('snapshot')}
        />
      )}
      {v.source ? (
        <PlanSummary plan={plan} snapshots={snapshots} onPick={onPick} />
      ) : (
        <Text size="sm" c="dimmed">
          Choose a source to see its restore points.
        </Text>
      )}
    </Stack>
  );
}
