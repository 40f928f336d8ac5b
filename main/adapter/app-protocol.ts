/** Serves the built renderer pages from app://station/ with a strict CSP header; nothing remote. */
import { readFile } from 'node:fs/promises';
import { protocol } from 'electron';
import { resolveAppRequest } from './app-files';
import { CONTENT_SECURITY_POLICY } from './csp';
import { APP_SCHEME } from './window-options';

/** Must run before app 'ready'. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** `voiceFolder`: pad.audio.voiceFolder once the config is read (null before, and without one). */
export function serveRenderer(rendererRoot: string, voiceFolder: () => string | null): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const target = await resolveAppRequest(rendererRoot, request.url, { voiceFolder: voiceFolder() });
    if (!target) return new Response('Not found', { status: 404 });
    try {
      const body = await readFile(target.file);
      return new Response(body, {
        headers: { 'content-type': target.type, 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff' },
      });
    } catch {
      return new Response('Not found', { status: 404 });
    }
  });
}
