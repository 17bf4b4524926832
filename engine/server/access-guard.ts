/**
 * Access rules for the headless server (DESIGN.md, Security): loopback only,
 * a random token per run, and Host/Origin checks so that a web page on
 * another origin (or a DNS-rebinding attack) cannot drive the engine.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_COOKIE = 'mbm_token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function hostOnly(hostHeader: string): { host: string; port: string } | null {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.trim().toLowerCase());
  return m ? { host: m[1]!, port: m[2] ?? '80' } : null;
}

export type Verdict = { ok: true } | { ok: false; status: 401 | 403; reason: string };

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

  presentedToken(req: IncomingMessage): string | null {
    const url = new URL(req.url ?? '/', 'http://x');
    const q = url.searchParams.get('token');
    if (q) return q;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return auth.slice(7);
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === TOKEN_COOKIE) return v.join('=');
    }
    return null;
  }

  private tokenMatches(candidate: string | null): boolean {
    if (!candidate) return false;
    const a = Buffer.from(candidate);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  check(req: IncomingMessage): Verdict {
    if (!this.hostAllowed(req.headers.host)) {
      return { ok: false, status: 403, reason: 'Host header is not this loopback server.' };
    }
    if (!this.originAllowed(req.headers.origin)) {
      return { ok: false, status: 403, reason: 'Origin is not this loopback server.' };
    }
    if (!this.tokenMatches(this.presentedToken(req))) {
      return { ok: false, status: 401, reason: 'Missing or wrong access token.' };
    }
    return { ok: true };
  }
}
