import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { WsMessage } from '../../engine/api/client.js';
import { Engine } from '../../engine/engine.js';
import { startHeadlessServer, type HeadlessServer } from '../../engine/server/http-server.js';
import { tempDir } from '../support/temp-dir.js';

let dir: ReturnType<typeof tempDir>;
let engine: Engine;
let server: HeadlessServer;

beforeAll(async () => {
  dir = tempDir();
  const rendererDir = join(dir.path, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>ok</title>');
  writeFileSync(join(dir.path, 'secret.txt'), 'outside the renderer');
  engine = Engine.open({ dataDir: join(dir.path, 'data'), mode: 'headless' });
  server = await startHeadlessServer(engine, { port: 0, rendererDir });
});
afterAll(async () => {
  await server.close();
  await engine.close();
  dir.remove();
});

function get(path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path, headers }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

function openWs(query: string, headers: Record<string, string> = {}) {
  return new WebSocket(`ws://127.0.0.1:${server.port}/api${query}`, { headers });
}

function wsStatus(ws: WebSocket): Promise<number | 'open'> {
  return new Promise((resolve) => {
    ws.on('open', () => resolve('open'));
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => {});
  });
}

describe('headless server access rules', () => {
  it('prints a loopback URL with a random token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
  });

  it('serves the page with the token, with a strict CSP and a token cookie', async () => {
    const res = await get(`/?token=${server.token}`);
    expect(res.status).toBe(200);
    expect(res.body).toContain('<title>ok</title>');
    expect(String(res.headers['content-security-policy'])).toContain("default-src 'none'");
    expect(String(res.headers['set-cookie'])).toContain('HttpOnly');
  });

  it('answers 401 without the token or with a wrong one', async () => {
    expect((await get('/')).status).toBe(401);
    expect((await get('/?token=wrong')).status).toBe(401);
    expect(await wsStatus(openWs(''))).toBe(401);
  });

  it('answers 403 to a foreign Origin or Host, even with the token', async () => {
    const q = `/?token=${server.token}`;
    expect((await get(q, { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await get(q, { Host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await get(q, { Host: `127.0.0.1:${server.port + 1}` })).status).toBe(403);
    expect(await wsStatus(openWs(`?token=${server.token}`, { Origin: 'http://evil.example' }))).toBe(403);
  });

  it('accepts the cookie and a loopback Origin', async () => {
    const cookie = `mbm_token=${server.token}`;
    const res = await get('/index.html', { Cookie: cookie, Origin: `http://localhost:${server.port}` });
    expect(res.status).toBe(200);
  });

  it('never serves files outside the renderer directory', async () => {
    const res = await get(`/..%2Fsecret.txt?token=${server.token}`);
    expect(res.status).toBe(404);
    expect(res.body).not.toContain('outside');
  });
});

describe('WebSocket door', () => {
  it('runs commands, returns typed errors and pushes events', async () => {
    const ws = openWs(`?token=${server.token}`, { Origin: `http://127.0.0.1:${server.port}` });
    const messages: WsMessage[] = [];
    const waitFor = (pred: (m: WsMessage) => boolean) =>
      new Promise<WsMessage>((resolve) => {
        const found = messages.find(pred);
        if (found) return resolve(found);
        ws.on('message', function onMsg() {
          const m = messages.find(pred);
          if (m) {
            ws.off('message', onMsg);
            resolve(m);
          }
        });
      });
    ws.on('message', (d: Buffer) => messages.push(JSON.parse(d.toString()) as WsMessage));
    await new Promise((r) => ws.on('open', r));

    ws.send(JSON.stringify({ id: 1, command: 'app.info', input: {} }));
    expect(await waitFor((m) => 'id' in m && m.id === 1)).toMatchObject({
      ok: true,
      result: { mode: 'headless' },
    });

    ws.send(JSON.stringify({ id: 2, command: 'settings.set', input: { theme: 'blue' } }));
    expect(await waitFor((m) => 'id' in m && m.id === 2)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });

    ws.send('not json');
    expect(await waitFor((m) => 'id' in m && m.id === -1)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });

    ws.send(JSON.stringify({ id: 3, command: 'settings.set', input: { theme: 'light' } }));
    expect(await waitFor((m) => 'event' in m && m.event === 'settings.changed')).toMatchObject({
      payload: { theme: 'light' },
    });
    ws.close();
  });
});
