/**
 * Electron main process: one Engine, one window, a tray, IPC handlers
 * generated from the contract. Nothing else lives here; features belong in
 * engine/ so the headless server and CLI get them too.
 */
import { app, dialog, ipcMain, Notification, safeStorage, type BrowserWindow } from 'electron';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../engine/engine.js';
import { ApiError } from '../engine/errors.js';
import { readSettings } from '../engine/catalog/settings-store.js';
import { forwardEvents, registerIpc } from './main/ipc.js';
import { registerPathDialog } from './main/path-dialog.js';
import { createTray } from './main/tray.js';
import { KeychainSecretStore } from './main/keychain-store.js';
import { notifyDesktop } from './main/notifications.js';
import { createMainWindow, hardenSessions } from './main/window.js';
import { registerRendererScheme, serveRenderer } from './main/protocol.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/electron
const distDir = join(here, '..');
const assetsDir = join(distDir, '..', 'electron', 'assets');

// Before 'ready', as Electron requires: the renderer's own privileged scheme (mbm://app/).
registerRendererScheme();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let win: BrowserWindow | null = null;
  let quitting = false;
  let engine: Engine | null = null;

  const show = (): void => {
    if (!win || win.isDestroyed()) win = createWindow();
    win.show();
    win.focus();
  };

  const createWindow = (): BrowserWindow => {
    const w = createMainWindow(distDir);
    w.on('close', (e) => {
      if (quitting || !engine) return;
      if (readSettings(engine.catalog).closeToTray) {
        e.preventDefault();
        w.hide();
      }
    });
    return w;
  };

  app.on('second-instance', show);
  app.on('before-quit', () => {
    quitting = true;
  });

  void app.whenReady().then(() => {
    hardenSessions();
    serveRenderer(join(distDir, 'renderer'));
    try {
      const dataDir = process.env.MBM_DATA_DIR ?? app.getPath('userData');
      engine = Engine.open({
        dataDir,
        mode: 'desktop',
        // Passphrases are asked once (repo.unlock) and kept in the OS keychain.
        secrets: new KeychainSecretStore(join(dataDir, 'secrets.json'), safeStorage),
      });
    } catch (err) {
      const msg = err instanceof ApiError ? err.message : String(err);
      dialog.showErrorBox('Mongo Backup Manager cannot start', msg);
      app.exit(1);
      return;
    }
    const e = engine;
    registerIpc(e);
    // The system's file dialog, attached to the window (Import a dump, a dump's destination).
    registerPathDialog(
      ipcMain,
      {
        open: (o) => (win ? dialog.showOpenDialog(win, o) : dialog.showOpenDialog(o)),
        save: (o) => (win ? dialog.showSaveDialog(win, o) : dialog.showSaveDialog(o)),
      },
      (path, content) => writeFile(path, content, 'utf8'),
    );
    forwardEvents(e, () => win);
    const tray = createTray(assetsDir, { show, quit: () => app.quit() });
    if (Notification.isSupported())
      notifyDesktop(e, (n) => new Notification({ title: n.title, body: n.body }).show());
    e.events.subscribe((ev) => {
      if (ev.event !== 'task.finished') return;
      const running = e.tasks.list('running').length;
      tray.setStatus(running ? `${running} job(s) running` : 'Engine running');
    });
    win = createWindow();
    void e.startBackgroundWork();
  });

  // With close-to-tray the app keeps running without windows; otherwise quit.
  app.on('window-all-closed', () => {
    if (!engine || !readSettings(engine.catalog).closeToTray) app.quit();
  });

  app.on('will-quit', (ev) => {
    if (!engine) return;
    ev.preventDefault();
    const e = engine;
    engine = null;
    void e.close().finally(() => app.exit(0));
  });
}
