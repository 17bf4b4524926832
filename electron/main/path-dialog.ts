/**
 * The system's file dialog for the renderer (Import a dump, a dump's
 * destination): one IPC channel, `dialog:pickPath`, answered only for the
 * main frame of our own page, with the kind checked against a closed list.
 * The renderer only learns the path the user chose; it reads nothing. The
 * Electron parts come in as arguments (no Electron import), so the unit tests
 * run the rules without the binary.
 */
import { isTrustedSender, type SenderFrame } from './renderer-origin.js';

export const PATH_DIALOG_CHANNEL = 'dialog:pickPath';

const KINDS = ['file', 'directory', 'save'] as const;
type Kind = (typeof KINDS)[number];

/** What the dialog module offers (Electron's `dialog`, bound to the window by the caller). */
export interface PathDialogs {
  open(options: {
    title: string;
    properties: ('openFile' | 'openDirectory' | 'createDirectory')[];
  }): Promise<{
    canceled: boolean;
    filePaths: string[];
  }>;
  save(options: { title: string }): Promise<{ canceled: boolean; filePath?: string | undefined }>;
}

export interface IpcHandle {
  handle(
    channel: string,
    listener: (e: { senderFrame: SenderFrame | null }, input: unknown) => unknown,
  ): void;
  removeHandler(channel: string): void;
}

/** The chosen path, or null (cancelled, an unknown kind, or a caller that is not our page). */
export async function pickPathFor(
  dialogs: PathDialogs,
  sender: SenderFrame | null | undefined,
  input: unknown,
): Promise<string | null> {
  if (!isTrustedSender(sender)) return null;
  const { kind, title } = (typeof input === 'object' && input !== null ? input : {}) as Record<
    string,
    unknown
  >;
  if (!KINDS.includes(kind as Kind)) return null;
  const caption = typeof title === 'string' ? title.slice(0, 200) : 'Choose';
  if (kind === 'save') {
    const r = await dialogs.save({ title: caption });
    return r.canceled || !r.filePath ? null : r.filePath;
  }
  const r = await dialogs.open({
    title: caption,
    properties: kind === 'directory' ? ['openDirectory', 'createDirectory'] : ['openFile'],
  });
  return r.canceled || r.filePaths.length !== 1 ? null : r.filePaths[0]!;
}

export function registerPathDialog(ipc: IpcHandle, dialogs: PathDialogs): () => void {
  ipc.handle(PATH_DIALOG_CHANNEL, (e, input) => pickPathFor(dialogs, e.senderFrame, input));
  return () => ipc.removeHandler(PATH_DIALOG_CHANNEL);
}
