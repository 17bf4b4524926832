import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
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

  it("sends the printed URL on to the page under this server's own path, with a strict CSP and a cookie", async () => {
    const first = await get(`/?token=${server.token}`);
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe(`/mbm-${server.port}/?token=${server.token}`);
    const res = await get(`/mbm-${server.port}/?token=${server.token}`);
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

  it('sets a port-named cookie that opens the static files only, never the API', async () => {
    const app = `/mbm-${server.port}/`;
    const setCookie = String((await get(`${app}?token=${server.token}`)).headers['set-cookie']);
    const m = /^([^=]+)=([^;]+);(.*)$/.exec(setCookie)!;
    const [name, value, attrs] = [m[1]!, m[2]!, m[3]!];
    expect(name).toBe(`mbm_assets_${server.port}`);
    expect(attrs).toMatch(/HttpOnly/);
    expect(attrs).toMatch(/SameSite=Strict/);
    // Browsers scope cookies by host and path, not port: the path is this server's own, so requests
    // to another service on 127.0.0.1 do not carry it, and what it carries is not the token anyway.
    expect(attrs).toMatch(new RegExp(`Path=${app}(;|$)`));
    expect(value).not.toContain(server.token);
    const cookie = `${name}=${value}`;
    const page = await get(`${app}index.html`, { Cookie: cookie, Origin: `http://localhost:${server.port}` });
    expect(page.status).toBe(200);
    expect((await get(app, { Cookie: cookie })).body).toContain('<title>ok</title>'); // a reload
    expect(await wsStatus(openWs('', { Cookie: cookie }))).toBe(401);
    expect(await wsStatus(openWs(`?token=${value}`))).toBe(401);
    // The same value under another port's name is not ours.
    expect((await get(`${app}index.html`, { Cookie: `mbm_assets_${server.port + 1}=${value}` })).status).toBe(
      401,
    );
  });

  it('never serves files outside the renderer directory', async () => {
    for (const path of [`/mbm-${server.port}/..%2Fsecret.txt`, '/..%2Fsecret.txt', '/secret.txt']) {
      const res = await get(`${path}?token=${server.token}`);
      expect(res.status, path).toBe(404);
      expect(res.body).not.toContain('outside');
    }
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

/** Sends raw bytes on a new TCP connection and returns whatever the server answers before closing. */
function raw(bytes: string, waitMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(server.port, '127.0.0.1');
    let out = '';
    const done = () => {
      sock.destroy();
      resolve(out);
    };
    const timer = setTimeout(done, waitMs);
    sock.on('data', (d: Buffer) => (out += d.toString('latin1')));
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    sock.on('error', () => undefined);
    sock.write(bytes);
  });
}

/** `app.info` over a brand-new WebSocket: the proof that the process is still serving. */
async function appInfoAnswers(): Promise<boolean> {
  const ws = openWs(`?token=${server.token}`);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const reply = new Promise<WsMessage>((resolve) =>
      ws.on('message', (d: Buffer) => {
        const m = JSON.parse(d.toString()) as WsMessage;
        if ('id' in m && m.id === 7) resolve(m);
      }),
    );
    ws.send(JSON.stringify({ id: 7, command: 'app.info', input: {} }));
    const m = await reply;
    return 'ok' in m && m.ok;
  } finally {
    ws.close();
  }
}

describe('requests that must not stop the server', () => {
  const host = () => `Host: 127.0.0.1:${server.port}\r\n`;
  const upgrade =
    'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

  it('GET //[ without a token (an unparsable URL) is answered 400', async () => {
    const answer = await raw(`GET //[ HTTP/1.1\r\n${host()}Connection: close\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(await appInfoAnswers()).toBe(true);
  });

  it('the same URL as a WebSocket upgrade is answered 400', async () => {
    const answer = await raw(`GET //[ HTTP/1.1\r\n${host()}${upgrade}\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(await appInfoAnswers()).toBe(true);
  });

  it('GET /%zz with the token (a malformed escape) is answered 400', async () => {
    for (const path of ['/%zz', `/mbm-${server.port}/%zz`]) {
      const answer = await raw(
        `GET ${path}?token=${server.token} HTTP/1.1\r\n${host()}Connection: close\r\n\r\n`,
      );
      expect(answer, path).toMatch(path === '/%zz' ? /^HTTP\/1\.1 404 / : /^HTTP\/1\.1 400 /);
    }
    expect(await appInfoAnswers()).toBe(true);
  });

  it('a WebSocket message over 1 MiB closes that socket with 1009 only', async () => {
    const ws = openWs(`?token=${server.token}`);
    ws.on('error', () => undefined);
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send('x'.repeat((1 << 20) + 1024));
    expect(await closed).toBe(1009);
    expect(await appInfoAnswers()).toBe(true);
  });

  it('a text frame with invalid UTF-8 closes that socket with 1007 only', async () => {
    const ws = openWs(`?token=${server.token}`);
    ws.on('error', () => undefined);
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await closed).toBe(1007);
    expect(await appInfoAnswers()).toBe(true);
  });
});
