/**
 * Shared value schemas used by more than one command or event. Keep command
 * definitions in contract.ts; keep reusable shapes here so nothing is
 * declared twice.
 */
import { z } from 'zod';

// ---- Input bounds: every string and list a caller sends has a maximum, so a
// runaway script or a hostile page cannot hand the engine megabytes to parse,
// log or store. The numbers follow the systems behind them.

/** A source name as typed by a DBA (new names also match [\w.-]+, 100 characters). */
export const SourceName = z.string().min(1).max(100);
/** A file-system path: Linux's PATH_MAX. */
export const FsPath = z.string().min(1).max(4096);
/** A connection string: long seed lists and options fit; mongosh has no lower limit to copy. */
export const ConnectionUri = z.string().min(1).max(16_384);
/** Ids made by the engine (snapshot ids, task ids) and short tokens (restore points). */
export const Identifier = z.string().min(1).max(200);
/** A password or passphrase. */
export const Secret = z.string().min(1).max(1024);
/** A MongoDB namespace `db.collection` (or `db.*`): mongod's limit is 255 bytes. */
export const Namespace = z.string().min(3).max(255);
/** Lists a caller sends (namespaces, repository paths). */
export const MAX_LIST = 1000;

export const Theme = z.enum(['system', 'light', 'dark']);

/** User settings. Every field is required here; defaults live in SETTINGS_DEFAULTS, once. */
export const Settings = z.strictObject({
  theme: Theme.describe('Colour theme of the desktop and web UI.'),
  closeToTray: z.boolean().describe('Closing the desktop window keeps capture running in the tray.'),
  desktopNotifications: z.boolean().describe('Show alerts as desktop notifications (desktop app only).'),
  showLocalTime: z.boolean().describe('Show local time next to UTC in timelines and schedules.'),
  incidentDocuments: z
    .number()
    .int()
    .min(1)
    .max(1_000_000_000)
    .describe(
      'Incident finder: more than this many documents deleted (or updated) in one namespace is a finding.',
    ),
  incidentSeconds: z
    .number()
    .int()
    .min(1)
    .max(86_400)
    .describe('Incident finder: ...within this many seconds (a transaction counts as one instant).'),
  mongodBinary: FsPath.nullable().describe(
    'Path of a mongod binary for the throwaway local mongod (restore --local-mongod); null: none.',
  ),
  viewCacheMaxBytes: z
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .describe('Point-in-time views kept on disk at most (bytes); the least recently used go first.'),
  viewMaxAgeDays: z
    .number()
    .min(0)
    .max(3650)
    .describe('Point-in-time views unused for longer than this are removed.'),
});
export type Settings = z.infer<typeof Settings>;

export const SETTINGS_DEFAULTS: Settings = {
  theme: 'system',
  closeToTray: true,
  desktopNotifications: true,
  showLocalTime: true,
  incidentDocuments: 1000,
  incidentSeconds: 10,
  mongodBinary: null,
  viewCacheMaxBytes: 20 * 1024 ** 3,
  viewMaxAgeDays: 7,
};

/**
 * A change to some settings. Built from the fields without defaults, so a
 * missing field means "leave as is", never "reset to the default".
 */
export const SettingsChange = Settings.partial().refine((v) => Object.keys(v).length > 0, {
  message: 'Give at least one setting to change.',
});

export const RunMode = z.enum(['desktop', 'headless', 'cli']);

export const AppInfo = z.strictObject({
  name: z.string(),
  version: z.string(),
  mode: RunMode,
  dataDir: z.string(),
  catalogPath: z.string(),
  catalogSchemaVersion: z.number().int(),
  engineStartedAt: z.iso.datetime(),
  uptimeSeconds: z.number(),
  platform: z.string(),
  nodeVersion: z.string(),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const TaskState = z.enum(['running', 'succeeded', 'failed', 'cancelled']);

export const TaskProgress = z.strictObject({
  done: z.number(),
  total: z.number().nullable(),
  unit: z.string(),
  message: z.string(),
});
export type TaskProgress = z.infer<typeof TaskProgress>;

export const ErrorShape = z.strictObject({
  code: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
});

export const Task = z.strictObject({
  taskId: z.string(),
  kind: z.string(),
  state: TaskState,
  progress: TaskProgress,
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
  error: ErrorShape.nullable(),
  result: z.unknown().optional(),
});
export type Task = z.infer<typeof Task>;

export const TaskRef = z.strictObject({ taskId: Identifier });

// ---- Repository, coverage and plans (issue: repository and catalog) ----

export const OpTimeView = z.strictObject({
  t: z.number().int(),
  i: z.number().int(),
  /** `t:i`, as typed in restore points. */
  text: z.string(),
  /** Wall-clock time of `t` (UTC). */
  wall: z.string(),
});

export const RepositoryRef = FsPath.describe('Repository id or path (optional when only one is registered).');

export const Compression = z.enum(['zstd', 'gzip']);

export const SecretPassphrase = Secret.describe('Passphrase (CLI: only as --passphrase-env VAR).');

export const RepositoryInfo = z.strictObject({
  id: z.string(),
  path: z.string(),
  formatVersion: z.number().int(),
  compression: z.string(),
  encrypted: z.boolean(),
  unlocked: z.boolean(),
  createdAt: z.string(),
  sources: z.array(
    z.strictObject({
      name: z.string(),
      id: z.string(),
      snapshots: z.number().int(),
      segments: z.number().int(),
      storedBytes: z.number(),
      intervals: z.number().int(),
      gaps: z.number().int(),
    }),
  ),
  copyTargets: z.array(
    z.strictObject({
      path: z.string(),
      lastRunAt: z.string().nullable(),
      lastError: z.string().nullable(),
      filesCopied: z.number().int(),
    }),
  ),
});

export const CoverageIntervalView = z.strictObject({
  start: OpTimeView,
  end: OpTimeView,
  seconds: z.number(),
  segments: z.number().int(),
});

export const CoverageGapView = z.strictObject({
  after: OpTimeView,
  before: OpTimeView,
  seconds: z.number(),
  reason: z.enum(['chain-break', 'missing', 'corrupt']),
});

export const Coverage = z.strictObject({
  source: z.string(),
  intervals: z.array(CoverageIntervalView),
  gaps: z.array(CoverageGapView),
  snapshots: z.number().int(),
});

export const RestorePlanView = z.union([
  z.strictObject({
    restorable: z.literal(true),
    source: z.string(),
    point: z.string(),
    replayThrough: OpTimeView,
    snapshot: z.strictObject({
      id: z.string(),
      path: z.string(),
      startTs: OpTimeView,
      consistentTs: OpTimeView,
      completedAt: z.string().nullable(),
    }),
    interval: CoverageIntervalView,
    segments: z.array(
      z.strictObject({
        path: z.string(),
        firstTs: OpTimeView,
        lastTs: OpTimeView,
        entries: z.number().int(),
      }),
    ),
    entriesToReplayAtMost: z.number().int(),
  }),
  z.strictObject({
    restorable: z.literal(false),
    source: z.string(),
    point: z.string(),
    reason: z.enum(['NO_COVERAGE', 'BEFORE_WINDOW', 'IN_GAP', 'IN_FUTURE', 'NO_SNAPSHOT']),
    message: z.string(),
    nearestInterval: z.strictObject({ start: OpTimeView, end: OpTimeView }).nullable(),
  }),
]);

/** Namespace patterns as mongorestore's --nsInclude/--nsExclude (`db.*`, `db.coll`, `*.coll`). */
export const NamespacePatterns = z.array(z.string().min(1).max(255)).max(100);

export const RestoreView = z.strictObject({
  id: z.string(),
  source: z.string(),
  point: z.string(),
  kind: z.string(),
  state: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  actor: z.string().nullable(),
  /** The target's connection string without credentials. */
  target: z.string().nullable(),
  options: z.record(z.string(), z.unknown()),
  /** The restore's report: namespaces, documents, oplog, failures, phases with their durations. */
  report: z.record(z.string(), z.unknown()).nullable(),
  error: ErrorShape.nullable(),
  /** A cancelled or failed restore leaves the __mbm_restore_incomplete marker in the target databases. */
  markerLeft: z.boolean(),
});

/** The throwaway local mongod the engine runs (restore --local-mongod). */
export const LocalMongodView = z.strictObject({
  state: z.enum(['stopped', 'starting', 'running', 'failed']),
  binary: z.string().nullable(),
  version: z.string().nullable(),
  pid: z.number().int().nullable(),
  port: z.number().int().nullable(),
  /** Loopback connection string while it runs (directConnection). */
  uri: z.string().nullable(),
  /** Its data directory under the app's data dir, removed when it stops. */
  dataDir: z.string().nullable(),
  startedAt: z.string().nullable(),
  lastError: z.string().nullable(),
});

/** A point in time typed by the user: an ISO-8601 date-time with a zone (Z or an offset). */
export const IsoInstant = z
  .string()
  .max(40)
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/,
    'ISO-8601 with Z or an offset',
  )
  .refine((v) => !Number.isNaN(Date.parse(v)), 'not a valid date-time');

export const TimelineSnapshotMarker = z.strictObject({
  id: z.string(),
  consistentTs: OpTimeView,
  tiers: z.array(z.string()),
  lockedUntil: z.string().nullable(),
  documents: z.number().int(),
  storedBytes: z.number(),
});

// ---- The finder for destructive operations (issue: time travel) ----

export const IncidentKind = z.enum([
  'drop',
  'dropDatabase',
  'dropIndexes',
  'renameOverCollection',
  'massDelete',
  'massUpdate',
  'transaction',
]);
export type IncidentKind = z.infer<typeof IncidentKind>;

export const IncidentView = z.strictObject({
  id: z.number().int(),
  kind: IncidentKind,
  /** `db.coll`, or the database for dropDatabase; for a transaction, its namespace with the most changes. */
  ns: z.string(),
  /** One line saying what happened, e.g. "1,500 documents deleted from shop.orders in 3 s". */
  summary: z.string(),
  /** The event's first entry and its last. */
  firstTs: OpTimeView,
  lastTs: OpTimeView,
  /** The entry just before the first one in the captured stream: restore to it to undo the event. Null when the event is the first entry captured. */
  restoreBefore: OpTimeView.nullable(),
  /** `wall` of the first entry (ISO), when the oplog carries it. */
  wall: z.string().nullable(),
  /** Documents deleted, updated or in the dropped collections (indexes for dropIndexes); null when the oplog does not say. */
  size: z.number().int().nullable(),
  /** The logical session of the first entry (`lsid.id`, `lsid.uid`), when logged. */
  lsid: z.strictObject({ id: z.string(), uid: z.string().nullable() }).nullable(),
  txnNumber: z.number().int().nullable(),
  /** Per kind: collections (dropDatabase), indexes (dropIndexes), from/targetExisted (rename), namespaces (transaction). */
  details: z.record(z.string(), z.unknown()),
});

export const IncidentScanView = z.strictObject({
  /** Last ts of the last segment scanned; null before the first. */
  through: OpTimeView.nullable(),
  /** Segments not scanned yet (their findings are included when a read-only engine answers). */
  pendingSegments: z.number().int(),
  documents: z.number().int(),
  seconds: z.number().int(),
});

/** An incident flag on the timeline. */
export const TimelineIncidentFlag = z.strictObject({
  id: z.number().int(),
  kind: IncidentKind,
  ns: z.string(),
  summary: z.string(),
  firstTs: OpTimeView,
  restoreBefore: OpTimeView.nullable(),
});

export const TimelineView = z.strictObject({
  source: z.string(),
  from: z.string(),
  to: z.string(),
  width: z.number().int(),
  /** Length of one bucket in seconds (may be fractional when zoomed below a second per pixel). */
  bucketSeconds: z.number(),
  /** Per bucket, the fraction (0..1) covered by captured oplog. */
  covered: z.array(z.number()),
  /** Per bucket, the fraction (0..1) that can be restored (a snapshot before it, oplog continuous since). */
  restorable: z.array(z.number()),
  /** Per bucket, complete snapshots whose consistent point falls in it. */
  snapshots: z.array(z.number().int()),
  /** Per bucket, which snapshots: 1 hourly, 2 daily, 4 weekly, 8 monthly, 16 on demand, 32 retention-locked. */
  snapshotFlags: z.array(z.number().int()),
  gaps: z.array(CoverageGapView),
  /** Each snapshot in the range, while there are few enough to draw one by one; otherwise null. */
  markers: z.array(TimelineSnapshotMarker).nullable(),
  /** The newest captured entry. */
  liveEdge: OpTimeView.nullable(),
  /** Where the policy's point-in-time window begins (ISO), counted back from the live edge. */
  pitrWindowStart: z.string().nullable(),
  /** The source has no oplog: only its snapshots are restore points. */
  snapshotOnly: z.boolean(),
  /** Per bucket, findings of the destructive-operation finder whose first entry falls in it. */
  incidentCounts: z.array(z.number().int()),
  /** Each finding in the range, while there are few enough to flag one by one; otherwise null. */
  incidents: z.array(TimelineIncidentFlag).nullable(),
});

export const SnapshotView = z.strictObject({
  id: z.string(),
  status: z.enum(['complete', 'incomplete', 'missing', 'corrupt']),
  startTs: OpTimeView.nullable(),
  consistentTs: OpTimeView.nullable(),
  completedAt: z.string().nullable(),
  documents: z.number().int(),
  storedBytes: z.number(),
  lockedUntil: z.string().nullable(),
});

/** What a snapshot holds, from its manifest: the namespace picker of the restore wizard and the CLI read it. */
export const SnapshotNamespacesView = z.strictObject({
  snapshotId: z.string(),
  consistentTs: OpTimeView,
  namespaces: z.array(
    z.strictObject({
      ns: z.string(),
      db: z.string(),
      name: z.string(),
      type: z.enum(['collection', 'view', 'timeseries']),
      documents: z.number().int(),
      /** Uncompressed BSON size of the documents. */
      bytes: z.number(),
      indexes: z.number().int(),
    }),
  ),
  /** admin.system.users / system.roles counts, or null when the snapshot did not take them. */
  users: z.number().int().nullable(),
  roles: z.number().int().nullable(),
});

/** A restore's report as a file to save: JSON (everything) or the self-contained HTML validation page. */
export const RestoreReportFile = z.strictObject({
  fileName: z.string(),
  mediaType: z.enum(['application/json', 'text/html']),
  content: z.string(),
});

export const TaskStarted = z.strictObject({ taskId: z.string() });

export const AuditEntryView = z.strictObject({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  outcome: z.string(),
  details: z.unknown(),
});

// ---- Sources (issue: continuous capture) ----

export const ProbeReportView = z.strictObject({
  reachable: z.literal(true),
  authenticated: z.boolean(),
  user: z.string().nullable(),
  topology: z.strictObject({
    kind: z.enum(['replicaSet', 'standalone', 'sharded']),
    setName: z.string().nullable(),
    members: z.array(z.string()),
    primary: z.string().nullable(),
  }),
  serverVersion: z.string(),
  oplog: z
    .strictObject({
      first: z.strictObject({ t: z.number(), i: z.number() }),
      last: z.strictObject({ t: z.number(), i: z.number() }),
      hours: z.number(),
    })
    .nullable(),
  privileges: z.strictObject({
    sufficient: z.boolean(),
    checked: z.enum(['roles', 'authentication disabled']),
    missing: z.array(z.string()),
  }),
  pitr: z.strictObject({ enabled: z.boolean(), reason: z.string().nullable() }),
  warnings: z.array(z.string()),
});

export const SourceView = z.strictObject({
  id: z.string(),
  name: z.string(),
  repositoryId: z.string(),
  uri: z.string().describe('Connection string with the user, never the password.'),
  username: z.string().nullable(),
  tlsCaFile: z.string().nullable(),
  tlsCertFile: z.string().nullable(),
  readPreference: z.string().nullable(),
  passwordStorage: z.enum(['none', 'keychain', 'repository-key', 'insecure-base64']),
  warnings: z.array(z.string()),
  imported: z.boolean().describe('Created by importing a mongodump: no connection, nothing to capture.'),
  createdAt: z.string(),
});

export const ReadPreference = z.enum([
  'primary',
  'primaryPreferred',
  'secondary',
  'secondaryPreferred',
  'nearest',
]);

/** Days of the week as the policy names them (the weekly tier). */
export const Weekday = z.enum(['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']);
export type Weekday = z.infer<typeof Weekday>;

/** The snapshot tiers of a backup policy. */
export const SnapshotTier = z.enum(['hourly', 'daily', 'weekly', 'monthly']);
export type SnapshotTier = z.infer<typeof SnapshotTier>;

export const PolicyPreset = z.enum(['default', 'pci-dss', 'custom']);
export type PolicyPreset = z.infer<typeof PolicyPreset>;

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM (UTC)');

/** The name of an environment variable (a secret is read from it, never passed itself). */
export const EnvVarName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

/**
 * Where scheduled restore tests restore to: a deployment named by its connection string (the user
 * in it, never the password), or the throwaway local mongod the app starts itself from the
 * `mongodBinary` setting (started for the test and stopped after it, unless it was running already).
 */
export const RestoreTestUriTarget = z.strictObject({
  kind: z.literal('uri'),
  uri: ConnectionUri.describe(
    'Deployment that receives the scratch databases: mongodb:// or mongodb+srv://, the user in it, no password.',
  ),
  passwordEnv: EnvVarName.nullable().describe(
    "Environment variable of the engine's process holding the target password (headless), or null: then the password sealed by backup-job set (restoreTestPassword) or none.",
  ),
});
export const RestoreTestTarget = z.discriminatedUnion('kind', [
  RestoreTestUriTarget,
  z.strictObject({ kind: z.literal('local-mongod') }),
]);
export type RestoreTestTarget = z.infer<typeof RestoreTestTarget>;

/**
 * A backup job's scheduled restore test: every `everyDays` days (counted from the last test's
 * start; a test missed while the app was closed runs once at start), the latest snapshot or a
 * random point of the PITR window is restored into scratch databases `__mbm_rtest_<id>_<db>` of the
 * target, validated, timed (RTO per phase), recorded in the restore history and dropped again.
 * A failure raises RESTORE_TEST_FAILED; the next success resolves it.
 */
export const RestoreTestSettings = z.strictObject({
  everyDays: z.number().int().min(1).max(365).describe('Days between two tests.'),
  point: z
    .enum(['latest-snapshot', 'random-point'])
    .describe('Restore the newest complete snapshot, or a random second inside the PITR window.'),
  target: RestoreTestTarget,
  sample: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .describe('Documents compared byte for byte per namespace by the validation.'),
});
export type RestoreTestSettings = z.infer<typeof RestoreTestSettings>;

/**
 * Backup policy of a source, like Atlas and Ops Manager: snapshot tiers
 * (hourly, daily, weekly, monthly, each with its retention; null = off) plus
 * the point-in-time window and the objectives that raise alerts. Times are
 * UTC. The rules across fields (preset minimums, at least one tier) are in
 * engine/schedule/policy.ts.
 */
export const BackupPolicy = z.strictObject({
  hourly: z
    .strictObject({
      everyHours: z.number().int().min(1).max(24),
      keepDays: z.number().int().min(1).max(3650),
    })
    .nullable(),
  daily: z.strictObject({ at: HHMM, keepDays: z.number().int().min(1).max(3650) }).nullable(),
  weekly: z.strictObject({ day: Weekday, at: HHMM, keepWeeks: z.number().int().min(1).max(520) }).nullable(),
  monthly: z
    .strictObject({
      day: z.number().int().min(1).max(28),
      at: HHMM,
      keepMonths: z.number().int().min(1).max(120),
    })
    .nullable(),
  /** On-demand snapshots (no tier) are kept this long. */
  onDemandKeepDays: z.number().int().min(1).max(3650),
  /** Any second in this window can be restored (max 30 days). */
  pitrWindowHours: z.number().int().min(1).max(720),
  /**
   * Oplog segments are cut at least this often, which bounds the recovery point. The issue asks for
   * 10 s by default and 1 s at least; DESIGN.md's budget (< 1 s at 5,000 writes/s) needs less, so
   * values down to 0.25 s are accepted.
   */
  segmentSeconds: z.number().min(0.25).max(600),
  /** ...or when this much oplog is buffered. */
  segmentMaxMB: z.number().int().min(1).max(256),
  /**
   * Captured entries are durable (and count for the recovery point) once the capture journal is
   * fsynced; it is fsynced this often (milliseconds), with whatever arrived meanwhile. Absent (a
   * policy saved before the journal existed): 200.
   */
  journalFsyncMs: z.number().int().min(10).max(10_000).optional(),
  /** Alert when the recovery point exceeds this. */
  rpoObjectiveSeconds: z.number().int().min(1).max(86_400),
  /** Alert when the source's own oplog covers less than this. */
  oplogWindowAlertHours: z.number().min(1).max(720),
  /** Alert when the repository disk is fuller than this. */
  diskAlertPercent: z.number().int().min(50).max(99),
  preset: PolicyPreset,
  /** A restore test every N days into scratch databases of a chosen deployment; null = off. */
  restoreTest: RestoreTestSettings.nullable(),
});
export type BackupPolicy = z.infer<typeof BackupPolicy>;

/** A change to some fields of a policy (a tier is given whole, or null to switch it off). */
export const BackupPolicyChange = BackupPolicy.partial();

/** Ops Manager's backup job states. */
export const BackupJobState = z.enum(['active', 'stopped', 'inactive', 'misconfigured']);
export type BackupJobState = z.infer<typeof BackupJobState>;

/** What alerts are about (the Alerts section explains each). */
export const AlertKind = z.enum([
  'BACKUP_FAILED',
  'CAPTURE_FAILED',
  'POLICY_UNKNOWN',
  'CATALOG_REBUILT',
  'PITR_GAP',
  'OPLOG_WINDOW_LOW',
  'RPO_EXCEEDED',
  'DISK_NEARLY_FULL',
  'COPY_FAILING',
  'KEYCHAIN_UNPROTECTED',
  'JOURNAL_DAMAGED',
  'RESTORE_TEST_FAILED',
]);
export type AlertKind = z.infer<typeof AlertKind>;
export const AlertSeverity = z.enum(['warning', 'critical']);
export type AlertSeverity = z.infer<typeof AlertSeverity>;

export const AlertView = z.strictObject({
  id: z.number().int(),
  source: z.string().nullable(),
  kind: AlertKind,
  severity: AlertSeverity,
  message: z.string(),
  raisedAt: z.string(),
  resolvedAt: z.string().nullable(),
});

export const CaptureMetricsView = z.strictObject({
  state: z
    .enum(['starting', 'capturing', 'paused', 'reconnecting', 'write-failed', 'stopped'])
    .describe(
      'write-failed: the repository refused a segment (lastError says why); capture retries by itself.',
    ),
  capturedTs: OpTimeView.nullable(),
  sourceTs: OpTimeView.nullable(),
  recoveryPointSeconds: z.number().nullable(),
  entriesPerSecond: z.number(),
  bytesPerSecond: z.number(),
  segmentsWritten: z.number().int(),
  gaps: z.number().int(),
  lastError: z.string().nullable(),
  journalCommits: z
    .number()
    .int()
    .optional()
    .describe('Capture journal group commits (records written and fsynced).'),
  fsyncIntervalMs: z
    .number()
    .nullable()
    .optional()
    .describe('Mean time between journal fsyncs over the last second (the policy asks journalFsyncMs).'),
  lastFsyncMs: z.number().nullable().optional().describe('How long the last journal write and fsync took.'),
  filesWritten: z
    .number()
    .int()
    .optional()
    .describe('Files created in the repository: journal files and segments.'),
});

export const SourceStatus = z.strictObject({
  source: z.string(),
  imported: z.boolean().describe('Created by importing a mongodump: no connection, nothing to capture.'),
  capture: CaptureMetricsView,
  lastSnapshot: SnapshotView.nullable(),
  coverage: Coverage,
  openAlerts: z.array(AlertView),
  oplogWindow: z
    .strictObject({ first: OpTimeView, last: OpTimeView, hours: z.number(), checkedAt: z.string() })
    .nullable()
    .describe(
      "The source's own oplog window as last measured (source test, hourly check); null for a standalone.",
    ),
});

export const BackupJobView = z.strictObject({
  source: z.string(),
  state: BackupJobState,
  reason: z.string().nullable(),
  policy: BackupPolicy,
  /** The next run of each tier that is on (UTC). */
  nextRuns: z.partialRecord(SnapshotTier, z.string()),
});

// ---- Point-in-time views, queries and document history (issue 13) ----

/**
 * Query text as a DBA types it in mongosh or Compass: Extended JSON (relaxed or canonical), parsed by
 * the engine so that a syntax error comes back typed, with where it is. 16 KiB holds any filter,
 * projection, sort or pipeline a person writes; generated ones beyond it belong in a restore.
 */
export const QueryText = z.string().min(1).max(16_384);

/** A view of the cache (view.list); `id` is what `view drop --id N` takes. */
export const ViewIdentity = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const ViewState = z.enum(['building', 'ready', 'damaged']);

export const PointViewInfo = z.strictObject({
  id: ViewIdentity,
  source: z.string(),
  /** The snapshot the view starts from. */
  snapshotId: z.string(),
  /** Every entry with ts <= this is applied (the plan's bound). */
  bound: OpTimeView,
  state: ViewState,
  /** Size of the view's working file on disk. */
  bytes: z.number(),
  documents: z.number().int(),
  namespaces: z.number().int(),
  /** Oplog entries applied on top of the snapshot (over every incremental step). */
  entriesApplied: z.number().int(),
  /** The earlier view this one was moved forward from, if it was. */
  movedForwardFrom: OpTimeView.nullable(),
  createdAt: z.string(),
  lastUsedAt: z.string(),
});
export type PointViewInfo = z.infer<typeof PointViewInfo>;

/** Which view answered a query: the source, its point and how it came to exist. */
export const ViewAnswer = z.strictObject({
  viewId: ViewIdentity,
  bound: OpTimeView,
  /**
   * reused: the view existed; moved-forward: a copy of an earlier view of the same snapshot was
   * extended; moved-in-place: the view an earlier `latest` built was extended where it was (the
   * next `latest` does that when nothing reads it); built: from the snapshot.
   */
  how: z.enum(['reused', 'moved-forward', 'moved-in-place', 'built']),
});

/** What a query runs on: a source at a point, one namespace. */
export const QueryTarget = {
  source: SourceName.describe('Source name.'),
  at: Identifier.describe('latest, t:i, an ISO-8601 second with zone, or a snapshot id.'),
  ns: Namespace.describe('db.collection (a time-series collection returns its measurements).'),
};

/** A query's collation, as mongod takes it; without one, the collection's (or view's) own applies. */
export const QueryCollation = {
  collation: QueryText.optional().describe(
    'Extended JSON collation, e.g. {"locale": "en", "strength": 2} (case-insensitive); default: the collection\'s or view\'s own, else {"locale": "simple"} (bytes).',
  ),
};

export const QueryFilter = {
  filter: QueryText.optional().describe('Extended JSON filter, e.g. {"status": "A", "qty": {"$lt": 30}}.'),
  ...QueryCollation,
};

export const FindShape = {
  ...QueryFilter,
  projection: QueryText.optional().describe('Extended JSON projection, e.g. {"name": 1, "_id": 0}.'),
  sort: QueryText.optional().describe('Extended JSON sort, e.g. {"qty": -1}.'),
  skip: z.number().int().min(0).max(1_000_000_000).default(0).describe('Documents to skip.'),
};

/** Documents as Extended JSON text, one string each: text keeps field order and types exactly. */
export const EjsonDocuments = z.array(z.string());

export const IndexUse = z.strictObject({
  /** The index a lookup used (`_id_` or a secondary index's name), or null for a collection scan. */
  index: z.string().nullable(),
  /** Documents read from the view to answer. */
  documentsExamined: z.number().int(),
});

/** An open query cursor (query.more, query.close): 16 hex digits, valid for the client that opened it. */
export const CursorId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[0-9a-f]+$/, 'a cursor id as query.find or query.aggregate answered it');

/** Documents per batch of a cursor (mongod's batchSize); a batch also stops at 16 MiB of text. */
export const BatchSize = z.number().int().min(1).max(10_000);

export const QueryAnswer = z.strictObject({
  view: ViewAnswer,
  ns: z.string(),
  documents: EjsonDocuments,
  /** Documents remain after this batch (within the limit): read them with query.more and cursorId. */
  more: z.boolean(),
  /** The cursor to read the rest with (query.more), or null when this answer ended the query. */
  cursorId: CursorId.nullable(),
  plan: IndexUse,
});

export const CollectionKind = z.enum(['collection', 'view', 'timeseries', 'buckets']);

export const CollectionAtPoint = z.strictObject({
  name: z.string(),
  type: CollectionKind,
  /** Documents (for a time-series collection: measurements; for a view: null, it is computed). */
  count: z.number().int().nullable(),
  /** Collection options as listCollections shows them (relaxed Extended JSON). */
  options: z.record(z.string(), z.unknown()),
  /** Index specifications as listIndexes shows them (relaxed Extended JSON). */
  indexes: z.array(z.record(z.string(), z.unknown())),
});

export const CollectionsAnswer = z.strictObject({
  view: ViewAnswer,
  databases: z.array(
    z.strictObject({
      name: z.string(),
      collections: z.array(CollectionAtPoint),
    }),
  ),
});

export const HistoryOp = z.enum([
  'snapshot',
  'insert',
  'update',
  'replace',
  'delete',
  'drop-collection',
  'drop-database',
  'rename',
]);

export const HistoryVersion = z.strictObject({
  ts: OpTimeView,
  op: HistoryOp,
  /** The namespace the document lived in at that moment (renames change it). */
  ns: z.string(),
  /** In a transaction (ts is its commit's). */
  inTransaction: z.boolean(),
  /** What changed, one line per field: `+ a: 1`, `- b`, `~ c: 1 -> 2`. Empty for a snapshot version. */
  change: z.array(z.string()),
  /** The document after the change as Extended JSON; null once deleted or dropped. */
  after: z.string().nullable(),
  /** The restore point just before this change (`t:i`). */
  restoreBefore: OpTimeView,
});

export const HistoryAnswer = z.strictObject({
  source: z.string(),
  ns: z.string(),
  id: z.string(),
  from: OpTimeView.nullable(),
  to: OpTimeView.nullable(),
  versions: z.array(HistoryVersion),
  /** Segments read, against those in the window: the per-segment _id index skips the rest. */
  segmentsRead: z.number().int(),
  segmentsInWindow: z.number().int(),
});

export const ExportFormat = z.enum(['jsonl', 'bson']);

// ---- Dashboard and schedules (issue: timeline and dashboard) ----

/** Bytes written one UTC day, still held (retention-deleted rows are gone from the catalog). */
export const StoredDayView = z.strictObject({
  day: z.string().describe('UTC day, YYYY-MM-DD.'),
  snapshotBytes: z.number().describe('Stored (compressed) bytes of the snapshots completed that day.'),
  oplogBytes: z.number().describe('Stored bytes of the oplog segments whose first entry is from that day.'),
  held: z
    .strictObject({
      snapshotBytes: z
        .number()
        .describe('Stored bytes of every snapshot the repository held for the source.'),
      oplogBytes: z.number().describe('Stored bytes of every oplog segment it held.'),
    })
    .nullable()
    .describe(
      'Total storage held for the source at the end of the day (today: now), whatever retention deleted later; null before the catalog recorded any (schema 11).',
    ),
});

export const SourceOverview = z.strictObject({
  source: z.string(),
  jobState: BackupJobState,
  /** The policy's recovery point objective: the dashboard shows the live recovery point red above it. */
  rpoObjectiveSeconds: z.number(),
  nextSnapshot: z
    .strictObject({ at: z.string(), tiers: z.array(SnapshotTier) })
    .nullable()
    .describe(
      'The next scheduled snapshot (UTC) and its tiers; null when the job is not active or no tier is on.',
    ),
  pitrWindow: z.strictObject({
    hours: z.number(),
    from: z.string(),
    to: z.string(),
    coveredSeconds: z.number().describe('Seconds of the window covered by captured oplog.'),
    restorableSeconds: z.number().describe('Seconds of the window that can be restored.'),
    gaps: z.array(CoverageGapView).describe('Gaps in the oplog chain that reach into the window.'),
    gapSeconds: z.number().describe('Seconds of the window inside those gaps.'),
  }),
  storage: z.strictObject({
    storedBytes: z.number(),
    snapshotBytes: z.number(),
    oplogBytes: z.number(),
    snapshots: z.number().int().describe('Complete snapshots.'),
    segments: z.number().int(),
    days: z
      .array(StoredDayView)
      .describe('Every UTC day of the range, oldest first (days without writes are zeros).'),
  }),
});

export const PolicyPreviewSnapshot = z.strictObject({
  at: z.string().describe('When it completed (taken) or is scheduled (planned), UTC.'),
  tiers: z.array(SnapshotTier),
  existing: z.boolean().describe('Taken already; otherwise planned by the policy.'),
  id: z.string().nullable(),
  lockedUntil: z.string().nullable(),
  storedBytes: z.number().nullable().describe('Measured for a taken snapshot; null for a planned one.'),
});

export const PolicyPreviewView = z.strictObject({
  source: z.string(),
  from: z.string(),
  horizon: z.string(),
  problems: z
    .array(z.string())
    .describe('Why saving this policy would be refused (empty: it would be accepted).'),
  snapshots: z
    .array(PolicyPreviewSnapshot)
    .describe('The snapshots that exist at the horizon, oldest first.'),
  planned: z.number().int().describe('Snapshots the policy takes between now and the horizon, kept or not.'),
  storage: z.strictObject({
    snapshotBytes: z.number(),
    oplogBytes: z.number(),
    totalBytes: z.number(),
    oplogDays: z.number().describe('Days of oplog held at the horizon (from the oldest kept snapshot).'),
    estimatedSnapshots: z
      .number()
      .int()
      .describe('Kept snapshots sized like the newest one (not taken yet).'),
    basis: z.strictObject({
      snapshotBytes: z.number().nullable().describe('Stored bytes of the newest snapshot; null without one.'),
      oplogBytesPerDay: z
        .number()
        .nullable()
        .describe('Measured stored oplog bytes per day; null before any.'),
      oplogMeasuredDays: z.number().describe('Over how many days the oplog rate was measured.'),
    }),
  }),
});

/** The last restore test of a source, as the dashboard shows it. */
export const RestoreTestResultView = z.strictObject({
  /** The restore history's id (restore.get shows the whole report). */
  id: z.string(),
  state: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  /** The restore completed and the validation passed; null while running. */
  passed: z.boolean().nullable(),
  trigger: z.enum(['schedule', 'manual']),
  /** The point restored: a snapshot id (latest-snapshot) or an ISO second (random-point). */
  point: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  target: z.string().nullable(),
  /** The measured recovery time: the restore's phases (ms each) and the validation after it. */
  rto: z
    .strictObject({
      restoreMs: z.number(),
      validationMs: z.number(),
      totalMs: z.number(),
      phases: z.array(z.strictObject({ name: z.string(), ms: z.number() })),
    })
    .nullable(),
  /** Checks that failed, with their first findings. */
  failedChecks: z.array(z.strictObject({ name: z.string(), findings: z.array(z.string()) })),
  error: ErrorShape.nullable(),
  /** Scratch databases that could not be dropped (the target went away): drop them by hand. */
  scratchLeftOver: z.array(z.string()),
});

export const RestoreTestStatusView = z.strictObject({
  source: z.string(),
  /** The job's restore test settings, or null when restore tests are off. */
  settings: RestoreTestSettings.nullable(),
  /** When the scheduler runs the next test (UTC), or null when off. */
  nextRunAt: z.string().nullable(),
  last: RestoreTestResultView.nullable(),
});
