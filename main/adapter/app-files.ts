/**
 * Which built file an app:// request may read. Pure, so the path containment
 * is tested without Electron, and the browser harness serves pages through it.
 */
import { extname, join, normalize, sep } from 'node:path';
import { APP_HOST } from './window-options';

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  // Audio guidance clips (Ogg Opus).
  '.opus': 'audio/ogg',
};

/** The file under `rendererRoot` for `requestUrl`, or null for anything outside it, another host or an unknown type. */
export function resolveAppFile(rendererRoot: string, requestUrl: string, host = APP_HOST): { file: string; type: string } | null {
  const root = normalize(rendererRoot) + sep;
  let url: URL;
  let path: string;
  try {
    url = new URL(requestUrl);
    path = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  if (url.host !== host || path.includes('\0')) return null;
  const file = normalize(join(root, path));
  const type = MIME[extname(file)];
  return file.startsWith(root) && type ? { file, type } : null;
}
