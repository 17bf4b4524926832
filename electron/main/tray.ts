/** Tray icon: shows the engine's status and keeps the app (and capture) alive when the window closes. */
import { Menu, Tray, nativeImage } from 'electron';
import { join } from 'node:path';

export interface TrayActions {
  show(): void;
  quit(): void;
}

export function createTray(
  assetsDir: string,
  actions: TrayActions,
): { setStatus(text: string): void; destroy(): void } {
  const tray = new Tray(nativeImage.createFromPath(join(assetsDir, 'tray.png')));
  const render = (status: string): void => {
    tray.setToolTip(`Mongo Backup Manager — ${status}`);
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: status, enabled: false },
        { type: 'separator' },
        { label: 'Open window', click: actions.show },
        { label: 'Quit (stops capture)', click: actions.quit },
      ]),
    );
  };
  render('Engine running');
  tray.on('click', actions.show);
  return { setStatus: render, destroy: () => tray.destroy() };
}
