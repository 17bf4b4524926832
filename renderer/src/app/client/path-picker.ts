/**
 * Choosing a file or directory on this machine. In the desktop window the
 * preload offers the system's own dialog (`window.backup.pickPath`, shown by
 * the main process); in a browser there is none (a page cannot learn a
 * path), so the path is typed. Paths are the engine's: it runs on this
 * machine in both modes (headless serves loopback only).
 */
import type { PathPickKind } from '../../../../engine/api/client';

export type { PathPickKind };

export function canPickPaths(): boolean {
  return typeof window !== 'undefined' && typeof window.backup?.pickPath === 'function';
}

/** The chosen path, or null when the dialog was cancelled or there is none. */
export async function pickPath(kind: PathPickKind, title: string): Promise<string | null> {
  if (!canPickPaths()) return null;
  return (await window.backup!.pickPath!(kind, title)) ?? null;
}

/**
 * Saves text through the desktop's save dialog; false when there is none (a browser), where
 * the caller downloads a Blob instead. The desktop window refuses every request outside its own
 * scheme, a Blob URL included, so it cannot "download".
 */
export async function saveTextWithDialog(fileName: string, content: string): Promise<boolean> {
  const save = typeof window !== 'undefined' ? window.backup?.saveText : undefined;
  if (typeof save !== 'function') return false;
  await save(fileName, content);
  return true;
}
