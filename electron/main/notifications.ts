/**
 * Which engine events become desktop notifications: every new alert, and
 * every failed job, when the `desktopNotifications` setting is on. The
 * notifier is passed in (main.ts gives Electron's Notification) so that this
 * logic runs in the unit tests, where there is no Electron binary.
 */
import type { EngineEvent } from '../../engine/api/contract.js';
import { readSettings } from '../../engine/catalog/settings-store.js';
import type { Engine } from '../../engine/engine.js';

export interface DesktopNotice {
  title: string;
  body: string;
}

export function noticeFor(ev: EngineEvent): DesktopNotice | null {
  if (ev.event === 'alert.raised') {
    const a = ev.payload as { kind: string; severity: string; message: string };
    return { title: `Backup alert (${a.severity}): ${a.kind}`, body: a.message };
  }
  if (ev.event === 'task.finished') {
    const j = ev.payload as { kind: string; state: string; error: { message: string } | null };
    if (j.state === 'failed') return { title: `${j.kind} failed`, body: j.error?.message ?? '' };
  }
  return null;
}

/** Shows a notice for each event that deserves one while the setting is on; returns the unsubscribe. */
export function notifyDesktop(engine: Engine, show: (n: DesktopNotice) => void): () => void {
  return engine.events.subscribe((ev) => {
    const notice = noticeFor(ev);
    if (notice && readSettings(engine.catalog).desktopNotifications) show(notice);
  });
}
