import { saveTextWithDialog } from '../app/client/path-picker';

/**
 * Saves text the engine produced (a report) as a file. In a browser: a Blob
 * behind an object URL, clicked as a link with `download` (no markup is
 * injected and nothing is evaluated, so the strict Content-Security-Policy
 * stays as it is). In the desktop window, whose requests outside its own
 * scheme are refused: the system's save dialog.
 */
export async function downloadText(fileName: string, mediaType: string, content: string): Promise<void> {
  if (await saveTextWithDialog(fileName, content)) return;
  const url = URL.createObjectURL(new Blob([content], { type: mediaType }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  // Give the browser time to start reading the Blob before it is released.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
