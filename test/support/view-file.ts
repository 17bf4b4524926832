/**
 * A view file in a temporary directory, for tests of the query layer: collections loaded through
 * the sink a snapshot load uses, then indexed as a build does. `useViewFile` closes and removes
 * each test's file after it (call it at the top of a file or a describe).
 */
import { serialize, type Document } from 'bson';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { createViewFile, indexViewFile, viewWriter, type ViewDb } from '../../engine/catalog/view-store.js';
import { ViewSink } from '../../engine/views/view-sink.js';
import { tempDir } from './temp-dir.js';

export interface TestCollection {
  /** Documents in load order (raw BSON kept as it is). */
  docs?: readonly (Document | Uint8Array)[];
  /** Fields with an ascending single-field index of their own, beside `_id_`. */
  indexed?: readonly string[];
  /** A collection's options as listCollections gives them (a default collation…); none by default. */
  options?: Document;
  /** A MongoDB view instead of a collection (its options: a collation among them). */
  view?: { viewOn: string; pipeline: Document[]; collation?: Document };
}

const ID_INDEX = Buffer.from(serialize({ v: 2, key: { _id: 1 }, name: '_id_' }));

export function useViewFile(prefix: string): { build(colls: Record<string, TestCollection>): ViewDb } {
  let dir: ReturnType<typeof tempDir> | null = null;
  let db: ViewDb | null = null;
  afterEach(() => {
    db?.close();
    db = null;
    dir?.remove();
    dir = null;
  });
  return {
    /** `colls` by namespace (`db.coll`), created in this order. */
    build(colls) {
      // A second build in one test replaces the first (closed and removed).
      db?.close();
      dir?.remove();
      dir = tempDir(prefix);
      db = createViewFile(join(dir.path, 'v.sqlite'));
      const sink = new ViewSink(viewWriter(db));
      for (const [ns, c] of Object.entries(colls)) {
        if (c.view) {
          sink.addCollection(ns, 'view', Buffer.from(serialize(c.view)), []);
          continue;
        }
        const indexes = (c.indexed ?? []).map((f) =>
          Buffer.from(serialize({ v: 2, key: { [f]: 1 }, name: `${f}_1` })),
        );
        sink.addCollection(ns, 'collection', Buffer.from(serialize(c.options ?? {})), [ID_INDEX, ...indexes]);
        for (const d of c.docs ?? []) sink.loadDocument(ns, d instanceof Uint8Array ? d : serialize(d));
      }
      sink.flush();
      indexViewFile(db);
      return db;
    },
  };
}
