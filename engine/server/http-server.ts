/** The headless server: static renderer + WebSocket API on 127.0.0.1, behind the access guard. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Engine } from '../engine.js';
import { AccessGuard, TOKEN_COOKIE, newToken } from './access-guard.js';
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
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });

  const server: Server = createServer((req, res) => {
    const verdict = guard.check(req);
    if (!verdict.ok) {
      res.writeHead(verdict.status, { 'Content-Type': 'text/plain', ...securityHeaders() });
      res.end(verdict.reason);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // The page is opened with ?token=…; later asset requests and reloads carry
    // the token in a same-site, HttpOnly cookie scoped to this server.
    if (url.searchParams.get('token')) {
      res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${guard.token}; HttpOnly; SameSite=Strict; Path=/`);
    }
    serveStatic(opts.rendererDir, url.pathname, res);
  });

  server.on('upgrade', (req, socket, head) => {
    const verdict = guard.check(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!verdict.ok || url.pathname !== '/api') {
      const status = verdict.ok ? 404 : verdict.status;
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'}\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attachWsClient(engine, ws));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
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
