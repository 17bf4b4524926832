/**
 * The headless page is opened as `/?token=…`. The token is taken out of the
 * address bar at once (history.replaceState: no reload, no new history
 * entry), so it is not left on screen, in the history list or in bookmarks,
 * and is kept in sessionStorage: that storage belongs to this origin
 * (scheme, host and port) and this tab alone, so no other origin, including
 * another service on 127.0.0.1, can read it. A reload finds it there.
 */
export const TOKEN_KEY = 'mbm.token';

/** The parts of `window` this uses, so that it runs in unit tests without a browser. */
export interface TokenWindow {
  location: { href: string };
  history: { state: unknown; replaceState(data: unknown, unused: string, url: string): void };
  sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
}

export function takeSessionToken(win: TokenWindow): string {
  const url = new URL(win.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    win.sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    win.history.replaceState(win.history.state, '', `${url.pathname}${url.search}${url.hash}`);
    return fromUrl;
  }
  return win.sessionStorage.getItem(TOKEN_KEY) ?? '';
}
