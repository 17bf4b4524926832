import type { AlertKind } from '../../../../engine/api/contract';

/**
 * What each alert kind means to a DBA, and what to do about it. The kinds
 * are the contract's: a kind it adds is a type error here until it is explained.
 */
export const KIND_HELP: Record<AlertKind, string> = {
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
