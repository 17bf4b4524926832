/**
 * The review step's plain statement of what will happen, one sentence per
 * step, in the order the engine does them; the ones that destroy data are
 * marked so the screen shows them in red.
 */
import { bytes } from '../../ui/format';
import type { RestorePlan, SnapshotNamespaces } from './restores-store';
import { namespacePatterns, type WizardValues } from './wizard-values';

export interface StatementLine {
  text: string;
  destructive?: boolean;
}

const count = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** Which namespaces, in words: "all 3 namespaces (1,200 documents, 2.1 MiB)" or the chosen ones. */
export function selectionText(values: WizardValues, manifest: SnapshotNamespaces | null): string {
  if (!manifest) return 'every namespace of the snapshot';
  const chosen = manifest.namespaces.filter((n) => !values.unchecked.includes(n.ns));
  const docs = chosen.reduce((s, n) => s + n.documents, 0);
  const size = chosen.reduce((s, n) => s + n.bytes, 0);
  const totals = `${count(docs, 'document')}, ${bytes(size)}`;
  if (chosen.length === manifest.namespaces.length)
    return `all ${count(chosen.length, 'namespace')} (${totals})`;
  const { include, exclude } = namespacePatterns(manifest.namespaces, values.unchecked);
  return include.length
    ? `${count(chosen.length, 'namespace')}: ${include.join(', ')} (${totals})`
    : `${count(chosen.length, 'namespace')}, all but ${exclude.join(', ')} (${totals})`;
}

export function reviewStatement(
  values: WizardValues,
  plan: Extract<RestorePlan, { restorable: true }>,
  manifest: SnapshotNamespaces | null,
  pointLabel: string,
): StatementLine[] {
  const from =
    `${values.source} as it was at ${pointLabel}: snapshot ${plan.snapshot.id}, then at most ` +
    `${count(plan.entriesToReplayAtMost, 'oplog entry', 'oplog entries')} replayed through ${plan.replayThrough.text}.`;
  const what = `Namespaces: ${selectionText(values, manifest)}.`;
  const renames = values.renames
    .filter((r) => r.from.trim() && r.to.trim())
    .map((r) => ({ text: `Renamed on the way: ${r.from.trim()} becomes ${r.to.trim()}.` }));
  const failures = values.strict
    ? 'Strict: the first per-document failure (a duplicate key, a validation error) stops the restore.'
    : 'Per-document failures (duplicate keys, validation errors) are counted and reported with examples; they do not stop the restore.';

  const usersRoles = values.usersRoles
    ? [
        {
          text: `Users and roles of the restored databases are restored as they were at the point${values.drop ? ', replacing those of the target' : ', merged into those of the target'}.`,
          destructive: values.drop,
        },
      ]
    : [];
  switch (values.kind) {
    case 'new-target':
    case 'local-mongod':
      return [
        { text: `Restore ${from}` },
        {
          text:
            values.kind === 'local-mongod'
              ? 'Into the throwaway local mongod the app runs (started from the mongod binary in Settings if it is not running; the source is not touched).'
              : `Into the deployment at ${values.targetUri.trim()} (a new target; the source is not touched).`,
        },
        { text: what },
        ...renames,
        values.drop
          ? {
              text: 'Target collections that already exist are dropped first: whatever they hold is lost.',
              destructive: true,
            }
          : {
              text: 'If a target collection already holds documents, the restore refuses before writing anything.',
            },
        ...usersRoles,
        {
          text: `Collections and documents first (${count(values.parallel, 'collection')} at a time), then the indexes, then the oplog replay; a __mbm_restore_incomplete marker stays in the target until the end.`,
        },
        { text: failures },
        { text: 'Then the target is validated against the backup and the report is kept in the history.' },
      ];
    case 'in-place':
      return [
        { text: `Restore ${from}` },
        {
          text: `Into ${values.source} itself. Capture of ${values.source} is paused for the duration.`,
          destructive: true,
        },
        {
          text: `The chosen namespaces are dropped in ${values.source} and restored to the point: every write made to them after it is lost.`,
          destructive: true,
        },
        { text: what, destructive: true },
        { text: failures },
        {
          text: 'Capture resumes (its coverage has no gap) and a new snapshot is taken at once, because history was rewritten. Every step is written to the audit log.',
        },
      ];
    case 'dump':
      return [
        { text: `Export ${from}` },
        {
          text: `As a mongodump ${values.dumpFormat === 'directory' ? 'directory' : 'archive file'}${values.gzip ? ', gzip-compressed' : ''}, written to ${values.dumpPath.trim()} (it must not exist yet; nothing appears under that name until it is complete).`,
        },
        { text: what },
        ...renames,
        {
          text: `mongorestore --oplogReplay${values.dumpFormat === 'archive' ? ' --archive' : ''}${values.gzip ? ' --gzip' : ''} restores it anywhere.`,
        },
      ];
  }
}
