/**
 * Open query cursors on point-in-time views, as mongod keeps cursors: the
 * first answer of a find or aggregate carries a batch and a cursor id while
 * documents remain; `query.more` returns the next batch, `query.close`
 * closes it. A cursor holds its lazy source (query.ts reads the view a page
 * at a time) and one document read ahead to tell whether more remain,
 * never a result: the engine holds at most one batch per call.
 *
 * A cursor belongs to the client that opened it (a WebSocket connection,
 * the app window, a CLI run); another client's id is unknown to it. It is
 * closed after `timeoutMs` unused (mongod's cursorTimeoutMillis, 10
 * minutes), when its view is dropped, evicted or found damaged, and when
 * its client goes. A client holds at most `perClient` open cursors; one
 * more is refused until one is closed.
 */
import { randomBytes } from 'node:crypto';
import { ApiError } from '../errors.js';

export interface CursorLimits {
  timeoutMs: number;
  perClient: number;
  /** A batch stops growing once its text reaches this size (mongod: 16 MiB per reply). */
  batchBytes: number;
}

export const CURSOR_DEFAULTS: CursorLimits = {
  timeoutMs: 10 * 60_000,
  perClient: 32,
  batchBytes: 16 * 1024 * 1024,
};

export type CursorEnd = 'expired' | 'closed' | 'view removed' | 'failed';

interface OpenCursor {
  id: string;
  client: string;
  viewId: number;
  ns: string;
  docs: Iterator<string>;
  /** The document read ahead (what tells `more`), not yet sent. */
  ahead: IteratorResult<string>;
  lastUsed: number;
}

export interface Batch {
  documents: string[];
  more: boolean;
  cursorId: string | null;
}

/** How many ended cursor ids are remembered, to answer "expired" rather than "unknown". */
const REMEMBER_ENDED = 1000;

export class QueryCursors {
  private readonly open = new Map<string, OpenCursor>();
  private readonly ended = new Map<string, CursorEnd>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly limits: CursorLimits = CURSOR_DEFAULTS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The first batch of `docs`; a cursor is kept only while documents remain. */
  start(client: string, viewId: number, ns: string, docs: Iterator<string>, batchSize: number): Batch {
    this.sweep();
    const mine = [...this.open.values()].filter((c) => c.client === client).length;
    if (mine >= this.limits.perClient)
      throw new ApiError(
        'CONFLICT',
        `This client already has ${mine} open query cursors (at most ${this.limits.perClient}): close one (query.close) or read it to the end.`,
        { reason: 'too-many-cursors', limit: this.limits.perClient },
      );
    const c: OpenCursor = {
      id: randomBytes(8).toString('hex'),
      client,
      viewId,
      ns,
      docs,
      ahead: { done: false, value: '' },
      lastUsed: this.now(),
    };
    c.ahead = this.read(c);
    const batch = this.take(c, batchSize);
    if (batch.more) {
      this.open.set(c.id, c);
      this.arm();
    }
    return { ...batch, cursorId: batch.more ? c.id : null };
  }

  /** The next batch of an open cursor (getMore). */
  more(client: string, cursorId: string, batchSize: number): Batch & { ns: string } {
    this.sweep();
    const c = this.cursor(client, cursorId);
    c.lastUsed = this.now();
    const batch = this.take(c, batchSize);
    if (!batch.more) this.end(c, 'closed');
    return { ...batch, cursorId: batch.more ? c.id : null, ns: c.ns };
  }

  /** killCursors: whether the cursor was open (an ended or unknown one is no error). */
  close(client: string, cursorId: string): boolean {
    const c = this.open.get(cursorId);
    if (!c || c.client !== client) return false;
    this.end(c, 'closed');
    return true;
  }

  /** A view dropped, evicted or found damaged: its cursors end. */
  closeView(viewId: number): void {
    for (const c of [...this.open.values()]) if (c.viewId === viewId) this.end(c, 'view removed');
  }

  /** A client gone (a WebSocket closed): its cursors end. */
  closeClient(client: string): void {
    for (const c of [...this.open.values()]) if (c.client === client) this.end(c, 'closed');
  }

  closeAll(): void {
    for (const c of [...this.open.values()]) this.end(c, 'closed');
  }

  /** Open cursors reading a view (a move in place waits for none). */
  countView(viewId: number): number {
    let n = 0;
    for (const c of this.open.values()) if (c.viewId === viewId) n++;
    return n;
  }

  /** Open cursors (of one client, or all). */
  count(client?: string): number {
    return [...this.open.values()].filter((c) => client === undefined || c.client === client).length;
  }

  private cursor(client: string, cursorId: string): OpenCursor {
    const c = this.open.get(cursorId);
    if (c && c.client === client) return c;
    const how = c ? undefined : this.ended.get(cursorId);
    throw new ApiError(
      'NOT_FOUND',
      how
        ? `Cursor ${cursorId} is ${how === 'expired' ? `expired (unused for ${Math.round(this.limits.timeoutMs / 1000)} s)` : how === 'view removed' ? 'closed: its view was dropped or evicted' : 'closed'}; run the query again.`
        : `No cursor ${cursorId}; run the query again.`,
      { cursorId, reason: how ?? 'unknown' },
    );
  }

  /** Up to `batchSize` documents or `batchBytes` of text (at least one), and one read ahead. */
  private take(c: OpenCursor, batchSize: number): Omit<Batch, 'cursorId'> {
    const documents: string[] = [];
    let bytes = 0;
    while (
      !c.ahead.done &&
      documents.length < batchSize &&
      (bytes < this.limits.batchBytes || !documents.length)
    ) {
      documents.push(c.ahead.value);
      bytes += c.ahead.value.length;
      c.ahead = this.read(c);
    }
    return { documents, more: !c.ahead.done };
  }

  private read(c: OpenCursor): IteratorResult<string> {
    try {
      return c.docs.next();
    } catch (err) {
      this.end(c, 'failed');
      throw err;
    }
  }

  private end(c: OpenCursor, how: CursorEnd): void {
    if (this.open.delete(c.id) || how === 'failed') {
      try {
        c.docs.return?.(undefined);
      } catch {
        // a source that failed cannot be closed twice
      }
    }
    this.ended.set(c.id, how);
    if (this.ended.size > REMEMBER_ENDED) this.ended.delete(this.ended.keys().next().value!);
    if (this.open.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private sweep(): void {
    const cutoff = this.now() - this.limits.timeoutMs;
    for (const c of [...this.open.values()]) if (c.lastUsed < cutoff) this.end(c, 'expired');
  }

  /** Idle cursors are let go even when nobody asks again (the sweep runs beside the calls). */
  private arm(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sweep(), Math.min(60_000, this.limits.timeoutMs));
    this.timer.unref();
  }
}
