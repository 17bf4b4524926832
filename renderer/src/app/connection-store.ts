/**
 * The connection to the engine: which client (IPC or WebSocket), whether it
 * is up, what the engine says about itself, and the last error that belongs
 * to no screen. Feature slices reach the engine through `engine()`.
 */
import { create } from 'zustand';
import type { ApiClient, ConnectionState } from '../../../engine/api/client';
import type { CommandOutput } from '../../../engine/api/contract';
import { ClientError } from './client/client-error';

export type AppInfo = CommandOutput<'app.info'>;

interface ConnectionSlice {
  client: ApiClient | null;
  connection: ConnectionState;
  info: AppInfo | null;
  /** A failure of background work (a refresh) that no screen is waiting for. */
  lastError: string | null;
  setClient(client: ApiClient): void;
  setConnection(connection: ConnectionState): void;
  loadInfo(): Promise<void>;
  reportError(err: unknown): void;
}

export const useConnection = create<ConnectionSlice>((set) => ({
  client: null,
  connection: 'connecting',
  info: null,
  lastError: null,
  setClient: (client) => set({ client }),
  setConnection: (connection) => set({ connection }),
  async loadInfo() {
    try {
      set({ info: await engine().invoke('app.info', {}), lastError: null });
    } catch (err) {
      set({ lastError: errorMessage(err) });
    }
  },
  reportError: (err) => set({ lastError: errorMessage(err) }),
}));

/** The client, or a typed error when the window has none yet. */
export function engine(): ApiClient {
  const { client } = useConnection.getState();
  if (!client) throw new ClientError({ code: 'UNAVAILABLE', message: 'Not connected to the engine.' });
  return client;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
