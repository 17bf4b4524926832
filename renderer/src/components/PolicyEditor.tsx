import { useState, type FormEvent } from 'react';
import type { CommandOutput } from '../../../engine/api/contract';
import { FormFooter } from './FormFooter';
import { useApp } from '../store';

type Job = CommandOutput<'backup-job.get'>;
type Tiers = {
  hourly: { everyHours: number; keepDays: number } | null;
  daily: { at: string; keepDays: number } | null;
  weekly: { day: string; at: string; keepWeeks: number } | null;
  monthly: { day: number; at: string; keepMonths: number } | null;
};
type Policy = Tiers & Record<string, unknown>;

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
/** Used when a tier that was off is switched on; the engine validates whatever is saved. */
const TIER_STARTERS: Tiers = {
  hourly: { everyHours: 1, keepDays: 2 },
  daily: { at: '03:00', keepDays: 7 },
  weekly: { day: 'saturday', at: '03:00', keepWeeks: 4 },
  monthly: { day: 1, at: '03:00', keepMonths: 12 },
};
/** The policy's scalar settings, as the engine names them, with what a DBA reads. */
const SETTINGS: [key: string, label: string, step: number][] = [
  ['pitrWindowHours', 'Point-in-time window (hours, up to 720)', 1],
  ['onDemandKeepDays', 'Keep on-demand snapshots (days)', 1],
  ['rpoObjectiveSeconds', 'Recovery point objective (seconds)', 1],
  ['segmentSeconds', 'Cut oplog segments at least every (seconds)', 0.25],
  ['segmentMaxMB', 'Or when this much oplog is buffered (MB)', 1],
  ['oplogWindowAlertHours', 'Alert when the source oplog window is below (hours)', 1],
  ['diskAlertPercent', 'Alert when the repository disk is fuller than (%)', 1],
];

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
  job: Job;
  onSaved: (job: Job) => void;
  onCancel: () => void;
}) {
  const client = useApp((s) => s.client);
  const [policy, setPolicy] = useState<Policy>(() => structuredClone(job.policy) as Policy);
  const [error, setError] = useState<string | null>(null);

  const save = async (input: { preset?: 'default' | 'pci-dss'; policy?: Record<string, unknown> }) => {
    if (!client) return;
    setError(null);
    try {
      onSaved(await client.invoke('backup-job.set', { source: job.source, ...input }));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void save({ policy });
  };
  const setTier = <K extends keyof Tiers>(tier: K, value: Tiers[K]) =>
    setPolicy((p) => ({ ...p, [tier]: value }));
  const patchTier = <K extends keyof Tiers>(tier: K, patch: Partial<NonNullable<Tiers[K]>>) =>
    setPolicy((p) => ({ ...p, [tier]: { ...p[tier]!, ...patch } }));
  const num = (v: string) => (v === '' ? NaN : Number(v));

  // `fields` is a function: a switched-off tier (null) has no values to render.
  const tierRow = <K extends keyof Tiers>(tier: K, fields: () => React.ReactNode) => (
    <fieldset key={tier} data-testid={`tier-${tier}`}>
      <legend>
        <label className="inline">
          <input
            type="checkbox"
            checked={policy[tier] !== null}
            onChange={(e) => setTier(tier, e.target.checked ? (TIER_STARTERS[tier] as Tiers[K]) : null)}
          />
          {tier}
        </label>
      </legend>
      {policy[tier] && <div className="form-grid">{fields()}</div>}
    </fieldset>
  );
  const timeField = (tier: 'daily' | 'weekly' | 'monthly') => (
    <label className="inline full">
      at (UTC)
      <input
        type="time"
        aria-label={`${tier} time (UTC)`}
        value={policy[tier]!.at}
        onChange={(e) => patchTier(tier, { at: e.target.value })}
      />
    </label>
  );
  const numberField = (tier: keyof Tiers, key: string, label: string, max?: number) => (
    <label className="inline full">
      {label}
      <input
        type="number"
        min={1}
        max={max}
        aria-label={`${tier} ${label}`}
        value={String((policy[tier] as Record<string, unknown>)[key])}
        onChange={(e) => patchTier(tier, { [key]: num(e.target.value) } as never)}
      />
    </label>
  );

  return (
    <form className="policy" aria-label={`Backup policy of ${job.source}`} onSubmit={onSubmit}>
      <p className="hint">
        Preset: <strong>{String(job.policy.preset)}</strong>. Applying a preset replaces the policy; PCI-DSS
        keeps daily snapshots at least 90 days and refuses changes below that.
      </p>
      <div className="actions">
        <button type="button" onClick={() => void save({ preset: 'default' })}>
          Apply the default preset
        </button>
        <button type="button" onClick={() => void save({ preset: 'pci-dss' })}>
          Apply the PCI-DSS preset
        </button>
      </div>
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
          <label className="inline full">
            on
            <select
              aria-label="weekly day"
              value={policy.weekly?.day}
              onChange={(e) => patchTier('weekly', { day: e.target.value })}
            >
              {WEEKDAYS.map((d) => (
                <option key={d}>{d}</option>
              ))}
            </select>
          </label>
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
          <label key={key} className="inline full">
            {label}
            <input
              type="number"
              step={step}
              aria-label={label}
              value={String(policy[key])}
              onChange={(e) => setPolicy((p) => ({ ...p, [key]: num(e.target.value) }))}
            />
          </label>
        ))}
      </div>
      <FormFooter submit="Save policy" onCancel={onCancel} error={error} />
    </form>
  );
}
