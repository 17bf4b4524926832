/** The desktop client: Electron's preload exposes `window.backup`; the main process dispatches. */
import type { ApiClient, PreloadBridge } from '../../../../engine/api/client';
import { ClientError } from './client-error';

export function createIpcClient(bridge: PreloadBridge): ApiClient {
  return {
    async invoke(name, input) {
      const res = await bridge.invoke(name, input);
      if (!res.ok) throw new ClientError(res.error);
      return res.result as never;
    },
    on(event, listener) {
      return bridge.onEvent((e) => {
        if (e.event === event) listener(e.payload as never);
      });
    },
    onConnectionChange(listener) {
      listener('connected');
      return () => {};
    },
  };
}
