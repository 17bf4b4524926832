/**
 * A query's documents written as JSON lines as its batches arrive: the first
 * answer's batch, then `query.more` until the cursor ends, each batch written
 * (and the pipe drained) before the next is asked for. A result of any size
 * goes through in the memory of one batch.
 */
import { dispatch } from '../api/dispatch.js';
import type { ApiErrorShape } from '../errors.js';
import type { Services } from '../services.js';

/** Documents per batch when the CLI reads on (mongod's getMore batches are larger than the first too). */
const CLI_BATCH = 1000;

function writeOut(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once('drain', resolve);
  });
}

const lineOf = (item: unknown) => `${typeof item === 'string' ? item : JSON.stringify(item)}\n`;

/** Writes the items of `field` of a first answer and of every batch after it; an error ends the run typed. */
export async function writeCursorLines(
  engine: Services,
  first: Record<string, unknown>,
  field: string,
): Promise<ApiErrorShape | null> {
  let answer = first;
  for (;;) {
    const items = (answer[field] as unknown[] | undefined) ?? [];
    if (items.length) await writeOut(items.map(lineOf).join(''));
    const cursorId = answer.cursorId;
    if (typeof cursorId !== 'string') return null;
    const res = await dispatch(engine, 'query.more', { cursorId, batchSize: CLI_BATCH });
    if (!res.ok) return res.error;
    answer = res.result as Record<string, unknown>;
  }
}
