/** Serves the built renderer pages from app://station/ with a strict CSP header; nothing remote. */
import { protocol } from 'electron';
import { readAppRequest } from './app-files';
import { CONTENT_SECURITY_POLICY } from './csp';
import { APP_SCHEME } from './window-options';

/** Must run before app 'ready'. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** `voiceFolder`: pad.audio.voiceFolder once the config is read (null before, and without one). */
export function serveRenderer(rendererRoot: string, voiceFolder: () => string | null): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const found = await readAppRequest(rendererRoot, request.url, { voiceFolder: voiceFolder() });
    if (!found) return new Response('Not found', { status: 404 });
    return new Response(found.data, {
      headers: { 'content-type': found.type, 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff' },
    });
  });
}
