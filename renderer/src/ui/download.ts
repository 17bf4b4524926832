/**
 * Saves text the engine produced (a report) as a file, in the browser and
 * the desktop window alike: a Blob behind an object URL, clicked as a link
 * with `download`. No markup is injected and nothing is evaluated, so the
 * strict Content-Security-Policy stays as it is.
 */
export function downloadText(fileName: string, mediaType: string, content: string): void {
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
