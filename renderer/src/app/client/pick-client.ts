/** Chooses the client at start-up: IPC inside Electron, WebSocket in a browser. */
import type { ApiClient, PreloadBridge } from '../../../../engine/api/client';
import { createIpcClient } from './ipc-client';
import { createWsClient } from './ws-client';

declare global {
  interface Window {
    backup?: PreloadBridge;
  }
}

const TOKEN_KEY = 'mbm.token';

export function pickClient(): ApiClient {
  if (window.backup) return createIpcClient(window.backup);
  const fromUrl = new URLSearchParams(window.location.search).get('token');
  if (fromUrl) sessionStorage.setItem(TOKEN_KEY, fromUrl);
  const token = fromUrl ?? sessionStorage.getItem(TOKEN_KEY) ?? '';
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createWsClient(`${proto}//${window.location.host}/api?token=${encodeURIComponent(token)}`);
}
