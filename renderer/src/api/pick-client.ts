/** Chooses the client at start-up: IPC inside Electron, WebSocket in a browser. */
import type { ApiClient, PreloadBridge } from '../../../engine/api/client';
import { createIpcClient } from './ipc-client';
import { takeSessionToken } from './session-token';
import { createWsClient } from './ws-client';

declare global {
  interface Window {
    backup?: PreloadBridge;
  }
}

export function pickClient(): ApiClient {
  if (window.backup) return createIpcClient(window.backup);
  const token = takeSessionToken(window);
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createWsClient(`${proto}//${window.location.host}/api?token=${encodeURIComponent(token)}`);
}
