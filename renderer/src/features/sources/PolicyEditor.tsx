import {
  Button,
  Checkbox,
  Fieldset,
  Group,
  NativeSelect,
  NumberInput,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import type { CommandInput, Weekday } from '../../../../engine/api/contract';
import { errorMessage } from '../../app/connection-store';
import { ErrorText } from '../../ui/ErrorText';
import { FormFooter } from '../../ui/FormFooter';
import { WEEKDAYS, type Policy, type PolicyScalar, type Tiers } from './policy';
import { PolicyPreview } from './PolicyPreview';
import { useSources, type BackupJob } from './sources-store';

/** The policy's scalar settings, as the engine names them, with what a DBA reads. */
const SETTINGS: [key: PolicyScalar, label: string, step: number][] = [
  ['pitrWindowHours', 'Point-in-time window (hours, up to 720)', 1],
  ['onDemandKeepDays', 'Keep on-demand snapshots (days)', 1],
  ['rpoObjectiveSeconds', 'Recovery point objective (seconds)', 1],
  ['segmentSeconds', 'Cut oplog segments at least every (seconds)', 0.25],
  ['segmentMaxMB', 'Or when this much oplog is buffered (MB)', 1],
  ['oplogWindowAlertHours', 'Alert when the source oplog window is below (hours)', 1],
  ['diskAlertPercent', 'Alert when the repository disk is fuller than (%)', 1],
];

/**
 * The capture journal's fsync interval: captured entries count (recovery point) once fsynced, so
 * it bounds how far behind a crash can leave capture; each fsync costs a disk flush. The bounds
 * are the engine's (BackupPolicy.journalFsyncMs), checked here too so the field says what is wrong
 * while it is typed; the engine remains the judge.
 */
const FSYNC_MS = { min: 10, max: 10_000, fallback: 200 };

/** Why a journal fsync interval cannot be saved, or null. */
export function fsyncProblem(v: number | undefined): string | null {
  if (v === undefined) return null; // not set: the engine uses 200 ms
  if (!Number.isInteger(v) || v < FSYNC_MS.min || v > FSYNC_MS.max)
    return `A whole number of milliseconds from ${FSYNC_MS.min} to ${FSYNC_MS.max.toLocaleString('en-US')}.`;
  return null;
}

/** How long the fields must stay unchanged before the preview is asked again. */
export const PREVIEW_DELAY_MS = 300;

/** NumberInput gives '' while the field is empty: sent as NaN, which the engine refuses with a reason. */
const num = (v: string | number) => (v === '' ? NaN : Number(v));

/**
 * Edits a backup job's policy: the four snapshot tiers (times in UTC), the
 * point-in-time window and the alert objectives, or applies a preset. The
 * engine validates (a PCI-DSS policy cannot drop below 90 days of dailies);
 * its refusal is shown as is and nothing is saved.
 */
export function PolicyEditor({
  job,
  onSaved,
  onCancel,
}: {
  job: BackupJob;
  onSaved: () => void;
  onCancel: () => void;
}) {
  const setPolicyOnEngine = useSources((s) => s.setPolicy);
  const defaults = useSources((s) => s.defaults);
  const loadDefaults = useSources((s) => s.loadDefaults);
  const defaultsError = useSources((s) => s.defaultsError);
  const [policy, setPolicy] = useState<Policy>(() => structuredClone(job.policy));

  useEffect(() => {
    void loadDefaults();
  }, [loadDefaults]);
  // The preview follows the fields, once typing pauses.
  const previewPolicy = useSources((s) => s.previewPolicy);
  useEffect(() => {
    const t = setTimeout(() => void previewPolicy(job.source, policy), PREVIEW_DELAY_MS);
    return () => clearTimeout(t);
  }, [previewPolicy, job.source, policy]);
  const [error, setError] = useState<string | null>(null);

  const save = async (input: Omit<CommandInput<'backup-job.set'>, 'source'>) => {
    setError(null);
    try {
      await setPolicyOnEngine(job.source, input);
      onSaved();
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  const fsyncError = fsyncProblem(policy.journalFsyncMs);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (fsyncError) {
      setError('Nothing saved: correct the field marked in red.');
      return;
    }
    void save({ policy });
  };
  const setTier = <K extends keyof Tiers>(tier: K, value: Tiers[K]) =>
    setPolicy((p) => ({ ...p, [tier]: value }));
  const patchTier = <K extends keyof Tiers>(tier: K, patch: Partial<NonNullable<Tiers[K]>>) =>
    setPolicy((p) => ({ ...p, [tier]: { ...p[tier]!, ...patch } }));

  // `fields` is a function: a switched-off tier (null) has no values to render.
  const tierRow = <K extends keyof Tiers>(tier: K, fields: () => ReactNode) => (
    <Fieldset
      key={tier}
      data-testid={`tier-${tier}`}
      p="xs"
      legend={
        <Checkbox
          checked={policy[tier] !== null}
          // Switched on, a tier starts from the engine's default policy (backup-job.defaults).
          disabled={policy[tier] === null && !defaults}
          onChange={(e) => setTier(tier, e.currentTarget.checked ? defaults!.policy[tier] : null)}
          label={tier}
        />
      }
    >
      {policy[tier] && (
        <Group gap="sm" align="flex-end">
          {fields()}
        </Group>
      )}
    </Fieldset>
  );
  const timeField = (tier: 'daily' | 'weekly' | 'monthly') => (
    <TextInput
      type="time"
      label="at (UTC)"
      aria-label={`${tier} time (UTC)`}
      value={policy[tier]!.at}
      onChange={(e) => patchTier(tier, { at: e.currentTarget.value })}
      w={130}
    />
  );
  const numberField = (tier: keyof Tiers, key: string, label: string, max?: number) => (
    <NumberInput
      label={label}
      aria-label={`${tier} ${label}`}
      min={1}
      max={max}
      clampBehavior="none"
      allowDecimal={false}
      value={(policy[tier] as Record<string, number>)[key]}
      onChange={(v) => patchTier(tier, { [key]: num(v) } as never)}
      w={150}
    />
  );

  return (
    <Stack
      component="form"
      gap="sm"
      aria-label={`Backup policy of ${job.source}`}
      onSubmit={onSubmit}
      className="policy"
    >
      <Text size="sm" c="dimmed">
        Preset: <strong>{policy.preset}</strong>. Applying a preset replaces the policy; PCI-DSS keeps daily
        snapshots at least 90 days and refuses changes below that.
      </Text>
      <ErrorText message={defaultsError} />
      <Group gap="xs">
        <Button variant="light" onClick={() => void save({ preset: 'default' })}>
          Apply the default preset
        </Button>
        <Button variant="light" onClick={() => void save({ preset: 'pci-dss' })}>
          Apply the PCI-DSS preset
        </Button>
      </Group>
      {tierRow('hourly', () => (
        <>
          {numberField('hourly', 'everyHours', 'every (hours)', 24)}
          {numberField('hourly', 'keepDays', 'keep (days)')}
        </>
      ))}
      {tierRow('daily', () => (
        <>
          {timeField('daily')}
          {numberField('daily', 'keepDays', 'keep (days)')}
        </>
      ))}
      {tierRow('weekly', () => (
        <>
          <NativeSelect
            label="on"
            aria-label="weekly day"
            value={policy.weekly?.day}
            onChange={(e) => patchTier('weekly', { day: e.currentTarget.value as Weekday })}
            data={WEEKDAYS}
            w={150}
          />
          {timeField('weekly')}
          {numberField('weekly', 'keepWeeks', 'keep (weeks)')}
        </>
      ))}
      {tierRow('monthly', () => (
        <>
          {numberField('monthly', 'day', 'on day (1–28)', 28)}
          {timeField('monthly')}
          {numberField('monthly', 'keepMonths', 'keep (months)')}
        </>
      ))}
      <div className="form-grid">
        {SETTINGS.map(([key, label, step]) => (
          <NumberInput
            key={key}
            label={label}
            step={step}
            decimalScale={step < 1 ? 2 : 0}
            clampBehavior="none"
            value={policy[key]}
            onChange={(v) => setPolicy((p) => ({ ...p, [key]: num(v) }))}
          />
        ))}
        <NumberInput
          label="Fsync the capture journal every (ms)"
          description="Captured entries count once on disk: a longer interval means fewer disk flushes and a recovery point that trails by up to this much."
          step={50}
          min={FSYNC_MS.min}
          max={FSYNC_MS.max}
          allowDecimal={false}
          clampBehavior="none"
          value={policy.journalFsyncMs ?? defaults?.policy.journalFsyncMs ?? FSYNC_MS.fallback}
          error={fsyncError}
          onChange={(v) => setPolicy((p) => ({ ...p, journalFsyncMs: num(v) }))}
        />
      </div>
      <PolicyPreview source={job.source} />
      <FormFooter submit="Save policy" onCancel={onCancel} error={error} />
    </Stack>
  );
}
