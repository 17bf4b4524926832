/**
 * How a view file is written while it is built (catalog/view-store.ts): no
 * rollback journal (the build is deleted on failure, never rolled back), on
 * a new file and on the copy of an earlier view that is moved forward; the
 * index step alone keeps one, so that a snapshot holding one `_id` twice
 * still gives a sound file.
 */
import { serialize, type Document } from 'bson';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createViewFile,
  indexViewFile,
  iterateDocs,
  listCollectionRows,
  openViewForWrite,
  viewWriter,
  type ViewDb,
} from '../../engine/catalog/view-store.js';
import { ViewSink } from '../../engine/views/view-sink.js';
import { tempDir } from '../support/temp-dir.js';

const dirs: ReturnType<typeof tempDir>[] = [];
const dbs: ViewDb[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const d of dirs.splice(0)) d.remove();
});

const b = (d: Document) => Buffer.from(serialize(d));
const IDX = [b({ v: 2, key: { _id: 1 }, name: '_id_' }), b({ v: 2, key: { grp: 1 }, name: 'grp_1' })];
const journal = (db: ViewDb) => db.pragma('journal_mode', { simple: true });

function loaded(docs: Document[]): { db: ViewDb; file: string; dir: string } {
  const dir = tempDir('mbm-view-file-');
  dirs.push(dir);
  const file = join(dir.path, 'v.sqlite');
  const db = createViewFile(file);
  dbs.push(db);
  const sink = new ViewSink(viewWriter(db));
  sink.addCollection('t.c', 'collection', b({}), IDX);
  for (const d of docs) sink.loadDocument('t.c', b(d));
  sink.flush();
  return { db, file, dir: dir.path };
}

describe('view files while they are built', () => {
  it('a new file is written without a rollback journal, before and after its indexes are built', () => {
    const { db, file } = loaded([{ _id: 1, grp: 'a' }]);
    expect(journal(db)).toBe('off');
    indexViewFile(db);
    expect(journal(db)).toBe('off');
    const sink = new ViewSink(viewWriter(db));
    sink.apply({ op: 'insert', ns: 't.c', doc: b({ _id: 2, grp: 'b' }), ts: { t: 1, i: 1 } });
    sink.flush();
    expect(existsSync(`${file}-journal`)).toBe(false);
    db.close();
    expect(existsSync(`${file}-journal`)).toBe(false);
  });

  it('the copy of a ready view that is moved forward is written without a rollback journal too', () => {
    const { db, file, dir } = loaded([{ _id: 1, grp: 'a' }]);
    indexViewFile(db);
    db.close();
    const copy = join(dir, 'copy.sqlite');
    copyFileSync(file, copy);
    const w = openViewForWrite(copy);
    dbs.push(w);
    expect(journal(w)).toBe('off');
    const sink = new ViewSink(viewWriter(w));
    for (let k = 0; k < 100; k++)
      sink.apply({ op: 'insert', ns: 't.c', doc: b({ _id: 10 + k, grp: `g${k}` }), ts: { t: 1, i: k + 1 } });
    sink.apply({ op: 'delete', ns: 't.c', o: b({ _id: 1 }), ts: { t: 2, i: 1 } });
    sink.flush();
    expect(existsSync(`${copy}-journal`)).toBe(false);
    expect(w.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('a snapshot holding one _id twice is indexed keeping the later copy, and the file stays sound', () => {
    const { db } = loaded([
      { _id: 1, grp: 'old' },
      { _id: 2, grp: 'b' },
      { _id: 1, grp: 'new' },
    ]);
    indexViewFile(db);
    expect(journal(db)).toBe('off');
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const cid = listCollectionRows(db)[0]!.cid;
    expect([...iterateDocs(db, cid)].map((r) => r.doc.toString('hex'))).toEqual([
      b({ _id: 2, grp: 'b' }).toString('hex'),
      b({ _id: 1, grp: 'new' }).toString('hex'),
    ]);
    const keys = db.prepare('SELECT key FROM keys ORDER BY key').pluck().all() as Buffer[];
    expect(keys).toHaveLength(2);
  });
});
