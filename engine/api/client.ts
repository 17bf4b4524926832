/**
 * The one client interface the renderer (and tests) program against. Two
 * implementations exist: IPC through Electron's preload bridge, and a
 * WebSocket client for the headless mode. Types only: nothing here runs.
 */
import type { ApiErrorShape, ApiResult } from '../errors.js';
import type {
  CommandInput,
  CommandName,
  CommandOutput,
  EngineEvent,
  EventName,
  EventPayload,
} from './contract.js';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected';

export interface ApiClient {
  /** Resolves with the output, or rejects with an error carrying `code`, `message`, `details`. */
  invoke<K extends CommandName>(name: K, input: CommandInput<K>): Promise<CommandOutput<K>>;
  /** Subscribe to one event; returns the unsubscribe function. */
  on<K extends EventName>(event: K, listener: (payload: EventPayload<K>) => void): () => void;
  /** Connection to the engine (always 'connected' over IPC). */
  onConnectionChange(listener: (state: ConnectionState) => void): () => void;
}

/** What a path dialog chooses: an existing file, an existing directory, or a new file's name. */
export type PathPickKind = 'file' | 'directory' | 'save';

/** What Electron's preload exposes as `window.backup`: the raw, untyped bridge. */
export interface PreloadBridge {
  invoke(name: string, input: unknown): Promise<ApiResult<unknown>>;
  onEvent(listener: (event: EngineEvent) => void): () => void;
  /** The system's file dialog (desktop only): the chosen path, or null when cancelled. */
  pickPath?(kind: PathPickKind, title: string): Promise<string | null>;
  /** Saves text where the user chooses in the save dialog (desktop only): the path, or null when cancelled. */
  saveText?(fileName: string, content: string): Promise<string | null>;
}

/** Messages on the headless WebSocket. */
export type WsRequest = { id: number; command: string; input: unknown };
export type WsMessage =
  | ({ id: number } & ApiResult<unknown>)
  | { event: EventName; payload: unknown }
  | { hello: { version: string } };

export type { ApiErrorShape, ApiResult, EngineEvent };
