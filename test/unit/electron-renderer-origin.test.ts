/**
 * The desktop window's renderer comes from the app's own privileged scheme,
 * served from the built renderer directory and nothing else, and only its
 * main frame may call the engine over IPC. These are the path and sender
 * rules, run without the Electron binary (electron/main/protocol.ts and
 * ipc.ts apply them).
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RENDERER_ORIGIN,
  isTrustedSender,
  rendererFileFor,
  resolveRendererPath,
} from '../../electron/main/renderer-origin.js';
import { tempDir } from '../support/temp-dir.js';

let dir: ReturnType<typeof tempDir>;
let root: string;
beforeAll(() => {
  dir = tempDir('mbm-origin-');
  root = join(dir.path, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html>');
  writeFileSync(join(root, 'assets', 'app.js'), '');
  writeFileSync(join(dir.path, 'secret.txt'), 'outside');
  mkdirSync(join(dir.path, 'renderer-evil'));
  writeFileSync(join(dir.path, 'renderer-evil', 'index.html'), 'sibling with the same prefix');
  symlinkSync(join(dir.path, 'secret.txt'), join(root, 'assets', 'link.txt'));
});
afterAll(() => dir.remove());

describe('renderer scheme path resolution', () => {
  it('maps the origin root and files inside the renderer directory', () => {
    expect(RENDERER_ORIGIN).toBe('mbm://app');
    expect(resolveRendererPath(root, 'mbm://app/')).toBe(join(root, 'index.html'));
    expect(resolveRendererPath(root, 'mbm://app/index.html')).toBe(join(root, 'index.html'));
    expect(resolveRendererPath(root, 'mbm://app/assets/app.js?v=1#x')).toBe(join(root, 'assets', 'app.js'));
    expect(resolveRendererPath(root, 'mbm://app/assets%2Fapp.js')).toBe(join(root, 'assets', 'app.js'));
  });

  it('refuses every way out of the directory and every other origin', () => {
    for (const url of [
      'mbm://app/../secret.txt',
      'mbm://app/..%2Fsecret.txt',
      'mbm://app/%2e%2e/secret.txt',
      'mbm://app/assets/..%2F..%2Fsecret.txt',
      'mbm://app/..%5Csecret.txt',
      'mbm://app/assets%5C..%5C..%5Csecret.txt',
      'mbm://app/%00index.html',
      'mbm://app/%zz',
      `mbm://app/${encodeURIComponent(join(dir.path, 'secret.txt'))}`,
      'mbm://app/..%2Frenderer-evil%2Findex.html',
      'mbm://other/index.html',
      'mbm://app.evil/index.html',
      'file:///etc/passwd',
      `file://${join(root, 'index.html')}`,
      'https://app/index.html',
      'not a url',
    ]) {
      // Dot segments the URL parser removes itself land inside (and then on no file); the rest is refused.
      const resolved = resolveRendererPath(root, url);
      expect(resolved === null || resolved.startsWith(root + sep), url).toBe(true);
      expect(rendererFileFor(root, url), url).toBeNull();
    }
  });

  it('serves only regular files whose real path stays inside (no symlink out, no directory)', () => {
    expect(rendererFileFor(root, 'mbm://app/assets/app.js')).toBe(join(root, 'assets', 'app.js'));
    expect(rendererFileFor(root, 'mbm://app/assets/link.txt')).toBeNull();
    expect(rendererFileFor(root, 'mbm://app/assets')).toBeNull();
    expect(rendererFileFor(root, 'mbm://app/missing.js')).toBeNull();
    expect(rendererFileFor(root + sep, 'mbm://app/index.html')).toBe(join(root, 'index.html'));
  });
});

describe('IPC sender check', () => {
  const main = (url: string) => ({ url, parent: null });
  it('accepts the main frame of our origin only', () => {
    expect(isTrustedSender(main('mbm://app/index.html'))).toBe(true);
    expect(isTrustedSender(main('mbm://app/'))).toBe(true);
    expect(isTrustedSender(main('mbm://app/index.html#/alerts'))).toBe(true);
  });

  it('refuses a subframe, another origin, a file:// page beside the renderer, and no frame', () => {
    expect(isTrustedSender({ url: 'mbm://app/index.html', parent: main('mbm://app/index.html') })).toBe(
      false,
    );
    expect(isTrustedSender(main('mbm://other/index.html'))).toBe(false);
    expect(isTrustedSender(main('mbm://app.evil/index.html'))).toBe(false);
    expect(isTrustedSender(main(`file://${join(root, 'index.html')}`))).toBe(false);
    expect(isTrustedSender(main(`file://${dir.path}/renderer-evil/index.html`))).toBe(false);
    expect(isTrustedSender(main('https://example.com/'))).toBe(false);
    expect(isTrustedSender(main('about:blank'))).toBe(false);
    expect(isTrustedSender(main(''))).toBe(false);
    expect(isTrustedSender(null)).toBe(false);
    expect(isTrustedSender(undefined)).toBe(false);
  });
});
