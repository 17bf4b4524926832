/** The one app window, locked down as DESIGN.md's security section requires. */
import { BrowserWindow, app, session, shell } from 'electron';
import { join } from 'node:path';

export function hardenSessions(): void {
  // No permission (camera, notifications from the page, geolocation…) is ever granted to web content.
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  // Nothing remote: the renderer is loaded from disk and talks only over IPC.
  session.defaultSession.webRequest.onBeforeRequest((details, cb) => {
    const ok = details.url.startsWith('file://') || details.url.startsWith('devtools://');
    cb({ cancel: !ok });
  });
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (ev) => ev.preventDefault());
    contents.on('will-redirect', (ev) => ev.preventDefault());
    contents.on('will-attach-webview', (ev) => ev.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

export function createMainWindow(distDir: string): BrowserWindow {
  const win = new BrowserWindow({
    width: 1200,
    height: 800,
    show: false,
    title: 'Mongo Backup Manager',
    webPreferences: {
      preload: join(distDir, 'electron', 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadFile(join(distDir, 'renderer', 'index.html'));
  return win;
}

/** Links in help text open in the system browser, never inside the app. */
export function openExternal(url: string): void {
  if (/^https:\/\//.test(url)) void shell.openExternal(url);
}
