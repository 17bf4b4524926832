import type { ProbeReportView } from '../store';

export type Probe = ProbeReportView;

const ts = (t: { t: number }) => new Date(t.t * 1000).toISOString().replace('.000Z', 'Z');

/** What `source test` found: topology, version, oplog window, privileges, and whether PITR is possible. */
export function ProbeReport({ report }: { report: Probe }) {
  const { topology, oplog, privileges, pitr } = report;
  return (
    <div data-testid="probe-report">
      <dl className="facts">
        <dt>Reachable</dt>
        <dd className="ok">yes{report.authenticated ? `, authenticated as ${report.user}` : ''}</dd>
        <dt>Topology</dt>
        <dd>
          {topology.kind === 'replicaSet'
            ? `replica set ${topology.setName} (${topology.members.length} member(s), primary ${topology.primary ?? 'none'})`
            : topology.kind}
        </dd>
        <dt>Server version</dt>
        <dd>{report.serverVersion}</dd>
        <dt>Oplog window</dt>
        <dd>
          {oplog ? `${oplog.hours.toFixed(1)} h (${ts(oplog.first)} to ${ts(oplog.last)})` : 'no oplog'}
        </dd>
        <dt>Privileges</dt>
        <dd className={privileges.sufficient ? 'ok' : 'status-error'}>
          {privileges.sufficient ? 'sufficient' : `missing: ${privileges.missing.join(', ')}`} (
          {privileges.checked})
        </dd>
        <dt>Point-in-time restore</dt>
        <dd className={pitr.enabled ? 'ok' : 'warn'}>
          {pitr.enabled ? 'possible' : `disabled: ${pitr.reason}`}
        </dd>
      </dl>
      {report.warnings.map((w) => (
        <p key={w} className="warn">
          {w}
        </p>
      ))}
    </div>
  );
}
