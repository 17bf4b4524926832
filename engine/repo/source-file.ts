/** sources/<id>/source.json: the source's identity inside the repository, so a rebuild knows its name. */
import { join } from 'node:path';
import { ApiError } from '../errors.js';
import { writeFileDurable } from './durable-file.js';
import { readRepoFile } from './repo-file.js';
import type { Repository } from './repository.js';

export interface SourceFile {
  type: 'source';
  formatVersion: 1;
  sourceId: string;
  name: string;
  createdAt: string;
  /** Connection string without credentials, for display only. */
  uriRedacted: string | null;
  /** Created by importing a mongodump: no connection, nothing to capture. */
  imported?: boolean;
}

export async function writeSourceFile(
  repo: Repository,
  s: Omit<SourceFile, 'type' | 'formatVersion'>,
): Promise<SourceFile> {
  const body: SourceFile = { type: 'source', formatVersion: 1, ...s };
  await writeFileDurable(join(repo.sourceDir(s.sourceId), 'source.json'), [
    Buffer.from(`${JSON.stringify(body, null, 2)}\n`),
  ]);
  return body;
}

export async function readSourceFile(repo: Repository, sourceId: string): Promise<SourceFile | null> {
  try {
    const s = JSON.parse(
      (await readRepoFile(join(repo.sourceDir(sourceId), 'source.json'), 1 << 20)).toString('utf8'),
    ) as SourceFile;
    if (s.type !== 'source' || s.sourceId !== sourceId) throw new Error('bad');
    return s;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ApiError('CORRUPT', `sources/${sourceId}/source.json is damaged.`);
  }
}
