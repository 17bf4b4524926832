/**
 * What an end-to-end spec prints when one of its tests fails, so that a
 * failure seen only on CI can be understood from CI's output alone: the
 * engine's own view (tasks, alerts, sources, each source's status, asked
 * over a fresh WebSocket with a short timeout, so a stuck engine shows as
 * such), the end of the server's output, and the text the page showed.
 */
import { test, type Page } from '@playwright/test';
import { WebSocket } from 'ws';
import type { ServeProcess } from './serve-process.js';

const ASK_MS = 5_000;
const PAGE_TEXT_KEEP = 4_000;
const LOG_TAIL = 8_000;

/** Calls commands over one WebSocket; an answer not given within ASK_MS is reported as such. */
async function ask(serve: ServeProcess, commands: [string, unknown][]): Promise<Record<string, unknown>> {
  const ws = new WebSocket(`${serve.origin.replace('http:', 'ws:')}/api?token=${serve.token}`, {
    headers: { Origin: serve.origin },
  });
  const answers: Record<string, unknown> = {};
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no WebSocket within ${ASK_MS} ms`)), ASK_MS);
      ws.once('open', () => (clearTimeout(timer), resolve()));
      ws.once('error', (e) => (clearTimeout(timer), reject(e)));
    });
    const waiting = new Map<number, string>();
    commands.forEach(([name], i) => waiting.set(i + 1, name));
    const done = new Promise<void>((resolve) => {
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { id?: number };
        const name = m.id === undefined ? undefined : waiting.get(m.id);
        if (!name) return;
        answers[name] = m;
        waiting.delete(m.id!);
        if (waiting.size === 0) resolve();
      });
      setTimeout(resolve, ASK_MS);
    });
    commands.forEach(([command, input], i) => ws.send(JSON.stringify({ id: i + 1, command, input })));
    await done;
    for (const name of waiting.values()) answers[name] = `no answer within ${ASK_MS} ms`;
  } catch (err) {
    answers.connection = (err as Error).message;
  } finally {
    ws.terminate();
  }
  return answers;
}

/** The engine's state, the server's output and the page's text, as one block of text. */
export async function failureReport(serve: ServeProcess, page: Page | null): Promise<string> {
  const first = await ask(serve, [
    ['source.list', {}],
    ['task.list', {}],
    ['alert.list', {}],
  ]);
  const list = first['source.list'] as { ok?: boolean; result?: { name: string }[] } | undefined;
  const names = list?.ok ? (list.result ?? []).map((s) => s.name) : [];
  const statuses = names.length
    ? await ask(
        serve,
        names.map((n) => ['source.status', { source: n }]),
      )
    : {};
  const text = page
    ? await page
        .locator('body')
        .innerText({ timeout: ASK_MS })
        .catch((e: Error) => `(page text unreadable: ${e.message})`)
    : '(no page)';
  return [
    '----- engine state -----',
    JSON.stringify({ ...first, statuses }, null, 1),
    '----- server output (end) -----',
    serve.log().slice(-LOG_TAIL) || '(nothing printed)',
    '----- page text -----',
    text.slice(0, PAGE_TEXT_KEEP),
  ].join('\n');
}

/** Prints failureReport() after each failing test of the calling spec file (its server given late, from beforeAll). */
export function reportFailures(serve: () => ServeProcess | undefined): void {
  test.afterEach(async ({ page }, info) => {
    const s = serve();
    if (!s || info.status === info.expectedStatus) return;
    console.error(
      `\n[${info.title}] failed; what the engine and the page showed:\n${await failureReport(s, page)}\n`,
    );
  });
}
