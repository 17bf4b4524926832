/**
 * Hands text to the user as a file download without touching the disk from
 * the page: a Blob, an object URL and a temporary link (what a browser
 * offers; the CSP allows it since nothing is fetched or run).
 */
export function downloadText(name: string, lines: readonly string[]): void {
  const blob = new Blob(lines.length ? [lines.join('\n') + '\n'] : [], { type: 'application/x-ndjson' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
