/**
 * Access rules for the headless server (DESIGN.md, Security): loopback only,
 * a random token per run, and Host/Origin checks so that a web page on
 * another origin (or a DNS-rebinding attack) cannot drive the engine.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The request target as a URL, or null when it cannot be parsed (`//[`):
 * a hostile or mistyped URL is a 400 for that request, never an exception
 * that stops the server.
 */
export function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://127.0.0.1');
  } catch {
    return null;
  }
}

/**
 * Browsers scope cookies by host and path, not by port: a cookie set for
 * 127.0.0.1 goes to every service on 127.0.0.1 whose path matches. So:
 * - the page lives under a path of its own, `/mbm-PORT/` (the printed `/`
 *   redirects there), and the cookie's Path is that path: requests to other
 *   services on the host do not carry it;
 * - the cookie never carries the token, only a value derived from it that
 *   opens the static renderer files (the public app bundle, no data); the
 *   API (the WebSocket) accepts the token itself, which the page keeps in
 *   sessionStorage, readable by this origin (scheme, host and port) alone;
 * - its name holds the port, so two servers on one host do not overwrite
 *   each other's cookie.
 */
export function appPath(port: number): string {
  return `/mbm-${port}/`;
}

export function assetCookieName(port: number): string {
  return `mbm_assets_${port}`;
}

export function assetCookieValue(token: string, port: number): string {
  return createHmac('sha256', token).update(`static-files:${port}`).digest('base64url');
}

export function assetCookieHeader(token: string, port: number): string {
  return `${assetCookieName(port)}=${assetCookieValue(token, port)}; Path=${appPath(port)}; HttpOnly; SameSite=Strict`;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function hostOnly(hostHeader: string): { host: string; port: string } | null {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.trim().toLowerCase());
  return m ? { host: m[1]!, port: m[2] ?? '80' } : null;
}

export type Verdict = { ok: true } | { ok: false; status: 400 | 401 | 403; reason: string };

/** What a request may reach: the API needs the token; static files also accept the asset cookie. */
export type Door = 'api' | 'static';

export class AccessGuard {
  constructor(
    readonly token: string,
    private port: number,
  ) {}

  setPort(port: number): void {
    this.port = port;
  }

  /** The Host header must name loopback at our port: defeats DNS rebinding. */
  private hostAllowed(hostHeader: string | undefined): boolean {
    if (!hostHeader) return false;
    const h = hostOnly(hostHeader);
    return !!h && LOOPBACK_HOSTS.has(h.host) && h.port === String(this.port);
  }

  /** A browser always sends Origin on WebSocket and cross-origin requests; it must be ours. */
  private originAllowed(origin: string | undefined): boolean {
    if (origin === undefined) return true; // same-origin navigation or a non-browser client
    try {
      const u = new URL(origin);
      return (
        u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname) && (u.port || '80') === String(this.port)
      );
    } catch {
      return false;
    }
  }

  presentedToken(url: URL, req: IncomingMessage): string | null {
    const q = url.searchParams.get('token');
    if (q) return q;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return auth.slice(7);
    return null;
  }

  private presentedCookie(req: IncomingMessage): string | null {
    const name = assetCookieName(this.port);
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === name) return v.join('=');
    }
    return null;
  }

  check(req: IncomingMessage, door: Door = 'api'): Verdict {
    const url = requestUrl(req);
    if (!url) return { ok: false, status: 400, reason: 'The request URL cannot be parsed.' };
    if (!this.hostAllowed(req.headers.host)) {
      return { ok: false, status: 403, reason: 'Host header is not this loopback server.' };
    }
    if (!this.originAllowed(req.headers.origin)) {
      return { ok: false, status: 403, reason: 'Origin is not this loopback server.' };
    }
    const tokenOk = sameSecret(this.presentedToken(url, req), this.token);
    const cookieOk =
      door === 'static' && sameSecret(this.presentedCookie(req), assetCookieValue(this.token, this.port));
    if (!tokenOk && !cookieOk) {
      return { ok: false, status: 401, reason: 'Missing or wrong access token.' };
    }
    return { ok: true };
  }
}

function sameSecret(candidate: string | null, expected: string): boolean {
  if (!candidate) return false;
  const a = Buffer.from(candidate);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
