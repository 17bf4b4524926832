/**
 * The API contract: every command and every event the engine offers, with
 * its input and output schemas, declared once. Electron IPC, the headless
 * WebSocket server, the CLI, the renderer's types and docs/api.md are all
 * derived from this table; adding a command here (and its handler in
 * handlers/) makes it reachable through all three doors.
 */
import { z } from 'zod';
import {
  AppInfo,
  AuditEntryView,
  Compression,
  Coverage,
  ErrorShape,
  Task,
  TaskProgress,
  TaskRef,
  TaskStarted,
  TaskState,
  RepositoryInfo,
  RepositoryRef,
  RestorePlanView,
  SecretPassphrase,
  Settings,
  SettingsChange,
  SnapshotView,
  SnapshotNamespacesView,
  RestoreReportFile,
  NamespacePatterns,
  OpTimeView,
  RestoreView,
  LocalMongodView,
  IsoInstant,
  TimelineView,
  IncidentView,
  IncidentScanView,
  SourceView,
  ProbeReportView,
  ReadPreference,
  AlertView,
  CaptureMetricsView,
  SourceStatus,
  SourceOverview,
  PolicyPreviewView,
  BackupJobView,
  BackupPolicy,
  BackupPolicyChange,
  RestoreTestStatusView,
  PolicyPreset,
  ConnectionUri,
  FsPath,
  Identifier,
  MAX_LIST,
  Namespace,
  Secret,
  SourceName,
  QueryText,
  ViewIdentity,
  PointViewInfo,
  QueryTarget,
  QueryFilter,
  QueryCollation,
  FindShape,
  CursorId,
  BatchSize,
  QueryAnswer,
  CollectionsAnswer,
  HistoryAnswer,
  ExportFormat,
  EjsonDocuments,
  ViewAnswer,
} from './schemas.js';

// The domain's shapes the renderer needs, as types (it imports nothing else from the engine).
export type {
  AlertKind,
  AlertSeverity,
  BackupJobState,
  BackupPolicy,
  RestoreTestSettings,
  RestoreTestTarget,
  PolicyPreset,
  SnapshotTier,
  Weekday,
} from './schemas.js';

interface CommandDef<I extends z.ZodType, O extends z.ZodType> {
  summary: string;
  input: I;
  output: O;
  /** Words the CLI accepts for this command besides the dotted name (e.g. `info`). */
  cliAliases?: readonly string[];
  /** Starts a task (long work): the output is `{taskId}` and the work reports through task events. */
  task?: boolean;
  /**
   * With --json, the CLI prints the items of this output field one per line (JSON lines) instead of
   * the whole answer, so a script can stream documents into jq or mongoimport.
   */
  cliLines?: string;
  /**
   * Writes nothing (no catalog row, no repository file): the CLI runs it with a read-only engine,
   * so it works beside the engine that holds the data dir (serve, desktop).
   */
  readOnly?: boolean;
  /**
   * The CLI states what the command will write and asks "Proceed? [y/N]" first; `--yes` answers it
   * (scripts), and without a terminal and without `--yes` nothing runs.
   */
  cliConfirm?: boolean;
}

const command = <I extends z.ZodType, O extends z.ZodType>(def: CommandDef<I, O>) => def;

/** An end of a range of findings: an oplog timestamp `t:i` or an ISO-8601 second with a zone. */
const IncidentBound = z
  .string()
  .max(100)
  .regex(
    /^(\d{1,10}:\d{1,10}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.0+)?(Z|[+-]\d{2}:\d{2}))$/,
    't:i or an ISO-8601 second with Z or an offset',
  );

const NoInput = z.strictObject({});

/** What names a restore and its target: restore.run and restore.validate take the same (validate checks a restore). */
const restoreTarget = {
  source: SourceName.describe('Source name.'),
  at: z.string().min(1).max(100).describe('latest, t:i, an ISO-8601 second with zone, or a snapshot id.'),
  targetUri: z.string().min(1).max(4000).describe('Connection string of the target deployment.'),
  password: z
    .string()
    .max(1000)
    .optional()
    .describe("Target user's password (CLI: only as --password-env VAR)."),
  include: NamespacePatterns.default([]).describe('Only these namespaces (db.*, db.coll).'),
  exclude: NamespacePatterns.default([]).describe('Not these namespaces.'),
  rename: NamespacePatterns.default([]).describe(
    'FROM=TO renames, e.g. shop.*=shop_staging.* ($var$ carries a part).',
  ),
};

/** restore.run and restore.validate: a target URI, or the throwaway local mongod instead. */
const restoreTargetOrLocal = {
  ...restoreTarget,
  targetUri: restoreTarget.targetUri
    .optional()
    .describe('Connection string of the target deployment (or localMongod).'),
  localMongod: z
    .boolean()
    .optional()
    .describe(
      'Restore into the throwaway local mongod (started from the mongodBinary setting if not running) instead of targetUri.',
    ),
};

/** restore.run and restore.validate name exactly one target. */
const oneTarget = (v: { targetUri?: string | undefined; localMongod?: boolean | undefined }) =>
  !!v.targetUri !== !!v.localMongod;
const ONE_TARGET = {
  message: 'Give exactly one target: targetUri, or localMongod for the throwaway local mongod.',
  path: ['targetUri'],
};

/** mongod's allowDiskUse for a sort or $group no index serves (default true, as allowDiskUseByDefault since 6.0). */
const AllowDiskUse = z
  .boolean()
  .default(true)
  .describe(
    "A sort or $group past its memory budget spills sorted runs to temporary files in the data dir (mongod's default since 6.0); false refuses it instead, as mongod with allowDiskUse: false.",
  );

export const commands = {
  'app.info': command({
    readOnly: true,
    summary: 'Version, data directory, catalog schema version and engine uptime.',
    input: NoInput,
    output: AppInfo,
    cliAliases: ['info'],
  }),
  'settings.get': command({
    readOnly: true,
    summary: 'All user settings, with defaults filled in.',
    input: NoInput,
    output: Settings,
  }),
  'settings.set': command({
    summary: 'Change some settings; returns all settings after the change.',
    input: SettingsChange,
    output: Settings,
  }),
  'task.list': command({
    readOnly: true,
    summary: 'Tasks (long work: snapshots, verification, copies) of this engine run, newest first.',
    input: z.strictObject({ state: TaskState.optional() }),
    output: z.array(Task),
    cliAliases: ['tasks'],
  }),
  'task.get': command({
    readOnly: true,
    summary: 'One task by id.',
    input: TaskRef,
    output: Task,
  }),
  'task.cancel': command({
    summary: 'Ask a running task to stop; it finishes with state "cancelled".',
    input: TaskRef,
    output: Task,
  }),
  'repo.init': command({
    summary: 'Create a backup repository in an empty directory and register it.',
    input: z.strictObject({
      path: FsPath.describe('Directory for the repository (created if absent, must be empty).'),
      encrypt: z
        .boolean()
        .optional()
        .describe('Encrypt every file with AES-256-GCM under a passphrase-wrapped key.'),
      passphrase: SecretPassphrase.optional(),
      compression: Compression.optional().describe('zstd (default) or gzip.'),
      level: z
        .number()
        .int()
        .min(1)
        .max(19)
        .optional()
        .describe('Compression level (zstd 1-19, gzip 1-9; default 3).'),
    }),
    output: RepositoryInfo,
  }),
  'repo.attach': command({
    summary: 'Register an existing repository (e.g. a disk carried from elsewhere) and index it.',
    input: z.strictObject({ path: FsPath, passphrase: SecretPassphrase.optional() }),
    output: RepositoryInfo,
  }),
  'repo.unlock': command({
    summary:
      'Unlock an encrypted repository for this run (the desktop app keeps the passphrase in the OS keychain).',
    input: z.strictObject({ repository: RepositoryRef.optional(), passphrase: SecretPassphrase }),
    output: RepositoryInfo,
  }),
  'repo.list': command({
    readOnly: true,
    summary: 'Repositories registered in this catalog.',
    input: NoInput,
    output: z.array(RepositoryInfo),
  }),
  'repo.info': command({
    readOnly: true,
    summary: 'One repository: format, encryption, sources, storage, secondary copies.',
    input: z.strictObject({ repository: RepositoryRef.optional() }),
    output: RepositoryInfo,
  }),
  'repo.verify': command({
    summary:
      'Re-read every file (checksums, decryption, decompression, segment chain); missing and corrupt files become gaps.',
    input: z.strictObject({ repository: RepositoryRef.optional() }),
    output: TaskStarted,
    task: true,
  }),
  'catalog.rebuild': command({
    summary: 'Empty the catalog index and rebuild it from the repositories alone.',
    input: z.strictObject({
      repositoryPaths: z
        .array(FsPath)
        .max(MAX_LIST)
        .optional()
        .describe('Repositories to index (default: those registered).'),
    }),
    output: TaskStarted,
    task: true,
  }),
  'source.coverage': command({
    readOnly: true,
    summary: 'Continuous oplog intervals of a source and the gaps between them.',
    input: z.strictObject({ source: SourceName.describe('Source name.') }),
    output: Coverage,
    cliAliases: ['coverage'],
  }),
  'restore.plan': command({
    readOnly: true,
    summary: 'Which snapshot and oplog segments restore a point, or why the point cannot be restored.',
    input: z.strictObject({
      source: SourceName.describe('Source name.'),
      at: Identifier.describe(
        'latest, t:i (oplog timestamp, inclusive) or an ISO-8601 second with zone (inclusive).',
      ),
    }),
    output: RestorePlanView,
    cliAliases: ['plan'],
  }),
  'restore.run': command({
    summary:
      'Restore a point (latest, t:i, ISO second or snapshot id) into a MongoDB deployment: collections, documents, indexes, then the oplog replayed up to the point. Refuses target collections holding data unless drop is set.',
    input: z
      .strictObject({
        ...restoreTargetOrLocal,
        usersRoles: z
          .boolean()
          .default(false)
          .describe(
            "Restore the snapshot's users and roles (at the point) of the restored databases, renamed with them, as mongorestore does (_mergeAuthzCollections; drop replaces the target's).",
          ),
        drop: z
          .boolean()
          .default(false)
          .describe('Drop target collections that exist before restoring them.'),
        strict: z
          .boolean()
          .default(false)
          .describe('Stop at the first per-document failure (duplicate key, validation).'),
        parallel: z.number().int().min(1).max(16).default(4).describe('Collections copied at once.'),
        writeConcern: z
          .union([z.literal('majority'), z.number().int().min(0).max(50)])
          .optional()
          .describe("Write concern w for the target (default: the target's)."),
      })
      .refine(oneTarget, ONE_TARGET),
    output: TaskStarted,
    task: true,
    cliAliases: ['restore'],
    cliConfirm: true,
  }),
  'restore.in-place': command({
    summary:
      "Restore a point into the source itself (destructive): capture is paused, the chosen namespaces are dropped and restored, capture resumes, and a new snapshot is taken. Confirm by typing the source's name.",
    input: z.strictObject({
      inPlace: z.literal(true).describe('Restore into the source itself.'),
      source: SourceName.describe('Source name.'),
      at: z.string().min(1).max(100).describe('latest, t:i, an ISO-8601 second with zone, or a snapshot id.'),
      confirm: SourceName.describe("The source's name, typed again: the restore replaces its data."),
      include: NamespacePatterns.default([]).describe('Only these namespaces (db.*, db.coll).'),
      exclude: NamespacePatterns.default([]).describe('Not these namespaces.'),
      strict: z
        .boolean()
        .default(false)
        .describe('Stop at the first per-document failure (duplicate key, validation).'),
      parallel: z.number().int().min(1).max(16).default(4).describe('Collections copied at once.'),
    }),
    output: TaskStarted,
    task: true,
    cliAliases: ['restore'],
  }),
  'restore.validate': command({
    summary:
      "Validate a target against the backup at a point: collections present, document counts, indexes, options, and documents compared byte for byte (a sample per namespace, or all with full). The task's result is the checklist report.",
    input: z
      .strictObject({
        ...restoreTargetOrLocal,
        sample: z
          .number()
          .int()
          .min(1)
          .max(1_000_000)
          .default(100)
          .describe('Documents compared per namespace.'),
        usersRoles: z
          .boolean()
          .default(false)
          .describe('Also check the users and roles of the restored databases.'),
        full: z.boolean().default(false).describe('Compare every document.'),
        html: z
          .string()
          .min(1)
          .max(4096)
          .optional()
          .describe('Also write the report as a self-contained HTML page here.'),
      })
      .refine(oneTarget, ONE_TARGET),
    output: TaskStarted,
    task: true,
    cliAliases: ['validate'],
  }),
  'restore.list': command({
    summary: 'The restore history, newest first.',
    input: z.strictObject({}),
    output: z.array(RestoreView),
    cliAliases: ['restores'],
  }),
  'restore.get': command({
    summary: 'One restore with its report.',
    input: z.strictObject({ id: z.string().min(1).max(100) }),
    output: RestoreView,
    cliAliases: ['restore show'],
  }),
  'restore.report': command({
    readOnly: true,
    summary:
      "One restore's report as a file to save: json (the whole report) or html (the validation checklist and the recovery time per phase, one self-contained page).",
    input: z.strictObject({
      id: z.string().min(1).max(100),
      format: z.enum(['json', 'html']).describe('json or html.'),
    }),
    output: RestoreReportFile,
  }),
  'local-mongod.start': command({
    summary:
      'Start the throwaway local mongod from the mongodBinary setting (standalone, 127.0.0.1 only, a port the engine picks, data under the data dir); answers once it replies to hello. Stopped on request or when the engine closes.',
    input: z.strictObject({
      port: z
        .number()
        .int()
        .min(1)
        .max(65535)
        .optional()
        .describe('Listen on this port (default: a free one).'),
    }),
    output: LocalMongodView,
  }),
  'local-mongod.stop': command({
    summary: 'Stop the throwaway local mongod and remove its data directory.',
    input: NoInput,
    output: LocalMongodView,
  }),
  'local-mongod.status': command({
    readOnly: true,
    summary: 'Whether the throwaway local mongod runs, its connection string, port, version and last error.',
    input: NoInput,
    output: LocalMongodView,
  }),
  'timeline.get': command({
    summary:
      'The timeline of a source for a time range, aggregated into `width` buckets (one per pixel): oplog coverage, restorable share, snapshots with tiers and locks, gaps, live edge and PITR window edge.',
    input: z.strictObject({
      source: SourceName.describe('Source name.'),
      from: IsoInstant.describe('Start of the range (ISO-8601 with zone).'),
      to: IsoInstant.describe('End of the range, exclusive (ISO-8601 with zone).'),
      width: z
        .number()
        .int()
        .min(1)
        .max(8192)
        .describe('Number of buckets, usually the drawing width in pixels.'),
    }),
    output: TimelineView,
  }),
  'incident.list': command({
    readOnly: true,
    summary:
      'What the finder for destructive operations found in the captured oplog (drops, dropDatabase, dropIndexes, renames over a collection, mass deletes and updates, transactions doing them), oldest first, each with the restore point just before it.',
    input: z.strictObject({
      source: SourceName.describe('Source name.'),
      from: IncidentBound.optional().describe(
        'Only findings starting at or after this point (t:i or an ISO-8601 second with zone).',
      ),
      to: IncidentBound.optional().describe(
        'Only findings starting at or before this point (t:i or an ISO-8601 second with zone).',
      ),
      limit: z.number().int().min(1).max(10_000).default(1000).describe('At most this many findings.'),
      newest: z
        .boolean()
        .default(false)
        .describe(
          'When more than `limit` match: keep the newest (still listed oldest first), not the oldest. The Incidents list asks for these.',
        ),
    }),
    output: z.strictObject({
      source: z.string(),
      scan: IncidentScanView,
      incidents: z.array(IncidentView),
      /** More findings match than `limit` (the newest left out, or with `newest` the oldest). */
      truncated: z.boolean(),
    }),
    cliAliases: ['incidents'],
  }),
  'snapshot.list': command({
    readOnly: true,
    summary: 'Snapshots of a source, oldest first.',
    input: z.strictObject({ source: SourceName }),
    output: z.array(SnapshotView),
  }),
  'snapshot.namespaces': command({
    readOnly: true,
    summary:
      'The namespaces of one snapshot with their types, document counts, sizes and index counts, and whether it holds users and roles (from its manifest).',
    input: z.strictObject({ source: SourceName, snapshot: Identifier.describe('Snapshot id.') }),
    output: SnapshotNamespacesView,
  }),
  'retention.lock': command({
    summary: 'Lock a snapshot or an oplog segment against deletion until a date (extend only).',
    input: z
      .strictObject({
        snapshot: Identifier.optional().describe('Snapshot id.'),
        segment: FsPath.optional().describe('Segment path relative to the repository.'),
        until: z.iso.datetime({ offset: true }).describe('ISO-8601 date-time.'),
        reason: z.string().max(500).optional(),
        repository: RepositoryRef.optional(),
      })
      .refine((v) => (v.snapshot ? 1 : 0) + (v.segment ? 1 : 0) === 1, {
        message: 'Give exactly one of snapshot or segment.',
      }),
    output: z.strictObject({
      kind: z.enum(['snapshot', 'segment']),
      target: z.string(),
      lockedUntil: z.string(),
    }),
    cliAliases: ['lock'],
  }),
  'snapshot.delete': command({
    summary: 'Delete a snapshot (refused inside a retention lock; audited).',
    input: z.strictObject({
      id: Identifier,
      confirm: z.literal(true).describe('Must be true: deleting a backup cannot be undone.'),
      repository: RepositoryRef.optional(),
    }),
    output: z.strictObject({ deleted: z.string() }),
  }),
  'segment.delete': command({
    summary: 'Delete an oplog segment (refused inside a retention lock; audited; leaves a gap).',
    input: z.strictObject({
      path: FsPath,
      confirm: z.literal(true).describe('Must be true: deleting a backup cannot be undone.'),
      repository: RepositoryRef.optional(),
    }),
    output: z.strictObject({ deleted: z.string() }),
  }),
  'copy.add': command({
    summary: 'Add a secondary copy location (NAS mount, removable disk) for a repository.',
    input: z.strictObject({ path: FsPath, repository: RepositoryRef.optional() }),
    output: z.strictObject({ id: z.string(), path: z.string() }),
  }),
  'copy.run': command({
    summary: 'Copy new files to every secondary location, verifying each by checksum; resumable.',
    input: z.strictObject({ repository: RepositoryRef.optional() }),
    output: TaskStarted,
    task: true,
  }),
  'audit.list': command({
    readOnly: true,
    summary: 'The audit log (destructive and refused actions), newest first.',
    input: z.strictObject({ limit: z.number().int().min(1).max(10_000).optional() }),
    output: z.array(AuditEntryView),
  }),
  'source.add': command({
    summary:
      'Add a MongoDB deployment to protect; it is tested first and nothing is saved if the test fails.',
    input: z.strictObject({
      name: z
        .string()
        .min(1)
        .max(100)
        .regex(/^[\w.-]+$/, 'letters, digits, _ . - only')
        .describe('A short name, e.g. prod-rs.'),
      uri: ConnectionUri.describe('mongodb:// or mongodb+srv:// connection string.'),
      password: Secret.optional().describe(
        'Password (CLI: only as --password-env VAR); or put it in the URI.',
      ),
      repository: RepositoryRef.optional(),
      tlsCaFile: FsPath.optional(),
      tlsCertFile: FsPath.optional(),
      readPreference: ReadPreference.optional(),
      insecureStorePassword: z
        .boolean()
        .optional()
        .describe('Allow storing the password unprotected in an unencrypted repository.'),
    }),
    output: z.strictObject({ source: SourceView, test: ProbeReportView }),
  }),
  'source.test': command({
    summary: 'Connect to a source and report topology, version, oplog window and backup privileges.',
    input: z.strictObject({ name: SourceName }),
    output: ProbeReportView,
  }),
  'source.edit': command({
    summary: 'Change how a source is reached (tested before saving).',
    input: z.strictObject({
      name: SourceName,
      newName: z
        .string()
        .min(1)
        .max(100)
        .regex(/^[\w.-]+$/)
        .optional(),
      uri: ConnectionUri.optional(),
      password: Secret.optional(),
      tlsCaFile: FsPath.optional(),
      tlsCertFile: FsPath.optional(),
      readPreference: ReadPreference.optional(),
      insecureStorePassword: z.boolean().optional(),
    }),
    output: z.strictObject({ source: SourceView, test: ProbeReportView }),
  }),
  'source.remove': command({
    summary: 'Forget a source that has no backups (its backups are removed by terminating its job).',
    input: z.strictObject({ name: SourceName, confirm: z.literal(true) }),
    output: z.strictObject({ removed: z.string() }),
  }),
  'source.list': command({
    readOnly: true,
    summary: 'All sources.',
    input: NoInput,
    output: z.array(SourceView),
  }),
  'snapshot.take': command({
    summary:
      'Take a consistent snapshot of a source now (all databases but local/config/admin, or selected namespaces).',
    input: z.strictObject({
      source: SourceName,
      parallel: z.number().int().min(1).max(8).optional().describe('Collections copied at once (default 2).'),
      includeUsers: z.boolean().optional().describe('Also copy admin.system.users and system.roles.'),
      namespaces: z.array(Namespace).max(MAX_LIST).optional().describe('Only these: db.collection or db.*'),
    }),
    output: TaskStarted,
    task: true,
    cliAliases: ['snapshot'],
  }),
  'capture.start': command({
    summary:
      'Start continuous oplog capture for a source (runs while the desktop app or headless server runs).',
    input: z.strictObject({ source: SourceName }),
    output: CaptureMetricsView,
  }),
  'capture.stop': command({
    summary: 'Stop continuous capture for a source; what was read is written first.',
    input: z.strictObject({ source: SourceName }),
    output: CaptureMetricsView,
  }),
  'capture.pause': command({
    summary: 'Pause continuous capture (what was read is written first); used around in-place restores.',
    input: z.strictObject({ source: SourceName }),
    output: CaptureMetricsView,
  }),
  'capture.resume': command({
    summary:
      'Resume paused capture from the last durable entry (a gap is detected if the oplog rolled over meanwhile).',
    input: z.strictObject({ source: SourceName }),
    output: CaptureMetricsView,
  }),
  'source.status': command({
    readOnly: true,
    summary: 'Capture state, recovery point, last snapshot, coverage and open alerts of a source.',
    input: z.strictObject({ source: SourceName }),
    output: SourceStatus,
    cliAliases: ['status'],
  }),
  'source.overview': command({
    readOnly: true,
    summary:
      "What a source's dashboard card shows besides its live status: the recovery point objective, the next scheduled snapshot, the PITR window's coverage and gaps, storage used and the bytes written per day.",
    input: z.strictObject({
      source: SourceName,
      days: z
        .number()
        .int()
        .min(1)
        .max(366)
        .default(30)
        .describe('Days of storage trend, ending today (UTC).'),
    }),
    output: SourceOverview,
  }),
  'alert.list': command({
    readOnly: true,
    summary: 'Alerts, newest first.',
    input: z.strictObject({
      source: SourceName.optional(),
      open: z.boolean().optional().describe('Only unresolved alerts.'),
    }),
    output: z.array(AlertView),
    cliAliases: ['alerts'],
  }),
  'alert.resolve': command({
    summary:
      'Acknowledge an open alert (marks it resolved and writes the audit log). Alerts whose condition clears resolve themselves.',
    input: z.strictObject({ id: z.number().int().min(1) }),
    output: AlertView,
  }),
  'export.dump': command({
    summary:
      'Export a restore point as mongodump output (a directory, or one --archive file) that `mongorestore --oplogReplay` restores: the snapshot plus oplog.bson from its start to the point.',
    input: z.strictObject({
      source: SourceName.describe('Source name.'),
      at: z
        .string()
        .min(1)
        .max(100)
        .describe('latest, t:i (oplog timestamp, inclusive) or an ISO-8601 second with zone (inclusive).'),
      out: FsPath.optional().describe('Directory to create (must not exist, or be empty).'),
      archive: FsPath.optional().describe('Archive file to create (must not exist).'),
      gzip: z.boolean().optional().describe('Compress (each file with .gz names, or the whole archive).'),
      include: NamespacePatterns.optional().describe(
        'Only namespaces matching these patterns (db.coll, * wildcards), as mongorestore --nsInclude.',
      ),
      exclude: NamespacePatterns.optional().describe(
        'Leave out namespaces matching these patterns, as mongorestore --nsExclude.',
      ),
      rename: z
        .array(z.string().min(3).max(511))
        .max(100)
        .optional()
        .describe('FROM=TO renames (* wildcards, $var$ carried over), as mongorestore --nsFrom/--nsTo.'),
    }),
    output: TaskStarted,
    task: true,
    cliAliases: ['export'],
  }),
  'import.dump': command({
    summary:
      'Import mongodump output (directory or archive, gzip or not, with or without oplog.bson) as a snapshot of a source; a new name creates an imported source.',
    input: z.strictObject({
      source: SourceName.describe('Source name; created as an imported source (no connection) if absent.'),
      dir: FsPath.optional().describe('A mongodump directory.'),
      archive: FsPath.optional().describe('A mongodump --archive file.'),
      gzip: z
        .boolean()
        .optional()
        .describe(
          'The dump is gzipped (detected by itself when absent; with a directory, only .gz files are read).',
        ),
      repository: RepositoryRef.optional().describe('Repository for a new source (default: the only one).'),
    }),
    output: TaskStarted,
    task: true,
    cliAliases: ['import'],
  }),
  'backup-job.get': command({
    readOnly: true,
    summary:
      "A source's backup job: state (active, stopped, inactive, misconfigured), policy, next scheduled runs (UTC).",
    input: z.strictObject({ source: SourceName }),
    output: BackupJobView,
  }),
  'backup-job.defaults': command({
    summary:
      'The default policy and the presets (what a form starts from when a tier is switched on or a preset is chosen).',
    input: NoInput,
    output: z.strictObject({
      policy: BackupPolicy,
      presets: z.strictObject({ default: BackupPolicy, 'pci-dss': BackupPolicy }),
    }),
  }),
  'backup-job.set': command({
    summary:
      'Change the backup policy (tiers, retention, PITR window, objectives) or apply a preset (default, pci-dss).',
    input: z.strictObject({
      source: SourceName,
      preset: PolicyPreset.exclude(['custom']).optional(),
      policy: BackupPolicyChange.optional().describe(
        'Partial policy as JSON, e.g. {"daily":{"at":"02:00","keepDays":30}}',
      ),
      restoreTestPassword: Secret.optional().describe(
        "Password of the restore test target's user, sealed like a source password (CLI: only as --restore-test-password-env VAR); a password inside policy.restoreTest.target.uri is taken out and sealed the same way.",
      ),
      insecureStorePassword: z
        .boolean()
        .optional()
        .describe('Allow storing the restore test password unprotected in an unencrypted repository.'),
    }),
    output: BackupJobView,
  }),
  'policy.preview': command({
    readOnly: true,
    summary:
      "What a policy would keep, before saving it (backup-job set): the snapshots that exist `days` from now if the scheduler and retention run under it from the source's snapshots of today, and the storage they and the oplog would take, from this source's measured compressed sizes.",
    input: z.strictObject({
      source: SourceName,
      policy: BackupPolicyChange.describe(
        'The policy to preview: a change to the current one as backup-job set takes it (JSON), or the whole policy as the editor holds it.',
      ),
      days: z.number().int().min(1).max(92).default(30).describe('Horizon in days from now.'),
    }),
    output: PolicyPreviewView,
  }),
  'backup-job.stop': command({
    summary: 'Stop taking backups (existing ones are kept).',
    input: z.strictObject({ source: SourceName }),
    output: BackupJobView,
  }),
  'backup-job.start': command({
    summary: 'Start (or restart) a stopped backup job.',
    input: z.strictObject({ source: SourceName }),
    output: BackupJobView,
  }),
  'backup-job.terminate': command({
    summary:
      'Terminate a backup job (inactive); with deleteBackups, delete its backups outside retention locks.',
    input: z.strictObject({
      source: SourceName,
      confirm: z.literal(true),
      deleteBackups: z.boolean().optional(),
    }),
    output: z.strictObject({
      job: BackupJobView,
      deletedSnapshots: z.number().int(),
      deletedSegments: z.number().int(),
      keptLocked: z.number().int(),
    }),
  }),
  'view.build': command({
    summary:
      'Materialise the view of a source at a point (snapshot + oplog) into a working file in the data dir, moving an earlier view of the same snapshot forward when there is one. Queries build one themselves; this starts it ahead as a task with progress and cancel.',
    input: z.strictObject({
      source: QueryTarget.source,
      at: QueryTarget.at,
    }),
    output: TaskStarted,
    task: true,
    readOnly: true,
  }),
  'view.list': command({
    readOnly: true,
    summary: 'The cached point-in-time views, newest use first: source, point, size, documents.',
    input: NoInput,
    output: z.array(PointViewInfo),
    cliAliases: ['views'],
  }),
  'view.drop': command({
    readOnly: true,
    summary: 'Remove a cached view (its working file); the next query at that point builds it again.',
    input: z.strictObject({ id: ViewIdentity.describe('View id, from view.list.') }),
    output: z.strictObject({ dropped: ViewIdentity }),
  }),
  'query.find': command({
    readOnly: true,
    summary:
      'find on a namespace of a source at a point, with MongoDB semantics, without restoring: filter, projection, sort, skip and limit; documents as Extended JSON (relaxed, or canonical). Answers the first batch and, while documents remain, a cursor id: query.more returns the next batch (a result of any size is read a batch at a time).',
    input: z.strictObject({
      ...QueryTarget,
      ...FindShape,
      limit: z
        .number()
        .int()
        .min(1)
        .max(1_000_000_000)
        .optional()
        .describe('At most this many documents in all (default: every match).'),
      batchSize: BatchSize.default(100).describe('Documents in the first batch (and each batch after).'),
      canonical: z.boolean().default(false).describe('Canonical Extended JSON (every type explicit).'),
      allowDiskUse: AllowDiskUse,
    }),
    output: QueryAnswer,
    cliAliases: ['query'],
    cliLines: 'documents',
  }),
  'query.more': command({
    readOnly: true,
    summary:
      "The next batch of an open query cursor (mongod's getMore): documents, whether more remain, and the cursor id again until the last batch. Cursors close after 10 minutes unused, when their view is dropped or evicted, and on query.close.",
    input: z.strictObject({
      cursorId: CursorId.describe('From query.find, query.aggregate or an earlier query.more.'),
      batchSize: BatchSize.default(100).describe('Documents in this batch at most.'),
    }),
    output: z.strictObject({
      ns: z.string(),
      documents: EjsonDocuments,
      more: z.boolean(),
      cursorId: CursorId.nullable(),
    }),
  }),
  'query.close': command({
    readOnly: true,
    summary: "Close an open query cursor (mongod's killCursors); closing one that already ended is no error.",
    input: z.strictObject({ cursorId: CursorId.describe('The cursor to close.') }),
    output: z.strictObject({ cursorId: CursorId, closed: z.boolean() }),
  }),
  'query.count': command({
    readOnly: true,
    summary:
      "Count the documents of a namespace at a point that match a filter, as mongod's count command: skip, then limit, apply to the count (min(max(matching - skip, 0), limit)). From the CLI, `query --count` takes the find's --sort and --projection and ignores them, as mongosh's count does.",
    input: z.strictObject({
      ...QueryTarget,
      ...QueryFilter,
      count: z.literal(true).describe('Count instead of returning documents.'),
      skip: z
        .number()
        .int()
        .min(0)
        .max(1_000_000_000)
        .default(0)
        .describe('Matching documents not counted, before the limit.'),
      limit: z
        .number()
        .int()
        .min(0)
        .max(1_000_000_000)
        .default(0)
        .describe('Count at most this many, after skip (0: no limit, as in the count command).'),
    }),
    output: z.strictObject({ view: ViewAnswer, ns: z.string(), count: z.number().int() }),
    cliAliases: ['query'],
  }),
  'query.distinct': command({
    readOnly: true,
    summary: 'The distinct values of a field among the matching documents at a point (Extended JSON).',
    input: z.strictObject({
      ...QueryTarget,
      ...QueryFilter,
      distinct: z.string().min(1).max(1000).describe('Field path, e.g. address.city.'),
      canonical: z.boolean().default(false).describe('Canonical Extended JSON.'),
    }),
    output: z.strictObject({ view: ViewAnswer, ns: z.string(), values: EjsonDocuments }),
    cliAliases: ['query'],
    cliLines: 'values',
  }),
  'query.aggregate': command({
    readOnly: true,
    summary:
      'aggregate on a namespace at a point with the common stages ($match, $project, $group, $sort, $limit, $skip, $unwind, $count, $addFields, $lookup within the view…).',
    input: z.strictObject({
      ...QueryTarget,
      pipeline: QueryText.describe('Extended JSON array of stages.'),
      ...QueryCollation,
      limit: z
        .number()
        .int()
        .min(1)
        .max(1_000_000_000)
        .optional()
        .describe('At most this many results in all (default: every one).'),
      batchSize: BatchSize.default(1000).describe('Results in the first batch (query.more reads on).'),
      canonical: z.boolean().default(false).describe('Canonical Extended JSON.'),
      allowDiskUse: AllowDiskUse,
    }),
    output: z.strictObject({
      view: ViewAnswer,
      ns: z.string(),
      documents: EjsonDocuments,
      more: z.boolean(),
      cursorId: CursorId.nullable(),
    }),
    cliAliases: ['query'],
    cliLines: 'documents',
  }),
  'query.export': command({
    readOnly: true,
    summary:
      'Write the documents a query selects (or a whole collection) at a point to a file: Extended JSON lines (mongoimport reads them) or BSON (mongorestore reads them).',
    input: z.strictObject({
      ...QueryTarget,
      ...FindShape,
      limit: z.number().int().min(1).max(1_000_000_000).optional().describe('At most this many.'),
      format: ExportFormat.default('jsonl').describe('jsonl (Extended JSON lines) or bson.'),
      canonical: z.boolean().default(true).describe('Canonical Extended JSON (jsonl only; keeps types).'),
      allowDiskUse: AllowDiskUse,
      out: FsPath.describe('File to create (must not exist).'),
    }),
    output: TaskStarted,
    task: true,
  }),
  'query.restore': command({
    summary:
      'Restore only the documents a query selects at a point into a target deployment (selective recovery): each replaces the document with its _id in the target, or is inserted.',
    input: z.strictObject({
      ...QueryTarget,
      ...QueryFilter,
      targetUri: z.string().min(1).max(4000).describe('Connection string of the target deployment.'),
      password: z
        .string()
        .max(1000)
        .optional()
        .describe("Target user's password (CLI: only as --password-env VAR)."),
      targetNs: Namespace.optional().describe('Target namespace (default: the same db.collection).'),
      mode: z
        .enum(['upsert', 'insert'])
        .default('upsert')
        .describe('upsert: replace by _id or insert; insert: refuse documents whose _id exists.'),
    }),
    output: TaskStarted,
    task: true,
  }),
  'collections.list': command({
    readOnly: true,
    summary:
      'Databases and collections of a source at a point: type, document count, options and indexes, as listCollections and listIndexes would show them.',
    input: z.strictObject({ source: QueryTarget.source, at: QueryTarget.at }),
    output: CollectionsAnswer,
    cliAliases: ['collections'],
  }),
  'history.get': command({
    readOnly: true,
    summary:
      'Every version of one document in the window: time and ts of each change, the operation, the change, and the document after it; deleted documents and dropped or renamed namespaces included. Reads only the segments whose _id index names the document.',
    input: z.strictObject({
      source: QueryTarget.source,
      ns: QueryTarget.ns,
      id: QueryText.describe('The _id as Extended JSON, e.g. 42 or {"$oid": "…"}.'),
      from: Identifier.optional().describe('From this point (default: the oldest snapshot of the window).'),
      to: Identifier.optional().describe('Through this point (default: latest).'),
    }),
    output: HistoryAnswer,
    cliAliases: ['history'],
  }),
  'restore-test.run': command({
    summary:
      "Run the backup job's restore test now: the latest snapshot or a random point of the PITR window restored into scratch databases (__mbm_rtest_<id>_<db>) of the job's target, validated, timed, recorded in the restore history (kind restore-test) and dropped; a failure raises RESTORE_TEST_FAILED.",
    input: z.strictObject({ source: SourceName.describe('Source name.') }),
    output: TaskStarted,
    task: true,
  }),
  'restore-test.last': command({
    readOnly: true,
    summary:
      'The restore test of every source (or one): its settings, the next scheduled run, and the last result with its RTO per phase.',
    input: z.strictObject({ source: SourceName.optional().describe('Only this source.') }),
    output: z.array(RestoreTestStatusView),
  }),
} as const;

export const events = {
  'task.progress': {
    summary: 'A running task advanced.',
    payload: z.strictObject({ taskId: z.string(), kind: z.string(), progress: TaskProgress }),
  },
  'task.finished': {
    summary: 'A task ended: succeeded, failed or cancelled.',
    payload: z.strictObject({
      taskId: z.string(),
      kind: z.string(),
      state: TaskState,
      error: ErrorShape.nullable(),
    }),
  },
  'settings.changed': {
    summary: 'Settings were changed through any door.',
    payload: Settings,
  },
  'alert.raised': {
    summary:
      'A new alert (backup failed, PITR gap, oplog window low, recovery point above objective, disk nearly full, copy failing, restore test failed).',
    // The alert as alert.list shows it, with the source's id (names can change) and not yet resolved.
    payload: AlertView.pick({ id: true, kind: true, severity: true, message: true, raisedAt: true }).extend({
      sourceId: z.string().nullable(),
    }),
  },
  'incident.found': {
    summary:
      'The incident finder stored new or grown findings for a source (after scanning a segment): incident.list and timeline.get show them.',
    payload: z.strictObject({
      sourceId: z.string(),
      source: z.string(),
      /** Findings stored or grown by this segment (a mass delete still going on grows its row). */
      changed: z.number().int(),
    }),
  },
  'capture.segment': {
    summary:
      "Continuous capture made a segment durable: the source's live edge (newest captured entry) moved. The timeline follows it.",
    // The source's id (names can change) and its name when the segment was written.
    payload: z.strictObject({ sourceId: z.string(), source: z.string(), lastTs: OpTimeView }),
  },
  'local-mongod.changed': {
    summary:
      'The throwaway local mongod started, stopped, failed to start or exited by itself (its status as local-mongod.status shows it).',
    payload: LocalMongodView,
  },
} as const;

export type Commands = typeof commands;
export type CommandName = keyof Commands;
/** What a caller sends (defaults may be omitted). */
export type CommandInput<K extends CommandName> = z.input<Commands[K]['input']>;
/** What a handler receives after validation (defaults filled in). */
export type CommandParsedInput<K extends CommandName> = z.output<Commands[K]['input']>;
export type CommandOutput<K extends CommandName> = z.output<Commands[K]['output']>;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<K extends EventName> = z.output<Events[K]['payload']>;
/** One event; without a type argument, the union of all events (narrowed by `event`). */
export type EngineEvent<K extends EventName = EventName> = {
  [P in K]: { event: P; payload: EventPayload<P> };
}[K];

export const commandNames = Object.keys(commands) as CommandName[];
export const eventNames = Object.keys(events) as EventName[];

export function isCommandName(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(commands, name);
}
