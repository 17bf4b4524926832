/**
 * The point-in-time browser's state and every call it makes to the engine:
 * the source and point chosen, the view built for it (a task, followed by
 * the tasks slice), the databases and collections at that point, the query
 * of the namespace opened, its results and the rows selected, the history
 * of one document, and the export and selective restore of results.
 *
 * A point that changes while an answer is in flight drops that answer: what
 * the screen shows always belongs to the point it names.
 */
import { create } from 'zustand';
import type { CommandInput, CommandOutput } from '../../../../engine/api/contract';
import { engine, errorMessage } from '../../app/connection-store';
import { useTasks } from '../../app/tasks-store';
import { ClientError } from '../../app/client/client-error';
import { toRows, type ResultRow } from './documents';

export type CollectionsAnswer = CommandOutput<'collections.list'>;
export type HistoryAnswer = CommandOutput<'history.get'>;
export type ViewAnswer = CollectionsAnswer['view'];

/** An engine refusal as the screen shows it: its code beside its words. */
export interface TypedError {
  code: string | null;
  message: string;
}

function typed(err: unknown): TypedError {
  return { code: err instanceof ClientError ? err.code : null, message: errorMessage(err) };
}

/** What the query bar sends (already checked: undefined for an empty field). */
export interface QueryShape {
  filter?: string;
  projection?: string;
  sort?: string;
  /** Extended JSON collation; undefined: the collection's own (mongod's default). */
  collation?: string;
  /** At most this many documents in all; undefined: every match, a batch at a time. */
  limit?: number;
}

/** Documents per batch while exporting to a download (the engine's largest batch). */
const EXPORT_PAGE = 10_000;
/** Documents per batch of the table: the next is asked for as the table scrolls near the end. */
export const TABLE_BATCH = 100;

interface BrowseSlice {
  source: string | null;
  /**
   * The point as the API takes it (latest, ISO second, t:i). `latest` is pinned to the `t:i` of
   * the view that answered it first: every later call reads that same view, whatever capture
   * adds meanwhile (the tree's counts and the results agree), until the user moves to latest again.
   */
  at: string | null;
  /** The point as the user chose it (`latest` stays `latest` here once `at` is pinned). */
  asked: string | null;
  /** The view.build task for the current point. */
  buildTask: string | null;
  collections: CollectionsAnswer | null;
  loadingCollections: boolean;
  collectionsError: TypedError | null;
  ns: string | null;
  query: QueryShape | null;
  rows: ResultRow[] | null;
  more: boolean;
  /** The engine's cursor for the rest of the results (query.more), while more remain. */
  cursorId: string | null;
  loadingMore: boolean;
  view: ViewAnswer | null;
  plan: CommandOutput<'query.find'>['plan'] | null;
  running: boolean;
  queryError: TypedError | null;
  /** Rows selected, by index in `rows`. */
  selected: number[];
  /** The row whose history is shown. */
  historyRow: number | null;
  history: HistoryAnswer | null;
  historyError: TypedError | null;
  loadingHistory: boolean;
  exportTask: string | null;
  restoreTask: string | null;
  actionError: TypedError | null;

  /** Opens a source at a point: builds its view (a task) and lists its collections. */
  open(source: string, at: string, ns?: string | null): Promise<void>;
  reloadCollections(): Promise<void>;
  openNamespace(ns: string): void;
  run(query: QueryShape): Promise<void>;
  /** The next batch of the same query, through its cursor (a new cursor from where it was if that one ended). */
  loadMore(): Promise<void>;
  toggle(index: number): void;
  selectAll(on: boolean): void;
  showHistory(index: number): Promise<void>;
  closeHistory(): void;
  /** The documents to download: the selected rows, or every match of the query (canonical Extended JSON lines). */
  exportLines(which: 'selected' | 'all'): Promise<string[]>;
  /** query.export into a file on the engine's machine (a task). */
  exportToFile(which: 'selected' | 'all', out: string, format: 'jsonl' | 'bson'): Promise<void>;
  restore(
    which: 'selected' | 'all',
    targetUri: string,
    targetNs: string | null,
    password: string | null,
  ): Promise<void>;
}

/** The filter that picks the selected rows by _id (what both export and restore of a selection use). */
function selectionFilter(rows: ResultRow[], selected: number[]): string {
  const ids = selected.map((i) => rows[i]?.id).filter((id): id is string => id !== null && id !== undefined);
  if (ids.length === 0)
    throw new ClientError({ code: 'NO_SELECTION', message: 'Select rows that have an _id.' });
  return `{"_id": {"$in": [${ids.join(', ')}]}}`;
}

/** The input of a find for the table: the query bar's fields, a batch, and where to start. */
function findInput(source: string, at: string, ns: string, query: QueryShape, skip: number) {
  const input: CommandInput<'query.find'> = { source, at, ns, batchSize: TABLE_BATCH, skip };
  if (query.limit !== undefined) input.limit = query.limit;
  if (query.filter) input.filter = query.filter;
  if (query.projection) input.projection = query.projection;
  if (query.sort) input.sort = query.sort;
  if (query.collation) input.collation = query.collation;
  return input;
}

/** Lets the engine free a cursor the screen no longer reads (a new query, another namespace). */
function closeCursor(cursorId: string | null): void {
  if (cursorId)
    engine()
      .invoke('query.close', { cursorId })
      .catch(() => undefined);
}

const cleared = {
  ns: null,
  query: null,
  rows: null,
  more: false,
  cursorId: null,
  loadingMore: false,
  view: null,
  plan: null,
  queryError: null,
  selected: [],
  historyRow: null,
  history: null,
  historyError: null,
  exportTask: null,
  restoreTask: null,
  actionError: null,
};

export const useBrowse = create<BrowseSlice>((set, get) => ({
  source: null,
  at: null,
  asked: null,
  buildTask: null,
  collections: null,
  loadingCollections: false,
  collectionsError: null,
  running: false,
  loadingHistory: false,
  ...cleared,

  async open(source, at, ns = null) {
    closeCursor(get().cursorId);
    set({ source, at, asked: at, collections: null, collectionsError: null, buildTask: null, ...cleared });
    try {
      const { taskId } = await engine().invoke('view.build', { source, at });
      useTasks.getState().started(taskId, 'view.build');
      if (get().source === source && get().at === at) set({ buildTask: taskId });
    } catch (err) {
      if (get().source === source && get().at === at) set({ collectionsError: typed(err) });
      return;
    }
    // collections.list waits for (or shares) the view the task builds.
    await get().reloadCollections();
    if (ns && get().collections && get().source === source && get().asked === at) get().openNamespace(ns);
  },

  async reloadCollections() {
    const { source, at } = get();
    if (!source || !at) return;
    set({ loadingCollections: true });
    try {
      const collections = await engine().invoke('collections.list', { source, at });
      if (get().source === source && get().at === at)
        set({
          collections,
          collectionsError: null,
          loadingCollections: false,
          ...(at === 'latest' ? { at: collections.view.bound.text } : {}),
        });
    } catch (err) {
      if (get().source === source && get().at === at)
        set({ collectionsError: typed(err), loadingCollections: false });
    }
  },

  openNamespace(ns) {
    closeCursor(get().cursorId);
    set({ ...cleared, ns });
    void get().run({});
  },

  async run(query) {
    const { source, at, ns } = get();
    if (!source || !at || !ns) return;
    closeCursor(get().cursorId);
    set({
      query,
      running: true,
      queryError: null,
      selected: [],
      historyRow: null,
      history: null,
      cursorId: null,
      more: false,
    });
    try {
      const answer = await engine().invoke('query.find', findInput(source, at, ns, query, 0));
      if (get().query !== query) return closeCursor(answer.cursorId);
      set({
        rows: toRows(answer.documents),
        more: answer.more,
        cursorId: answer.cursorId,
        view: answer.view,
        plan: answer.plan,
        running: false,
      });
    } catch (err) {
      if (get().query === query) set({ rows: null, queryError: typed(err), running: false });
    }
  },

  async loadMore() {
    const { source, at, ns, query, rows, cursorId, more, loadingMore } = get();
    if (!source || !at || !ns || !query || !rows || !more || loadingMore) return;
    set({ loadingMore: true });
    try {
      let answer: { documents: string[]; more: boolean; cursorId: string | null };
      try {
        if (!cursorId) throw new ClientError({ code: 'NOT_FOUND', message: 'no cursor' });
        answer = await engine().invoke('query.more', { cursorId, batchSize: TABLE_BATCH });
      } catch (err) {
        // The cursor ended (timed out, its view evicted): read on from where the table is.
        if (!(err instanceof ClientError) || err.code !== 'NOT_FOUND') throw err;
        const left = query.limit === undefined ? undefined : query.limit - rows.length;
        answer = await engine().invoke(
          'query.find',
          findInput(source, at, ns, { ...query, limit: left }, rows.length),
        );
      }
      if (get().query !== query) return closeCursor(answer.cursorId);
      set({
        rows: [...rows, ...toRows(answer.documents)],
        more: answer.more,
        cursorId: answer.cursorId,
        loadingMore: false,
      });
    } catch (err) {
      if (get().query === query) set({ queryError: typed(err), loadingMore: false });
    }
  },

  toggle(index) {
    const selected = get().selected;
    set({ selected: selected.includes(index) ? selected.filter((i) => i !== index) : [...selected, index] });
  },

  selectAll(on) {
    set({ selected: on ? (get().rows ?? []).map((_, i) => i) : [] });
  },

  async showHistory(index) {
    const { source, ns, rows } = get();
    const id = rows?.[index]?.id;
    if (!source || !ns || !id) return;
    set({ historyRow: index, history: null, historyError: null, loadingHistory: true });
    try {
      const history = await engine().invoke('history.get', { source, ns, id });
      if (get().historyRow === index) set({ history, loadingHistory: false });
    } catch (err) {
      if (get().historyRow === index) set({ historyError: typed(err), loadingHistory: false });
    }
  },

  closeHistory() {
    set({ historyRow: null, history: null, historyError: null });
  },

  async exportLines(which) {
    const { source, at, ns, query, rows, selected } = get();
    if (!source || !at || !ns || !query || !rows) return [];
    const filter = which === 'selected' ? selectionFilter(rows, selected) : query.filter;
    const collation = which === 'selected' ? undefined : query.collation;
    const lines: string[] = [];
    let answer: { documents: string[]; cursorId: string | null } = await engine().invoke('query.find', {
      source,
      at,
      ns,
      canonical: true,
      batchSize: EXPORT_PAGE,
      skip: 0,
      ...(filter ? { filter } : {}),
      ...(collation ? { collation } : {}),
      ...(query.projection ? { projection: query.projection } : {}),
      ...(query.sort ? { sort: query.sort } : {}),
    });
    for (;;) {
      lines.push(...answer.documents);
      if (!answer.cursorId) return lines;
      answer = await engine().invoke('query.more', { cursorId: answer.cursorId, batchSize: EXPORT_PAGE });
    }
  },

  async exportToFile(which, out, format) {
    const { source, at, ns, query, rows, selected } = get();
    if (!source || !at || !ns || !query || !rows) return;
    set({ actionError: null });
    try {
      const filter = which === 'selected' ? selectionFilter(rows, selected) : query.filter;
      // A selection is by exact _id: the collection's own collation, not the query's.
      const collation = which === 'selected' ? undefined : query.collation;
      const { taskId } = await engine().invoke('query.export', {
        source,
        at,
        ns,
        out,
        format,
        canonical: true,
        skip: 0,
        ...(filter ? { filter } : {}),
        ...(collation ? { collation } : {}),
        ...(query.projection ? { projection: query.projection } : {}),
        ...(query.sort ? { sort: query.sort } : {}),
      });
      useTasks.getState().started(taskId, 'query.export');
      set({ exportTask: taskId });
    } catch (err) {
      set({ actionError: typed(err) });
      throw err;
    }
  },

  async restore(which, targetUri, targetNs, password) {
    const { source, at, ns, query, rows, selected } = get();
    if (!source || !at || !ns || !query || !rows) return;
    set({ actionError: null });
    try {
      const filter = which === 'selected' ? selectionFilter(rows, selected) : query.filter;
      const collation = which === 'selected' ? undefined : query.collation;
      const { taskId } = await engine().invoke('query.restore', {
        source,
        at,
        ns,
        targetUri,
        mode: 'upsert',
        ...(filter ? { filter } : {}),
        ...(collation ? { collation } : {}),
        ...(targetNs ? { targetNs } : {}),
        ...(password ? { password } : {}),
      });
      useTasks.getState().started(taskId, 'query.restore');
      set({ restoreTask: taskId });
    } catch (err) {
      set({ actionError: typed(err) });
      throw err;
    }
  },
}));
