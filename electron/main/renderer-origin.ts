/**
 * The desktop renderer's origin and the rules that guard it, kept free of
 * Electron imports so that the unit tests run them without the binary.
 *
 * The window loads `mbm://app/index.html`, a privileged custom scheme
 * (protocol.ts) instead of file://: a file:// page may read any file:// URL,
 * and any local HTML file would share its origin. Every request on the scheme
 * maps to a file inside the built renderer directory or to nothing, and only
 * the main frame of that origin may call the engine over IPC.
 */
import { realpathSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { contentTypeFor } from '../../engine/server/static-files.js';

export const RENDERER_SCHEME = 'mbm';
export const RENDERER_HOST = 'app';
export const RENDERER_ORIGIN = `${RENDERER_SCHEME}://${RENDERER_HOST}`;
export const RENDERER_START_URL = `${RENDERER_ORIGIN}/index.html`;

function ourUrl(raw: string): URL | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  return u.protocol === `${RENDERER_SCHEME}:` && u.host === RENDERER_HOST ? u : null;
}

const inside = (root: string, path: string): boolean =>
  path.startsWith(root.endsWith(sep) ? root : root + sep);

/**
 * The file a request URL names inside `rendererDir`, or null: another origin,
 * a malformed escape, a NUL, a backslash (a separator on Windows), or a path
 * that leaves the directory once decoded. Pure: no file system access.
 */
export function resolveRendererPath(rendererDir: string, rawUrl: string): string | null {
  const u = ourUrl(rawUrl);
  if (!u) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const root = resolve(rendererDir);
  const rel = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  const file = resolve(join(root, rel));
  return inside(root, file) ? file : null;
}

/** resolveRendererPath, then only a regular file whose real path (symlinks followed) is still inside. */
export function rendererFileFor(rendererDir: string, rawUrl: string): string | null {
  const file = resolveRendererPath(rendererDir, rawUrl);
  if (!file) return null;
  try {
    const real = realpathSync(file);
    if (!inside(realpathSync(resolve(rendererDir)), real) || !statSync(real).isFile()) return null;
    return real;
  } catch {
    return null;
  }
}

export const rendererContentType = (file: string): string => contentTypeFor(extname(file));

/** The part of Electron's WebFrameMain the check reads. */
export interface SenderFrame {
  url: string;
  parent: unknown;
}

/** Only our page's main frame: not a subframe, not another scheme or host, not a file:// page. */
export function isTrustedSender(frame: SenderFrame | null | undefined): boolean {
  return !!frame && frame.parent === null && ourUrl(frame.url) !== null;
}
