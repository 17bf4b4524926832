/**
 * The only bridge between the sandboxed renderer and the main process. It
 * exposes `window.backup` with two capabilities: invoke a contract command
 * and subscribe to engine events, plus the system's file dialog (a path the
 * user chose, nothing read). Sandboxed preloads must be CommonJS and may
 * only require 'electron', so this file stays generic: the main process
 * validates every input against the contract.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

const EVENT = 'api:event';
const PATH_DIALOG = 'dialog:pickPath';
const SAVE_TEXT = 'dialog:saveText';
const COMMAND_NAME = /^[a-z]+(\.[a-zA-Z]+)+$/;

/** Each contract command has its own channel `api:<name>`, registered by the main process. */
async function invokeCommand(name: string, input: unknown): Promise<unknown> {
  if (!COMMAND_NAME.test(name)) {
    return { ok: false, error: { code: 'NOT_FOUND', message: `Unknown command: ${name}.` } };
  }
  try {
    return await ipcRenderer.invoke(`api:${name}`, input);
  } catch {
    // No handler registered for that channel: not a command of the contract.
    return { ok: false, error: { code: 'NOT_FOUND', message: `Unknown command: ${name}.` } };
  }
}

contextBridge.exposeInMainWorld('backup', {
  invoke: (name: string, input: unknown): Promise<unknown> => invokeCommand(String(name), input),
  pickPath: (kind: string, title: string): Promise<unknown> =>
    ipcRenderer.invoke(PATH_DIALOG, { kind: String(kind), title: String(title) }),
  saveText: (fileName: string, content: string): Promise<unknown> =>
    ipcRenderer.invoke(SAVE_TEXT, { fileName: String(fileName), content: String(content) }),
  onEvent: (listener: (event: unknown) => void): (() => void) => {
    const wrapped = (_e: IpcRendererEvent, payload: unknown): void => listener(payload);
    ipcRenderer.on(EVENT, wrapped);
    return () => {
      ipcRenderer.removeListener(EVENT, wrapped);
    };
  },
});
