/**
 * Serves the built renderer on the app's own scheme (`mbm://app/`), with the
 * same Content-Security-Policy as the headless server. The path rules live
 * in renderer-origin.ts (unit-tested without Electron).
 */
import { protocol } from 'electron';
import { readFile } from 'node:fs/promises';
import { securityHeaders } from '../../engine/server/static-files.js';
import { RENDERER_SCHEME, rendererContentType, rendererFileFor } from './renderer-origin.js';

/** Must run before the app is ready: a standard, secure scheme (like https for origins, storage, CSP 'self'). */
export function registerRendererScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: RENDERER_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

export function serveRenderer(rendererDir: string): void {
  protocol.handle(RENDERER_SCHEME, async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return new Response(null, { status: 405 });
    const file = rendererFileFor(rendererDir, request.url);
    if (!file) return new Response('Not found', { status: 404, headers: { 'Content-Type': 'text/plain' } });
    return new Response(request.method === 'HEAD' ? null : await readFile(file), {
      status: 200,
      headers: { ...securityHeaders(), 'Content-Type': rendererContentType(file) },
    });
  });
}
