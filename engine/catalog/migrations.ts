/**
 * Numbered catalog migrations. Each runs once, inside the same transaction
 * that records it, so a crash mid-migration leaves the previous version
 * intact. Never edit a released migration: add a new one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'bootstrap',
    sql: `
      CREATE TABLE schema_migrations (
        version    INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        applied_at TEXT NOT NULL
      );
      CREATE TABLE settings (
        key        TEXT PRIMARY KEY,
        value_json TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE audit_log (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        at        TEXT NOT NULL,
        actor     TEXT NOT NULL,
        action    TEXT NOT NULL,
        target    TEXT,
        outcome   TEXT NOT NULL,
        details_json TEXT
      );
    `,
  },
  {
    version: 2,
    name: 'repository index',
    sql: `
      CREATE TABLE repositories (
        id             TEXT PRIMARY KEY,
        path           TEXT NOT NULL UNIQUE,
        format_version INTEGER NOT NULL,
        compression    TEXT NOT NULL,
        encrypted      INTEGER NOT NULL,
        created_at     TEXT NOT NULL,
        registered_at  TEXT NOT NULL
      );
      CREATE TABLE sources (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        repository_id TEXT NOT NULL REFERENCES repositories(id),
        uri_redacted  TEXT,
        options_json  TEXT NOT NULL DEFAULT '{}',
        created_at    TEXT NOT NULL
      );
      CREATE TABLE backup_jobs (
        source_id   TEXT PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
        policy_json TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('active', 'stopped', 'inactive', 'misconfigured')),
        reason      TEXT,
        updated_at  TEXT NOT NULL
      );
      CREATE TABLE snapshots (
        id             TEXT PRIMARY KEY,
        source_id      TEXT NOT NULL REFERENCES sources(id),
        path           TEXT NOT NULL UNIQUE,
        status         TEXT NOT NULL CHECK (status IN ('complete', 'incomplete', 'missing', 'corrupt')),
        start_t        INTEGER,
        start_i        INTEGER,
        consistent_t   INTEGER,
        consistent_i   INTEGER,
        started_at     TEXT,
        completed_at   TEXT,
        server_version TEXT,
        doc_count      INTEGER NOT NULL DEFAULT 0,
        raw_bytes      INTEGER NOT NULL DEFAULT 0,
        stored_bytes   INTEGER NOT NULL DEFAULT 0,
        locked_until   TEXT
      );
      CREATE INDEX snapshots_by_point ON snapshots (source_id, status, consistent_t, consistent_i);
      CREATE TABLE snapshot_namespaces (
        snapshot_id  TEXT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
        ns           TEXT NOT NULL,
        type         TEXT NOT NULL,
        doc_count    INTEGER NOT NULL,
        raw_bytes    INTEGER NOT NULL,
        stored_bytes INTEGER NOT NULL,
        file         TEXT,
        sha256       TEXT,
        PRIMARY KEY (snapshot_id, ns)
      );
      CREATE TABLE oplog_segments (
        id             INTEGER PRIMARY KEY,
        source_id      TEXT NOT NULL REFERENCES sources(id),
        path           TEXT NOT NULL UNIQUE,
        status         TEXT NOT NULL CHECK (status IN ('ok', 'missing', 'corrupt')),
        first_t        INTEGER NOT NULL,
        first_i        INTEGER NOT NULL,
        last_t         INTEGER NOT NULL,
        last_i         INTEGER NOT NULL,
        prev_t         INTEGER,
        prev_i         INTEGER,
        entry_count    INTEGER NOT NULL,
        raw_bytes      INTEGER NOT NULL,
        stored_bytes   INTEGER NOT NULL,
        payload_sha256 TEXT NOT NULL,
        locked_until   TEXT,
        created_at     TEXT NOT NULL
      );
      CREATE INDEX segments_by_first ON oplog_segments (source_id, first_t, first_i);
      CREATE TABLE coverage_intervals (
        source_id        TEXT NOT NULL REFERENCES sources(id),
        start_t          INTEGER NOT NULL,
        start_i          INTEGER NOT NULL,
        end_t            INTEGER NOT NULL,
        end_i            INTEGER NOT NULL,
        first_segment_id INTEGER NOT NULL,
        last_segment_id  INTEGER NOT NULL,
        segment_count    INTEGER NOT NULL,
        -- Why the interval before this one ended: 'start', 'chain-break', 'missing', 'corrupt'.
        break_reason     TEXT NOT NULL,
        PRIMARY KEY (source_id, start_t, start_i)
      ) WITHOUT ROWID;
      CREATE TABLE copy_targets (
        id            TEXT PRIMARY KEY,
        repository_id TEXT NOT NULL REFERENCES repositories(id),
        path          TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        last_run_at   TEXT,
        last_error    TEXT,
        UNIQUE (repository_id, path)
      );
      CREATE TABLE file_copies (
        target_id TEXT NOT NULL REFERENCES copy_targets(id) ON DELETE CASCADE,
        rel_path  TEXT NOT NULL,
        sha256    TEXT NOT NULL,
        bytes     INTEGER NOT NULL,
        copied_at TEXT NOT NULL,
        PRIMARY KEY (target_id, rel_path)
      );
      CREATE TABLE restores (
        id          TEXT PRIMARY KEY,
        source_id   TEXT NOT NULL,
        point_json  TEXT NOT NULL,
        kind        TEXT NOT NULL,
        state       TEXT NOT NULL,
        started_at  TEXT NOT NULL,
        finished_at TEXT,
        details_json TEXT
      );
      CREATE TABLE verifications (
        id            TEXT PRIMARY KEY,
        repository_id TEXT NOT NULL REFERENCES repositories(id),
        started_at    TEXT NOT NULL,
        finished_at   TEXT,
        files_checked INTEGER NOT NULL DEFAULT 0,
        missing       INTEGER NOT NULL DEFAULT 0,
        corrupt       INTEGER NOT NULL DEFAULT 0,
        report_json   TEXT
      );
      CREATE TABLE alerts (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        source_id    TEXT,
        kind         TEXT NOT NULL,
        severity     TEXT NOT NULL,
        message      TEXT NOT NULL,
        raised_at    TEXT NOT NULL,
        resolved_at  TEXT,
        details_json TEXT
      );
    `,
  },
  {
    version: 3,
    name: 'source connections',
    sql: `
      -- How to reach a source: connection string without credentials, user, TLS files, read preference.
      ALTER TABLE sources ADD COLUMN connection_json TEXT;
      -- The password, never in clear: encrypted with the repository key, or a pointer to the OS keychain,
      -- or (only with --insecure-store-password) base64, flagged.
      ALTER TABLE sources ADD COLUMN secret_json TEXT;
    `,
  },
  {
    version: 4,
    name: 'snapshot tiers',
    sql: `
      -- Which schedule tiers (hourly, daily, weekly, monthly) a snapshot was taken for; [] = on demand.
      ALTER TABLE snapshots ADD COLUMN tiers_json TEXT NOT NULL DEFAULT '[]';
    `,
  },
  {
    version: 5,
    name: 'capture status',
    sql: `
      -- The live capture metrics of each source, written every few seconds by the process that
      -- captures (desktop or headless), so the dashboard and \`status\` from any door can read them.
      CREATE TABLE capture_status (
        source_id    TEXT PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
        metrics_json TEXT NOT NULL,
        updated_at   TEXT NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'source oplog window',
    sql: `
      -- The source's own oplog window (first and last entry it still holds), as last measured by
      -- source test or the scheduler's hourly check: how long capture may stop before a gap.
      CREATE TABLE source_oplog_window (
        source_id  TEXT PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
        first_t    INTEGER NOT NULL,
        first_i    INTEGER NOT NULL,
        last_t     INTEGER NOT NULL,
        last_i     INTEGER NOT NULL,
        hours      REAL NOT NULL,
        checked_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: 'backup policy origin',
    sql: `
      -- Where a job's policy comes from: 'set' (by the DBA, or the default at source add), 'repository'
      -- (restored by catalog rebuild from sources/<id>/protection.json) or 'assumed' (a rebuild found no
      -- policy in the repository and filled in the default): retention never deletes on an assumed one.
      ALTER TABLE backup_jobs ADD COLUMN policy_origin TEXT NOT NULL DEFAULT 'set';
    `,
  },
  {
    version: 8,
    name: 'restore test target password',
    sql: `
      -- The password of a backup job's restore test target (policy.restoreTest.target), never in clear:
      -- sealed as source passwords are (OS keychain, or the repository key, or with
      -- --insecure-store-password base64). Not in protection.json: after a rebuild it is asked again.
      ALTER TABLE backup_jobs ADD COLUMN restore_test_secret_json TEXT;
    `,
  },
  {
    version: 9,
    name: 'incidents',
    sql: `
      -- What the finder for destructive operations found in a source's captured oplog (drops, mass
      -- deletes, ...), each with the restore point just before it (before_t/before_i: the entry that
      -- precedes the event's first entry in the captured stream). Derived from the segments alone:
      -- catalog rebuild forgets these rows and the scan finds them again.
      CREATE TABLE incidents (
        id           INTEGER PRIMARY KEY,
        source_id    TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        key          TEXT NOT NULL,
        kind         TEXT NOT NULL,
        ns           TEXT NOT NULL,
        first_t      INTEGER NOT NULL,
        first_i      INTEGER NOT NULL,
        last_t       INTEGER NOT NULL,
        last_i       INTEGER NOT NULL,
        before_t     INTEGER,
        before_i     INTEGER,
        wall         TEXT,
        size         INTEGER,
        lsid_json    TEXT,
        txn_number   INTEGER,
        details_json TEXT NOT NULL,
        UNIQUE (source_id, key)
      );
      CREATE INDEX incidents_by_time ON incidents (source_id, first_t, first_i);
      -- Where each source's scan stopped: the last segment scanned (its last ts and the highest segment
      -- id seen, to notice a segment registered behind it), the thresholds it ran with, and the
      -- finder's state between entries (open windows and transactions), so it resumes after a restart.
      CREATE TABLE incident_scans (
        source_id      TEXT PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
        through_t      INTEGER NOT NULL,
        through_i      INTEGER NOT NULL,
        max_segment_id INTEGER NOT NULL,
        segments       INTEGER NOT NULL,
        thresholds_json TEXT NOT NULL,
        state_json     TEXT NOT NULL,
        updated_at     TEXT NOT NULL
      );
    `,
  },
  {
    version: 10,
    name: 'capture journals',
    sql: `
      -- The unsealed tail of each source's capture journal (repository format 3): one row per journal
      -- file, updated after every group commit, so that coverage, planning and status reach the last
      -- durable entry before its segment is sealed. The row goes in the transaction that registers
      -- the sealed segment; the repository's journal files are the truth (catalog rebuild re-reads them).
      CREATE TABLE capture_journals (
        path        TEXT PRIMARY KEY,
        source_id   TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        first_t     INTEGER NOT NULL,
        first_i     INTEGER NOT NULL,
        last_t      INTEGER NOT NULL,
        last_i      INTEGER NOT NULL,
        prev_t      INTEGER,
        prev_i      INTEGER,
        entry_count INTEGER NOT NULL,
        bytes       INTEGER NOT NULL,
        updated_at  TEXT NOT NULL
      );
      CREATE INDEX capture_journals_by_source ON capture_journals (source_id, first_t, first_i);
    `,
  },
  {
    version: 11,
    name: 'storage held per day',
    sql: `
      -- What each source's repository holds at the end of each UTC day: stored (on-disk) bytes of its
      -- snapshot and oplog segment rows, whatever their status. Kept by the triggers below, so every
      -- add, prune and size change counts on the day it happens, whichever code makes it (capture,
      -- snapshots, retention, rebuild); a day without a row held what the latest day before it held.
      -- Retention deleting old rows lowers today's figure, never a past day's. Rows from before this
      -- migration are counted once, on the day it runs.
      CREATE TABLE storage_held_days (
        source_id      TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        day            TEXT NOT NULL,
        snapshot_bytes INTEGER NOT NULL,
        oplog_bytes    INTEGER NOT NULL,
        PRIMARY KEY (source_id, day)
      ) WITHOUT ROWID;
      INSERT INTO storage_held_days (source_id, day, snapshot_bytes, oplog_bytes)
      SELECT id, date('now'),
             (SELECT coalesce(sum(stored_bytes), 0) FROM snapshots WHERE source_id = sources.id),
             (SELECT coalesce(sum(stored_bytes), 0) FROM oplog_segments WHERE source_id = sources.id)
      FROM sources;
      -- Each change starts today's row from the latest day's figures (once), then adds its delta.
      CREATE TRIGGER storage_held_segment_added AFTER INSERT ON oplog_segments
      BEGIN
        INSERT INTO storage_held_days (source_id, day, snapshot_bytes, oplog_bytes)
        SELECT NEW.source_id, date('now'),
               coalesce((SELECT snapshot_bytes FROM storage_held_days WHERE source_id = NEW.source_id ORDER BY day DESC LIMIT 1), 0),
               coalesce((SELECT oplog_bytes FROM storage_held_days WHERE source_id = NEW.source_id ORDER BY day DESC LIMIT 1), 0) + NEW.stored_bytes
        WHERE true
        ON CONFLICT (source_id, day) DO UPDATE SET oplog_bytes = oplog_bytes + NEW.stored_bytes;
      END;
      CREATE TRIGGER storage_held_segment_removed AFTER DELETE ON oplog_segments
      BEGIN
        INSERT INTO storage_held_days (source_id, day, snapshot_bytes, oplog_bytes)
        SELECT OLD.source_id, date('now'),
               coalesce((SELECT snapshot_bytes FROM storage_held_days WHERE source_id = OLD.source_id ORDER BY day DESC LIMIT 1), 0),
               coalesce((SELECT oplog_bytes FROM storage_held_days WHERE source_id = OLD.source_id ORDER BY day DESC LIMIT 1), 0) + -OLD.stored_bytes
        WHERE true
        ON CONFLICT (source_id, day) DO UPDATE SET oplog_bytes = oplog_bytes + -OLD.stored_bytes;
      END;
      CREATE TRIGGER storage_held_segment_resized AFTER UPDATE OF stored_bytes ON oplog_segments
        WHEN NEW.stored_bytes <> OLD.stored_bytes
      BEGIN
        INSERT INTO storage_held_days (source_id, day, snapshot_bytes, oplog_bytes)
        SELECT NEW.source_id, date('now'),
               coalesce((SELECT snapshot_bytes FROM storage_held_days WHERE source_id = NEW.source_id ORDER BY day DESC LIMIT 1), 0),
               coalesce((SELECT oplog_bytes FROM storage_held_days WHERE source_id = NEW.source_id ORDER BY day DESC LIMIT 1), 0) + NEW.stored_bytes - OLD.stored_bytes
        WHERE true
        ON CONFLICT (source_id, day) DO UPDATE SET oplog_bytes = oplog_bytes + NEW.stored_bytes - OLD.stored_bytes;
      END;
      CREATE TRIGGER storage_held_snapshot_added AFTER INSERT ON snapshots
      BEGIN
        INSERT INTO storage_held_days (source_id, day, snapshot_bytes, oplog_bytes)
        SELECT NEW.source_id, date('now'),
               coalesce((SELECT snapshot_bytes FROM storage_held_days WHERE source_id = NEW.source_id ORDER BY day DESC LIMIT 1), 0) + NEW.stored_bytes,
               coalesce((SELECT oplog_bytes FROM storage_held_days WHERE source_id = NEW.source_id ORDER BY day DESC LIMIT 1), 0)
        WHERE true
        ON CONFLICT (source_id, day) DO UPDATE SET snapshot_bytes = snapshot_bytes + NEW.stored_bytes;
      END;
      CREATE TRIGGER storage_held_snapshot_removed AFTER DELETE ON snapshots
      BEGIN
        INSERT INTO storage_held_days (source_id, day, snapshot_bytes, oplog_bytes)
        SELECT OLD.source_id, date('now'),
               coalesce((SELECT snapshot_bytes FROM storage_held_days WHERE source_id = OLD.source_id ORDER BY day DESC LIMIT 1), 0) + -OLD.stored_bytes,
               coalesce((SELECT oplog_bytes FROM storage_held_days WHERE source_id = OLD.source_id ORDER BY day DESC LIMIT 1), 0)
        WHERE true
        ON CONFLICT (source_id, day) DO UPDATE SET snapshot_bytes = snapshot_bytes + -OLD.stored_bytes;
      END;
      CREATE TRIGGER storage_held_snapshot_resized AFTER UPDATE OF stored_bytes ON snapshots
        WHEN NEW.stored_bytes <> OLD.stored_bytes
      BEGIN
        INSERT INTO storage_held_days (source_id, day, snapshot_bytes, oplog_bytes)
        SELECT NEW.source_id, date('now'),
               coalesce((SELECT snapshot_bytes FROM storage_held_days WHERE source_id = NEW.source_id ORDER BY day DESC LIMIT 1), 0) + NEW.stored_bytes - OLD.stored_bytes,
               coalesce((SELECT oplog_bytes FROM storage_held_days WHERE source_id = NEW.source_id ORDER BY day DESC LIMIT 1), 0)
        WHERE true
        ON CONFLICT (source_id, day) DO UPDATE SET snapshot_bytes = snapshot_bytes + NEW.stored_bytes - OLD.stored_bytes;
      END;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1]!.version;
