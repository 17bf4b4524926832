import { useEffect, useState } from 'react';
import { EmptyState } from '../components/EmptyState';
import { ErrorText } from '../components/ErrorText';
import { useApp } from '../store';

/** What each kind means to a DBA, and what to do about it. */
const KIND_HELP: Record<string, string> = {
  BACKUP_FAILED: 'A snapshot or the capture could not run; resolves itself after the next good snapshot.',
  PITR_GAP:
    'The source oplog rolled over before it was captured: points inside the gap cannot be restored. A new snapshot was started.',
  OPLOG_WINDOW_LOW: 'The source keeps less oplog than the objective; enlarge its oplog (replSetResizeOplog).',
  RPO_EXCEEDED: 'More seconds of writes than the objective would be lost right now.',
  DISK_NEARLY_FULL: 'The repository disk is nearly full; retention may need shortening or a bigger disk.',
  COPY_FAILING: 'Copying to a secondary location (NAS, removable disk) fails.',
  KEYCHAIN_UNPROTECTED:
    'The OS keychain offers no real encryption (or its file is damaged): passphrases and source passwords are not saved. Start a secret service (GNOME Keyring, KWallet) and restart the app.',
};

const utc = (iso: string) => iso.replace(/\.\d{3}Z$/, 'Z');

/** Every alert, open ones first to act on; acknowledging one is audited. */
export function Alerts() {
  const alerts = useApp((s) => s.alerts);
  const load = useApp((s) => s.loadAlerts);
  const resolve = useApp((s) => s.resolveAlert);
  const showLocal = useApp((s) => !!s.settings?.showLocalTime);
  const [onlyOpen, setOnlyOpen] = useState(true);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void load();
  }, [load]);

  const shown = onlyOpen ? alerts.filter((a) => !a.resolvedAt) : alerts;
  return (
    <>
      <h2>Alerts</h2>
      <p className="lead">
        Conditions that put backups at risk. They also appear as events and, in the desktop app, as
        notifications. Alerts whose condition clears resolve themselves; acknowledge the others once handled.
      </p>
      <label className="inline">
        <input type="checkbox" checked={onlyOpen} onChange={(e) => setOnlyOpen(e.target.checked)} /> Open
        alerts only
      </label>
      <ErrorText message={error} />
      {shown.length === 0 ? (
        <EmptyState title={onlyOpen ? 'No open alerts' : 'No alerts yet'}>
          Alerts are raised when a backup fails, the oplog rolls over before it is captured (a gap in
          point-in-time coverage), the source oplog window or the recovery point misses its objective, the
          repository disk is nearly full, or a secondary copy fails.
        </EmptyState>
      ) : (
        <table className="sources" aria-label="Alerts">
          <thead>
            <tr>
              <th scope="col">Raised (UTC)</th>
              <th scope="col">Source</th>
              <th scope="col">Alert</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((a) => (
              <tr key={a.id} data-testid={`alert-${a.id}`} className={`alert-${a.severity}`}>
                <td>
                  {utc(a.raisedAt)}
                  {showLocal && <div className="hint">{new Date(a.raisedAt).toLocaleString()}</div>}
                </td>
                <td>{a.source ?? 'all'}</td>
                <td>
                  <strong>
                    {a.kind} ({a.severity})
                  </strong>
                  <div>{a.message}</div>
                  {KIND_HELP[a.kind] && <div className="hint">{KIND_HELP[a.kind]}</div>}
                </td>
                <td>
                  {a.resolvedAt ? (
                    <>resolved {utc(a.resolvedAt)}</>
                  ) : (
                    <button
                      type="button"
                      onClick={() => void resolve(a.id).then(setError)}
                      aria-label={`Acknowledge alert ${a.id} (${a.kind})`}
                    >
                      Acknowledge
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
