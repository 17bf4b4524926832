/** The headless server: static renderer + WebSocket API on 127.0.0.1, behind the access guard. */
import {
  STATUS_CODES,
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Engine } from '../engine.js';
import { AccessGuard, appPath, assetCookieHeader, newToken, requestUrl } from './access-guard.js';
import { serveStatic, securityHeaders } from './static-files.js';
import { attachWsClient } from './ws-transport.js';

export interface HeadlessServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export async function startHeadlessServer(
  engine: Engine,
  opts: { port: number; rendererDir: string; token?: string },
): Promise<HeadlessServer> {
  const guard = new AccessGuard(opts.token ?? newToken(), opts.port);
  let port = opts.port;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const verdict = guard.check(req, 'static');
    if (!verdict.ok) {
      res.writeHead(verdict.status, { 'Content-Type': 'text/plain', ...securityHeaders() });
      res.end(verdict.reason);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const url = requestUrl(req)!; // the guard refused what does not parse
    const app = appPath(port);
    if (url.pathname === '/') {
      // The printed URL: on to the page's own path, which the cookie is scoped to (access-guard.ts).
      res.writeHead(302, { ...securityHeaders(), Location: `${app}${url.search}` }).end();
      return;
    }
    if (!url.pathname.startsWith(app)) {
      res.writeHead(404, { 'Content-Type': 'text/plain', ...securityHeaders() }).end('Not found');
      return;
    }
    // The page is opened with ?token=…; later asset requests and reloads carry
    // a cookie that opens the static files only.
    if (url.searchParams.get('token')) res.setHeader('Set-Cookie', assetCookieHeader(guard.token, port));
    serveStatic(opts.rendererDir, url.pathname.slice(app.length - 1), res);
  };

  const server: Server = createServer((req, res) => {
    // A request can cost that request, never the process (capture runs in it).
    try {
      handle(req, res);
    } catch (err) {
      process.stderr.write(`[http] ${req.method} failed: ${String(err)}\n`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('Internal error');
    }
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const verdict = guard.check(req, 'api');
    const path = requestUrl(req)?.pathname;
    if (!verdict.ok || path !== '/api') {
      const status = verdict.ok ? 404 : verdict.status;
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attachWsClient(engine, ws));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  guard.setPort(port);

  return {
    port,
    token: guard.token,
    url: `http://127.0.0.1:${port}/?token=${guard.token}`,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
