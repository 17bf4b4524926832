/**
 * What the restore wizard's form holds (one @mantine/form over all steps),
 * and how it becomes a restore point and a command's input. Pure: the
 * component tests and the wizard read the same rules.
 */
import dayjs from 'dayjs';
import type { RestoreStart, SnapshotNamespaces, SnapshotView } from './restores-store';

export type PointMode = 'datetime' | 'optime' | 'snapshot' | 'latest';
export type RestoreKind = 'new-target' | 'local-mongod' | 'in-place' | 'dump';
export type WriteConcernChoice = 'default' | 'majority' | '1' | '0';

export interface Rename {
  from: string;
  to: string;
}

export interface WizardValues {
  source: string;
  pointMode: PointMode;
  /** The date-time picker's value, `YYYY-MM-DD HH:mm:ss` in this machine's time zone. */
  datetime: string | null;
  /** An exact oplog timestamp `t:i`. */
  optime: string;
  snapshot: string | null;
  kind: RestoreKind;
  targetUri: string;
  password: string;
  dumpFormat: 'directory' | 'archive';
  dumpPath: string;
  gzip: boolean;
  /** Namespaces left out of the restore (the tree shows everything chosen by default). */
  unchecked: string[];
  renames: Rename[];
  drop: boolean;
  /** Restore the snapshot's users and roles of the restored databases (restore.run usersRoles). */
  usersRoles: boolean;
  strict: boolean;
  parallel: number;
  writeConcern: WriteConcernChoice;
  /** The source's name typed again, for an in-place restore. */
  confirm: string;
}

export const initialValues = (source = ''): WizardValues => ({
  source,
  pointMode: 'latest',
  datetime: null,
  optime: '',
  snapshot: null,
  kind: 'new-target',
  targetUri: '',
  password: '',
  dumpFormat: 'directory',
  dumpPath: '',
  gzip: false,
  unchecked: [],
  renames: [],
  drop: false,
  usersRoles: false,
  strict: false,
  parallel: 4,
  writeConcern: 'default',
  confirm: '',
});

export const OPTIME = /^\d+:\d+$/;

/** A picker value in local time as the engine takes it: ISO-8601 with this machine's explicit offset. */
export function localToIso(value: string): string {
  return dayjs(value).format('YYYY-MM-DDTHH:mm:ssZ');
}

/**
 * The point as the user chose it (a snapshot id, a second, `t:i`, `latest`), or
 * null while it is incomplete. restore.run and restore.in-place take all of them.
 */
export function chosenPoint(v: WizardValues): string | null {
  switch (v.pointMode) {
    case 'latest':
      return 'latest';
    case 'optime':
      return OPTIME.test(v.optime.trim()) ? v.optime.trim() : null;
    case 'datetime':
      return v.datetime && dayjs(v.datetime).isValid() ? localToIso(v.datetime) : null;
    case 'snapshot':
      return v.snapshot;
  }
}

/**
 * The same point for restore.plan and export.dump, which take no snapshot id:
 * a snapshot is restored at its consistent point, so that is what they get.
 */
export function plannablePoint(v: WizardValues, snapshots: SnapshotView[]): string | null {
  if (v.pointMode !== 'snapshot') return chosenPoint(v);
  return snapshots.find((s) => s.id === v.snapshot)?.consistentTs?.text ?? null;
}

/** Include or exclude patterns for the chosen namespaces: whole databases as `db.*`, whichever list is shorter. */
export function namespacePatterns(
  all: SnapshotNamespaces['namespaces'],
  unchecked: readonly string[],
): { include: string[]; exclude: string[] } {
  const off = new Set(unchecked.filter((ns) => all.some((n) => n.ns === ns)));
  if (off.size === 0) return { include: [], exclude: [] };
  const byDb = new Map<string, string[]>();
  for (const n of all) byDb.set(n.db, [...(byDb.get(n.db) ?? []), n.ns]);
  const patterns = (keep: (ns: string) => boolean) =>
    [...byDb].flatMap(([db, names]) => {
      const kept = names.filter(keep);
      return kept.length === names.length ? [`${db}.*`] : kept;
    });
  const include = patterns((ns) => !off.has(ns));
  const exclude = patterns((ns) => off.has(ns));
  return include.length <= exclude.length ? { include, exclude: [] } : { include: [], exclude };
}

const WRITE_CONCERN: Record<WriteConcernChoice, 'majority' | number | undefined> = {
  default: undefined,
  majority: 'majority',
  '1': 1,
  '0': 0,
};

/** The command the wizard starts, with its input, or null while something it needs is missing. */
export function restoreRequest(
  v: WizardValues,
  snapshots: SnapshotView[],
  namespaces: SnapshotNamespaces | null,
): RestoreStart | null {
  const at = chosenPoint(v);
  if (!v.source || !at) return null;
  const { include, exclude } = namespacePatterns(namespaces?.namespaces ?? [], v.unchecked);
  const rename = v.renames
    .filter((r) => r.from.trim() && r.to.trim())
    .map((r) => `${r.from.trim()}=${r.to.trim()}`);
  const common = { source: v.source, include, exclude };
  switch (v.kind) {
    case 'new-target':
    case 'local-mongod': {
      if (v.kind === 'new-target' && !v.targetUri.trim()) return null;
      const w = WRITE_CONCERN[v.writeConcern];
      return {
        command: 'restore.run',
        input: {
          ...common,
          at,
          // The throwaway local mongod: the engine starts it (from the mongodBinary setting) if it is not running.
          ...(v.kind === 'local-mongod'
            ? { localMongod: true }
            : { targetUri: v.targetUri.trim(), ...(v.password ? { password: v.password } : {}) }),
          rename,
          drop: v.drop,
          usersRoles: v.usersRoles,
          strict: v.strict,
          parallel: v.parallel,
          ...(w !== undefined ? { writeConcern: w } : {}),
        },
      };
    }
    case 'in-place':
      return {
        command: 'restore.in-place',
        input: {
          ...common,
          inPlace: true,
          at,
          confirm: v.confirm,
          strict: v.strict,
          parallel: v.parallel,
        },
      };
    case 'dump': {
      const point = plannablePoint(v, snapshots);
      if (!point || !v.dumpPath.trim()) return null;
      const path = v.dumpPath.trim();
      return {
        command: 'export.dump',
        input: {
          ...common,
          at: point,
          ...(v.dumpFormat === 'directory' ? { out: path } : { archive: path }),
          gzip: v.gzip,
          rename,
        },
      };
    }
  }
}

/** An in-place restore starts only when the source's name is typed exactly (no trimming, same case). */
export const confirmed = (v: WizardValues): boolean => v.kind !== 'in-place' || v.confirm === v.source;
