import type { AlertKind } from '../../../../engine/api/contract';

/**
 * What each alert kind means to a DBA, and what to do about it. The kinds
 * are the contract's: a kind it adds is a type error here until it is explained.
 */
export const KIND_HELP: Record<AlertKind, string> = {
  BACKUP_FAILED: 'A snapshot or the capture could not run; resolves itself after the next good snapshot.',
  CAPTURE_FAILED:
    'Continuous capture cannot write to the repository (disk full, read-only or gone): nothing new is kept. It retries by itself and catches up without a gap while the source oplog still holds the last captured entry; free space or bring the disk back.',
  POLICY_UNKNOWN:
    'After a catalog rebuild the backup policy of this source could not be recovered from its repository: retention deletes nothing until a policy is set (Backup job settings).',
  CATALOG_REBUILT:
    'The catalog was damaged; it was set aside (catalog.sqlite.corrupt-<time>) and rebuilt from the known repositories. Check that every repository is listed and attach any that is missing.',
  PITR_GAP:
    'The source oplog rolled over before it was captured: points inside the gap cannot be restored. A new snapshot was started.',
  OPLOG_WINDOW_LOW: 'The source keeps less oplog than the objective; enlarge its oplog (replSetResizeOplog).',
  RPO_EXCEEDED: 'More seconds of writes than the objective would be lost right now.',
  DISK_NEARLY_FULL: 'The repository disk is nearly full; retention may need shortening or a bigger disk.',
  COPY_FAILING: 'Copying to a secondary location (NAS, removable disk) fails.',
  KEYCHAIN_UNPROTECTED:
    'The OS keychain offers no real encryption (or its file is damaged): passphrases and source passwords are not saved. Start a secret service (GNOME Keyring, KWallet) and restart the app.',
  JOURNAL_DAMAGED:
    'A record of the capture journal failed its check at start-up (damage on disk, not a crash). What came before it was sealed and the file was set aside; capture read the rest again from the source oplog, so nothing is lost unless a gap is also shown. Check the disk.',
  RESTORE_TEST_FAILED:
    "The scheduled restore test could not restore this source's backup into its scratch databases, or the restored copy differs from the backup (see the restore history for the findings). Resolves itself after the next passing test.",
};
