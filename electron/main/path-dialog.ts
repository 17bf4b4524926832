/**
 * The system's file dialogs for the renderer: `dialog:pickPath` (Import a
 * dump, a dump's destination; the renderer learns the path the user chose and
 * reads nothing) and `dialog:saveText` (a report saved where the user
 * chooses). Both answer only the main frame of our own page. The
 * Electron parts come in as arguments (no Electron import), so the unit tests
 * run the rules without the binary.
 */
import { isTrustedSender, type SenderFrame } from './renderer-origin.js';

export const PATH_DIALOG_CHANNEL = 'dialog:pickPath';
export const SAVE_TEXT_CHANNEL = 'dialog:saveText';
/** A report is a few hundred kilobytes; anything near this is not one. */
const MAX_TEXT = 32 * 1024 * 1024;

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
  save(options: {
    title: string;
    defaultPath?: string;
  }): Promise<{ canceled: boolean; filePath?: string | undefined }>;
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

/**
 * Saves text the page holds (a restore report) where the user chooses in the save dialog: the
 * desktop's way of "downloading", since the window refuses every request outside its own scheme
 * (a Blob URL included). Only the name is suggested by the page; the place is the user's choice.
 */
export async function saveTextFor(
  dialogs: PathDialogs,
  writeFile: (path: string, content: string) => Promise<void>,
  sender: SenderFrame | null | undefined,
  input: unknown,
): Promise<string | null> {
  if (!isTrustedSender(sender)) return null;
  const { fileName, content } = (typeof input === 'object' && input !== null ? input : {}) as Record<
    string,
    unknown
  >;
  if (typeof fileName !== 'string' || typeof content !== 'string' || content.length > MAX_TEXT) return null;
  // A bare name (no directory part): the page suggests what to call it, never where it goes.
  const name = fileName.replace(/[\\/\0]/g, '_').slice(0, 255) || 'report.txt';
  const r = await dialogs.save({ title: `Save ${name}`, defaultPath: name });
  if (r.canceled || !r.filePath) return null;
  await writeFile(r.filePath, content);
  return r.filePath;
}

export function registerPathDialog(
  ipc: IpcHandle,
  dialogs: PathDialogs,
  writeFile: (path: string, content: string) => Promise<void>,
): () => void {
  ipc.handle(PATH_DIALOG_CHANNEL, (e, input) => pickPathFor(dialogs, e.senderFrame, input));
  ipc.handle(SAVE_TEXT_CHANNEL, (e, input) => saveTextFor(dialogs, writeFile, e.senderFrame, input));
  return () => {
    ipc.removeHandler(PATH_DIALOG_CHANNEL);
    ipc.removeHandler(SAVE_TEXT_CHANNEL);
  };
}
