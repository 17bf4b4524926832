/**
 * IPC handlers generated from the contract: one `api:<command>` channel per
 * command, each going through `dispatch` (which validates the input). Only
 * our own renderer page may call them.
 */
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { commandNames } from '../../engine/api/contract.js';
import { dispatch } from '../../engine/api/dispatch.js';
import type { Engine } from '../../engine/engine.js';
import { isTrustedSender } from './renderer-origin.js';

export const EVENT_CHANNEL = 'api:event';

export function registerIpc(engine: Engine): () => void {
  // The main frame of our own scheme's page (renderer-origin.ts); a subframe or any other page is refused.
  const fromOurPage = (e: IpcMainInvokeEvent): boolean => isTrustedSender(e.senderFrame);

  for (const name of commandNames) {
    ipcMain.handle(`api:${name}`, (e, input: unknown) => {
      if (!fromOurPage(e)) {
        return { ok: false, error: { code: 'UNAVAILABLE', message: 'Caller is not the app window.' } };
      }
      return dispatch(engine, name, input, { client: `window-${e.sender.id}` });
    });
  }
  return () => {
    for (const name of commandNames) ipcMain.removeHandler(`api:${name}`);
  };
}

export function forwardEvents(engine: Engine, getWindow: () => BrowserWindow | null): () => void {
  return engine.events.subscribe((e) => {
    const win = getWindow();
    if (win && !win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, e);
  });
}
