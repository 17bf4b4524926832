import { useApp, type SourceStatus } from '../store';

const seconds = (n: number | null) => (n === null ? '—' : n < 120 ? `${n} s` : `${Math.round(n / 60)} min`);

function coverageText(s: SourceStatus): string {
  const iv = s.coverage.intervals;
  if (iv.length === 0) return 'no oplog yet';
  const last = iv[iv.length - 1]!;
  return `${iv.length} interval(s), ${s.coverage.gaps.length} gap(s), newest to ${last.end.wall}`;
}

/** One row per source: is it protected right now, and how well. */
export function SourceTable() {
  const sources = useApp((s) => s.sources);
  const statuses = useApp((s) => s.statuses);
  const localTime = useApp((s) => s.settings?.showLocalTime);
  if (sources.length === 0) return null;
  return (
    <table className="sources" aria-label="Protection by source">
      <thead>
        <tr>
          <th scope="col">Source</th>
          <th scope="col">Capture</th>
          <th scope="col">Recovery point</th>
          <th scope="col">Last snapshot</th>
          <th scope="col">Coverage</th>
          <th scope="col">Source oplog window</th>
          <th scope="col">Open alerts</th>
        </tr>
      </thead>
      <tbody>
        {sources.map((src) => {
          const st = statuses[src.name];
          const snap = st?.lastSnapshot;
          return (
            <tr key={src.id} data-testid={`source-row-${src.name}`}>
              <th scope="row">{src.name}</th>
              <td data-testid="capture-state">{st?.capture.state ?? '…'}</td>
              <td>{st ? seconds(st.capture.recoveryPointSeconds) : '…'}</td>
              <td>
                {snap?.completedAt ? (
                  <>
                    {snap.completedAt.replace('.000Z', 'Z')}
                    {localTime && (
                      <span className="hint"> ({new Date(snap.completedAt).toLocaleString()})</span>
                    )}
                  </>
                ) : (
                  'none yet'
                )}
              </td>
              <td>{st ? coverageText(st) : '…'}</td>
              <td data-testid="oplog-window">
                {st?.oplogWindow ? (
                  <>
                    {st.oplogWindow.hours.toFixed(1)} h
                    <span className="hint">
                      {' '}
                      (measured {st.oplogWindow.checkedAt.replace(/\.\d{3}Z$/, 'Z')})
                    </span>
                  </>
                ) : (
                  'unknown'
                )}
              </td>
              <td>
                {st?.openAlerts.length ? (
                  <ul className="alerts">
                    {st.openAlerts.map((a) => (
                      <li key={a.id} className={`alert-${a.severity}`}>
                        {a.kind}: {a.message}
                      </li>
                    ))}
                  </ul>
                ) : (
                  'none'
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
