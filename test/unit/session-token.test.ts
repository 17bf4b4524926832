import { describe, expect, it } from 'vitest';
import { TOKEN_KEY, takeSessionToken, type TokenWindow } from '../../renderer/src/api/session-token.js';

function fakeWindow(href: string): TokenWindow & { stored: Map<string, string>; replaced: string[] } {
  const stored = new Map<string, string>();
  const replaced: string[] = [];
  const win = {
    stored,
    replaced,
    location: { href },
    history: {
      state: { tab: 'dashboard' },
      replaceState: (_d: unknown, _u: string, url: string) => {
        replaced.push(url);
        win.location.href = new URL(url, href).href;
      },
    },
    sessionStorage: {
      getItem: (k: string) => stored.get(k) ?? null,
      setItem: (k: string, v: string) => void stored.set(k, v),
    },
  };
  return win;
}

describe('the headless page token', () => {
  it('is taken out of the address bar on the first load and kept in this origin’s sessionStorage', () => {
    const win = fakeWindow('http://127.0.0.1:4100/?token=abcDEF_123&x=1#alerts');
    expect(takeSessionToken(win)).toBe('abcDEF_123');
    expect(win.location.href).toBe('http://127.0.0.1:4100/?x=1#alerts');
    expect(win.replaced).toEqual(['/?x=1#alerts']);
    expect(win.stored.get(TOKEN_KEY)).toBe('abcDEF_123');
  });

  it('is found again after a reload, with nothing to strip', () => {
    const win = fakeWindow('http://127.0.0.1:4100/');
    win.stored.set(TOKEN_KEY, 'kept');
    expect(takeSessionToken(win)).toBe('kept');
    expect(win.replaced).toEqual([]);
  });
});
