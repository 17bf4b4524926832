/**
 * audit.log at the repository's root: the audit log (DESIGN.md rule 7) kept with the backups it
 * is about, so losing the catalog does not lose it. One JSON object per line, append-only and
 * hash-chained: each record carries `seq` (1, 2, …), `prev` (the previous record's `hash`, 64
 * zeros for the first) and `hash` = SHA-256 of `prev` + the record without `hash` (HMAC-SHA-256
 * under a key derived from the data key in an encrypted repository, so that nobody without the
 * passphrase can forge a consistent chain). An edited, removed or reordered record breaks the
 * chain, which `repo verify` reports. A plain-hash chain in an unencrypted repository detects
 * damage and naive edits; only the HMAC resists somebody who rewrites the whole file. Removing
 * records from the end leaves a valid shorter chain: the catalog's count says how many there were.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Repository } from './repository.js';

export const AUDIT_LOG_FILE = 'audit.log';
const GENESIS = '0'.repeat(64);

export interface AuditRecord {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  details: unknown;
  prev: string;
  hash: string;
}

const tails = new WeakMap<Repository, { seq: number; hash: string }>();

function chainHash(repo: Repository, body: Omit<AuditRecord, 'hash'>): string {
  const text = JSON.stringify(body);
  return (repo.encrypted ? repo.mac(text) : null) ?? createHash('sha256').update(text).digest('hex');
}

export function readAuditLog(repo: Repository): string[] {
  try {
    return readFileSync(join(repo.root, AUDIT_LOG_FILE), 'utf8').split('\n').filter(Boolean);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Appends one record and fsyncs it (audit entries are rare; each is durable before the call returns). */
export function appendAuditRecord(
  repo: Repository,
  e: Omit<AuditRecord, 'seq' | 'prev' | 'hash'>,
): AuditRecord {
  let tail = tails.get(repo);
  if (!tail) {
    const last = readAuditLog(repo).at(-1);
    const parsed = last ? (JSON.parse(last) as AuditRecord) : null;
    tail = parsed ? { seq: parsed.seq, hash: parsed.hash } : { seq: 0, hash: GENESIS };
  }
  const body = { seq: tail.seq + 1, ...e, prev: tail.hash };
  const record: AuditRecord = { ...body, hash: chainHash(repo, body) };
  const fd = openSync(join(repo.root, AUDIT_LOG_FILE), 'a', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(record)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  tails.set(repo, { seq: record.seq, hash: record.hash });
  return record;
}

/** Checks the chain; returns one message per broken record (empty when the log is whole). */
export function verifyAuditLog(repo: Repository): string[] {
  const problems: string[] = [];
  let prev = { seq: 0, hash: GENESIS };
  for (const [k, line] of readAuditLog(repo).entries()) {
    let r: AuditRecord;
    try {
      r = JSON.parse(line) as AuditRecord;
    } catch {
      problems.push(`${AUDIT_LOG_FILE} line ${k + 1} is not valid JSON.`);
      continue;
    }
    const { hash, ...body } = r;
    if (r.seq !== prev.seq + 1 || r.prev !== prev.hash)
      problems.push(
        `${AUDIT_LOG_FILE} line ${k + 1} (record ${r.seq}) does not follow record ${prev.seq}: a record was removed, reordered or edited before it.`,
      );
    else if (chainHash(repo, body) !== hash)
      problems.push(`${AUDIT_LOG_FILE} line ${k + 1} (record ${r.seq}) was edited: its hash does not match.`);
    prev = { seq: r.seq, hash };
  }
  return problems;
}
