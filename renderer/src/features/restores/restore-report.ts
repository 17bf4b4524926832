/**
 * A restore's report as the screen reads it. The contract keeps the report
 * an open record (restore kinds add their own parts), so its known parts are
 * picked out here, checked one by one: a part that is missing or of another
 * shape is simply not shown.
 */
import type { RestoreView } from './restores-store';

export interface ReportCheck {
  name: string;
  title: string;
  passed: boolean;
  findings: string[];
}

export interface ReportParts {
  phases: { name: string; ms: number }[];
  validation: {
    passed: boolean;
    checks: ReportCheck[];
    documentsCompared: number;
    namespaces: number;
  } | null;
  namespaces: { source: string; target: string; documents: number; failures: number }[];
  failures: { count: number; examples: { ns: string; op: string; message: string }[] };
  oplog: { entries: number; operations: number; failures: number } | null;
  durationMs: number | null;
  newSnapshot: string | null;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter(isObj) : []);

export function reportParts(restore: RestoreView): ReportParts {
  const r = restore.report ?? {};
  const v = isObj(r.validation) ? r.validation : null;
  const f = isObj(r.failures) ? r.failures : {};
  const o = isObj(r.oplog) ? r.oplog : null;
  return {
    phases: list(r.phases)
      .filter((p) => num(p.ms) !== null)
      .map((p) => ({ name: str(p.name), ms: num(p.ms)! })),
    validation: v
      ? {
          passed: v.passed === true,
          documentsCompared: num(v.documentsCompared) ?? 0,
          namespaces: num(v.namespaces) ?? 0,
          checks: list(v.checks).map((c) => ({
            name: str(c.name),
            title: str(c.title),
            passed: c.passed === true,
            findings: Array.isArray(c.findings) ? c.findings.map(String) : [],
          })),
        }
      : null,
    namespaces: list(r.namespaces).map((n) => ({
      source: str(n.source),
      target: str(n.target),
      documents: num(n.documents) ?? 0,
      failures: num(n.failures) ?? 0,
    })),
    failures: {
      count: num(f.count) ?? 0,
      examples: list(f.examples).map((e) => ({ ns: str(e.ns), op: str(e.op), message: str(e.message) })),
    },
    oplog: o
      ? { entries: num(o.entries) ?? 0, operations: num(o.operations) ?? 0, failures: num(o.failures) ?? 0 }
      : null,
    durationMs: num(r.durationMs),
    newSnapshot: typeof r.newSnapshot === 'string' ? r.newSnapshot : null,
  };
}

/** The outcome in one word for the history, with its colour: a restore that ran but did not validate is not a success. */
export function outcome(restore: RestoreView): { label: string; color: string } {
  if (restore.state === 'running') return { label: 'running', color: 'blue' };
  if (restore.state === 'cancelled') return { label: 'cancelled', color: 'gray' };
  if (restore.state === 'failed') return { label: 'failed', color: 'red' };
  const v = reportParts(restore).validation;
  if (v && !v.passed) return { label: 'validation failed', color: 'red' };
  return { label: v ? 'validated' : 'succeeded', color: 'teal' };
}

/** How long the restore took, in seconds (null while it runs). */
export function restoreSeconds(restore: RestoreView): number | null {
  if (!restore.finishedAt) return null;
  return (Date.parse(restore.finishedAt) - Date.parse(restore.startedAt)) / 1000;
}

export const KIND_LABEL: Record<string, string> = {
  'new-target': 'new target',
  'in-place': 'in place',
  'local-mongod': 'local mongod',
  'restore-test': 'restore test',
};
