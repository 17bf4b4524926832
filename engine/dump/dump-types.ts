/** What the readers and writers of mongodump output exchange. */

/** mongodump's intent type: "" for a collection. */
export type DumpType = '' | 'view' | 'timeseries';

export interface DumpNamespace {
  db: string;
  collection: string;
  type: DumpType;
  /** The metadata JSON text (metadata.json, or the archive prelude's string); null when the dump has none. */
  metadata: string | null;
  /**
   * Whether documents follow for this namespace. A view has none; a
   * time-series collection's documents are its buckets (in a directory the
   * file is named after `system.buckets.<name>`, in an archive after the
   * collection itself).
   */
  hasData: boolean;
  /** Uncompressed bytes of its documents (the archive prelude's `size`). */
  size: number;
}

export interface DumpPrelude {
  serverVersion: string;
  toolVersion: string;
}

/** Receives the documents of one namespace (or of the oplog) in order. */
export interface DocumentSink {
  write(doc: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/**
 * A mongodump directory or archive being written. Namespaces are announced
 * first (the archive prelude lists them), then written one after another,
 * the oplog last. Nothing is visible under the final name until commit().
 */
export interface DumpWriter {
  begin(prelude: DumpPrelude, namespaces: readonly DumpNamespace[], withOplog: boolean): Promise<void>;
  collection(ns: DumpNamespace): Promise<DocumentSink>;
  oplog(): Promise<DocumentSink>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  /** Bytes written so far, before compression. */
  readonly bytes: number;
}

/** One item of a dump being read, in the order the dump holds them. */
export type DumpItem =
  { kind: 'document'; ns: DumpNamespace; doc: Uint8Array } | { kind: 'oplog'; doc: Uint8Array };

export interface DumpContents {
  format: 'directory' | 'archive';
  /** From prelude.json or the archive header; null for a directory without prelude.json. */
  prelude: DumpPrelude | null;
  namespaces: DumpNamespace[];
  hasOplog: boolean;
  /** When the dump was written (file time), for a dump without oplog. */
  writtenAt: Date;
  items(): AsyncGenerator<DumpItem>;
}

/** The archive's name for the oplog namespace (db "" and collection "oplog"), as mongodump writes it. */
export const ARCHIVE_OPLOG = { db: '', collection: 'oplog' } as const;
