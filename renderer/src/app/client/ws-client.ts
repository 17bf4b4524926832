/**
 * The browser client for the headless mode: one WebSocket to /api, requests
 * matched by id, events fanned out, and automatic reconnection (with
 * back-off) after the server restarts.
 */
import type { ApiClient, ConnectionState, EngineEvent, WsMessage } from '../../../../engine/api/client';
import { ClientError } from './client-error';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export function createWsClient(url: string): ApiClient {
  let ws: WebSocket | null = null;
  let state: ConnectionState = 'connecting';
  let nextId = 1;
  let retryMs = 250;
  const pending = new Map<number, Pending>();
  const queue: string[] = [];
  const eventListeners = new Set<(e: EngineEvent) => void>();
  const stateListeners = new Set<(s: ConnectionState) => void>();

  const setState = (s: ConnectionState): void => {
    state = s;
    for (const l of stateListeners) l(s);
  };

  const connect = (): void => {
    setState('connecting');
    const sock = new WebSocket(url);
    ws = sock;
    sock.onopen = () => {
      retryMs = 250;
      setState('connected');
      for (const m of queue.splice(0)) sock.send(m);
    };
    sock.onmessage = (ev: MessageEvent<string>) => {
      const msg = JSON.parse(ev.data) as WsMessage;
      if ('event' in msg) {
        for (const l of eventListeners) l(msg as EngineEvent);
      } else if ('id' in msg) {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new ClientError(msg.error));
      }
    };
    sock.onclose = () => {
      ws = null;
      for (const p of pending.values()) {
        p.reject(new ClientError({ code: 'UNAVAILABLE', message: 'Connection to the engine was lost.' }));
      }
      pending.clear();
      setState('disconnected');
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 4000);
    };
  };
  connect();

  return {
    invoke(name, input) {
      const id = nextId++;
      const text = JSON.stringify({ id, command: name, input });
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        if (ws && state === 'connected') ws.send(text);
        else queue.push(text);
      });
    },
    on(event, listener) {
      const l = (e: EngineEvent): void => {
        if (e.event === event) listener(e.payload as never);
      };
      eventListeners.add(l);
      return () => eventListeners.delete(l);
    },
    onConnectionChange(listener) {
      stateListeners.add(listener);
      listener(state);
      return () => stateListeners.delete(listener);
    },
  };
}
