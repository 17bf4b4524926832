/** The one app window, locked down as DESIGN.md's security section requires. */
import { BrowserWindow, app, session } from 'electron';
import { join } from 'node:path';
import { RENDERER_ORIGIN, RENDERER_START_URL } from './renderer-origin.js';

export function hardenSessions(): void {
  // No permission (camera, notifications from the page, geolocation…) is ever granted to web content.
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  // Nothing remote, no file:// either: the renderer comes from our scheme only and talks over IPC.
  session.defaultSession.webRequest.onBeforeRequest((details, cb) => {
    const ok = details.url.startsWith(`${RENDERER_ORIGIN}/`) || details.url.startsWith('devtools://');
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
      // Middle-click would open links in new windows without going through the window-open handler.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(RENDERER_START_URL);
  return win;
}
