/**
 * sources/<id>/protection.json: what it takes to resume protecting a source after the catalog
 * is lost, kept beside source.json: the connection (never a password or other secret: those stay
 * in the catalog or the OS keychain), the topology, and the backup job's policy and state.
 * Retention locks have their own files (locks/). Written durably on every change; sealed like a
 * manifest (SHA-256, or HMAC under the data key in an encrypted repository), so a damaged or
 * edited file is refused and the rebuilt job waits for the DBA instead of trusting it.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../errors.js';
import { writeFileDurable } from './durable-file.js';
import type { Repository } from './repository.js';

export const PROTECTION_FILE = 'protection.json';

export interface ProtectionFile {
  type: 'protection';
  formatVersion: 1;
  sourceId: string;
  updatedAt: string;
  connection: unknown;
  options: unknown;
  /** The job as the DBA wants it: a Misconfigured job is stored as Active (its cause is runtime). */
  job: { state: string; policy: unknown } | null;
  integrity?: { algorithm: 'sha256' | 'hmac-sha256'; value: string };
}

function integrityOf(repo: Repository, body: ProtectionFile): NonNullable<ProtectionFile['integrity']> {
  const text = JSON.stringify({ ...body, integrity: undefined });
  const mac = repo.encrypted ? repo.mac(text) : null;
  return mac
    ? { algorithm: 'hmac-sha256', value: mac }
    : { algorithm: 'sha256', value: createHash('sha256').update(text).digest('hex') };
}

export async function writeProtectionFile(
  repo: Repository,
  p: Omit<ProtectionFile, 'type' | 'formatVersion' | 'integrity'>,
): Promise<void> {
  const body: ProtectionFile = { type: 'protection', formatVersion: 1, ...p };
  const sealed = { ...body, integrity: integrityOf(repo, body) };
  await writeFileDurable(
    join(repo.sourceDir(p.sourceId), PROTECTION_FILE),
    [Buffer.from(`${JSON.stringify(sealed, null, 2)}\n`)],
    repo.io,
  );
}

/** null when absent (a repository written before this file existed); CORRUPT when damaged or edited. */
export async function readProtectionFile(repo: Repository, sourceId: string): Promise<ProtectionFile | null> {
  const label = `sources/${sourceId}/${PROTECTION_FILE}`;
  let p: ProtectionFile;
  try {
    p = JSON.parse(await readFile(join(repo.sourceDir(sourceId), PROTECTION_FILE), 'utf8')) as ProtectionFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ApiError('CORRUPT', `${label} is not valid JSON.`);
  }
  if (p?.type !== 'protection' || p.sourceId !== sourceId || !p.integrity)
    throw new ApiError('CORRUPT', `${label} is not a protection file of this source.`);
  if (p.formatVersion > 1)
    throw new ApiError('CORRUPT', `${label}: format ${p.formatVersion} is newer than supported.`);
  const expected = integrityOf(repo, { ...p, integrity: undefined });
  if (expected.algorithm !== p.integrity.algorithm || expected.value !== p.integrity.value)
    throw new ApiError('CORRUPT', `${label} fails its integrity check (damaged or edited).`);
  return p;
}
