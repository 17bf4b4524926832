import { useEffect, useState } from 'react';
import type { CommandOutput } from '../../../engine/api/contract';
import { useApp } from '../store';
import { PolicyEditor } from './PolicyEditor';

type Job = CommandOutput<'backup-job.get'>;
type Tier = {
  everyHours?: number;
  at?: string;
  day?: string | number;
  keepDays?: number;
  keepWeeks?: number;
  keepMonths?: number;
} | null;

/** "03:00 UTC (04:00 local)": schedules are in UTC; the local time is shown beside it. */
function utcAndLocal(at: string, showLocal: boolean): string {
  if (!showLocal) return `${at} UTC`;
  const [h, m] = at.split(':').map(Number) as [number, number];
  const d = new Date(Date.UTC(2026, 0, 1, h, m));
  return `${at} UTC (${d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })} local)`;
}

function describe(name: string, t: Tier, showLocal: boolean): string | null {
  if (!t) return null;
  switch (name) {
    case 'hourly':
      return `every ${t.everyHours} h, kept ${t.keepDays} days`;
    case 'daily':
      return `at ${utcAndLocal(t.at!, showLocal)}, kept ${t.keepDays} days`;
    case 'weekly':
      return `${t.day} at ${utcAndLocal(t.at!, showLocal)}, kept ${t.keepWeeks} weeks`;
    default:
      return `day ${t.day} at ${utcAndLocal(t.at!, showLocal)}, kept ${t.keepMonths} months`;
  }
}

export function BackupJobCard({ source }: { source: string }) {
  const client = useApp((s) => s.client);
  const showLocal = useApp((s) => !!s.settings?.showLocalTime);
  const [job, setJob] = useState<Job | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const [terminating, setTerminating] = useState(false);
  const [deleteBackups, setDeleteBackups] = useState(false);

  useEffect(() => {
    void client?.invoke('backup-job.get', { source }).then(setJob, (e: Error) => setMessage(e.message));
  }, [client, source]);

  if (!job) return <p className="hint">{message ?? 'Loading the backup job…'}</p>;
  const policy = job.policy as Record<string, unknown>;
  const act = async (f: () => Promise<unknown>, done: string) => {
    try {
      await f();
      if (done) setMessage(done);
      setJob(await client!.invoke('backup-job.get', { source }));
    } catch (e) {
      setMessage((e as Error).message);
    }
  };
  return (
    <div className="job" data-testid={`job-${source}`}>
      <div>
        Backup job: <strong data-testid="job-state">{job.state}</strong>
        {job.reason && <span className="status-error"> — {job.reason}</span>}
      </div>
      <ul className="tiers">
        {['hourly', 'daily', 'weekly', 'monthly'].map((t) => {
          const text = describe(t, policy[t] as Tier, showLocal);
          return text ? (
            <li key={t}>
              {t}: {text}
              {job.nextRuns[t] && (
                <span className="hint"> · next {job.nextRuns[t]!.replace('.000Z', 'Z')}</span>
              )}
            </li>
          ) : null;
        })}
        <li>
          point-in-time window: {String(policy.pitrWindowHours)} h · recovery point objective{' '}
          {String(policy.rpoObjectiveSeconds)} s
        </li>
      </ul>
      <div className="actions">
        <button
          type="button"
          onClick={() => void act(() => client!.invoke('snapshot.take', { source }), 'Snapshot started.')}
        >
          Take a snapshot now
        </button>
        {job.state === 'active' ? (
          <button
            type="button"
            onClick={() =>
              void act(() => client!.invoke('backup-job.stop', { source }), 'Backup job stopped.')
            }
          >
            Stop backups
          </button>
        ) : job.state === 'stopped' || job.state === 'misconfigured' ? (
          <button
            type="button"
            onClick={() =>
              void act(() => client!.invoke('backup-job.start', { source }), 'Backup job started.')
            }
          >
            {job.state === 'stopped' ? 'Start backups' : 'Retry now'}
          </button>
        ) : null}
        {job.state !== 'inactive' && (
          <button type="button" onClick={() => setEditing((v) => !v)} aria-expanded={editing}>
            Edit policy
          </button>
        )}
        {job.state !== 'inactive' && (
          <button type="button" onClick={() => setTerminating(true)}>
            Terminate…
          </button>
        )}
        {message && <span role="status">{message}</span>}
      </div>
      {terminating && (
        <div className="card" role="group" aria-label={`Terminate the backup job of ${source}`}>
          <p>
            Terminating makes the job Inactive: no new snapshots, no capture. Its backups stay unless you
            delete them here; anything under a retention lock is always kept.
          </p>
          <label className="inline">
            <input
              type="checkbox"
              checked={deleteBackups}
              onChange={(e) => setDeleteBackups(e.target.checked)}
            />
            Also delete its snapshots and oplog segments
          </label>
          <div className="actions">
            <button
              type="button"
              onClick={() =>
                void act(async () => {
                  const r = await client!.invoke('backup-job.terminate', {
                    source,
                    confirm: true,
                    deleteBackups,
                  });
                  setTerminating(false);
                  setMessage(
                    `Terminated; deleted ${r.deletedSnapshots} snapshot(s) and ${r.deletedSegments} segment(s), kept ${r.keptLocked} locked.`,
                  );
                }, '')
              }
            >
              Terminate the job
            </button>
            <button type="button" onClick={() => setTerminating(false)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {editing && (
        <PolicyEditor
          job={job}
          onCancel={() => setEditing(false)}
          onSaved={(saved) => {
            setJob(saved);
            setEditing(false);
            setMessage('Policy saved.');
          }}
        />
      )}
    </div>
  );
}
