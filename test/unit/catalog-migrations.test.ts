import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../engine/errors.js';
import { LATEST_SCHEMA_VERSION, migrations } from '../../engine/catalog/migrations.js';
import { openCatalog } from '../../engine/catalog/open-catalog.js';
import { tempDir } from '../support/temp-dir.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => (dir = tempDir()));
afterEach(() => dir.remove());

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('catalog migrations', () => {
  it('numbers migrations strictly upwards from 1', () => {
    migrations.forEach((m, i) => expect(m.version).toBe(i + 1));
  });

  it('migrates an empty catalog to the latest schema in WAL mode', () => {
    const path = join(dir.path, 'catalog.sqlite');
    const { db, schemaVersion, applied } = openCatalog(path);
    expect(schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(applied).toEqual(migrations.map((m) => m.version));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const recorded = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    expect(recorded).toEqual(migrations.map((m) => ({ version: m.version, name: m.name })));
    db.close();
    const again = openCatalog(path);
    expect(again.applied).toEqual([]);
    again.db.close();
  });

  it('rolls back a failing migration and keeps the previous version', () => {
    const path = join(dir.path, 'catalog.sqlite');
    const broken = [
      ...migrations,
      { version: LATEST_SCHEMA_VERSION + 1, name: 'broken', sql: 'CREATE TABLE x(a); SELECT * FROM nope;' },
    ];
    expect(() => openCatalog(path, broken)).toThrow(/nope/);
    const { db, schemaVersion } = openCatalog(path);
    expect(schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'x'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuses a catalog written by a newer version without modifying it', () => {
    const path = join(dir.path, 'catalog.sqlite');
    openCatalog(path).db.close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 5}`);
    raw.pragma('wal_checkpoint(TRUNCATE)');
    raw.close();
    const before = sha(path);
    let caught: unknown;
    try {
      openCatalog(path);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).code).toBe('CATALOG_TOO_NEW');
    expect((caught as ApiError).message).toMatch(/newer version/);
    expect(sha(path)).toBe(before);
  });
});
