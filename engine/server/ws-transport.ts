/**
 * The WebSocket door: `{id, command, input}` in, `{id, ok, result|error}`
 * out, and every engine event pushed as `{event, payload}`.
 */
import type { WebSocket } from 'ws';
import { dispatch } from '../api/dispatch.js';
import type { WsMessage, WsRequest } from '../api/client.js';
import type { Engine } from '../engine.js';
import { APP_VERSION } from '../version.js';

const MAX_MESSAGE_BYTES = 1 << 20;

function send(ws: WebSocket, msg: WsMessage): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
}

function parseRequest(data: string): WsRequest | null {
  try {
    const v = JSON.parse(data) as Partial<WsRequest>;
    if (typeof v.id !== 'number' || typeof v.command !== 'string') return null;
    return { id: v.id, command: v.command, input: v.input };
  } catch {
    return null;
  }
}

/** Each connection is one client: what it leaves open (query cursors) ends when it closes. */
let connections = 0;

export function attachWsClient(engine: Engine, ws: WebSocket): void {
  send(ws, { hello: { version: APP_VERSION } });
  const unsubscribe = engine.events.subscribe((e) => send(ws, e));
  const call = { client: `ws-${++connections}` };
  ws.on('close', unsubscribe);
  ws.on('close', () => engine.views.cursors.closeClient(call.client));
  // ws reports a frame it refuses (over maxPayload: 1009, invalid UTF-8: 1007) as an 'error' and
  // closes that socket itself; without a listener the error would be thrown and stop the process.
  ws.on('error', (err) => process.stderr.write(`[ws] client dropped: ${err.message}\n`));
  ws.on('message', (raw, isBinary) => {
    const text = isBinary ? '' : raw.toString();
    if (text.length > MAX_MESSAGE_BYTES) return ws.close(1009, 'message too large');
    const req = parseRequest(text);
    if (!req) {
      send(ws, {
        id: -1,
        ok: false,
        error: { code: 'INVALID_INPUT', message: 'Malformed request: expected {id, command, input}.' },
      });
      return;
    }
    void dispatch(engine, req.command, req.input, call).then((res) => send(ws, { id: req.id, ...res }));
  });
}
