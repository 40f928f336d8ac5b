/**
 * Which file an app:// request may read. resolveAppFile is pure, so the path containment is tested without
 * Electron; resolveAppRequest adds a bank's own voice folder. The browser harness serves pages through the latter.
 */
import { realpath, stat } from 'node:fs/promises';
import { extname, join, normalize, relative, sep } from 'node:path';
import { LANGUAGES } from '../../common/domain';
import { allCues } from '../../common/voice-cues';
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

/** The folder of the audio guidance clips, built in and in a bank's voice folder alike: voice/<language>/<cue>.opus. */
const VOICE_DIR = 'voice';
const CLIP_EXTENSION = '.opus';
const CLIP_NAMES: ReadonlySet<string> = new Set(allCues().map((cue) => `${cue}${CLIP_EXTENSION}`));

/**
 * The file under `rendererRoot` for `requestUrl`, or null for anything outside it, another host, an unknown type,
 * or a name under voice/ that is not a known clip (<language>/<cue>.opus).
 */
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
  if (!file.startsWith(root) || !type) return null;
  const [top, ...rest] = relative(root, file).split(sep);
  if (top === VOICE_DIR && voiceClip(rest) === null) return null;
  return { file, type };
}

/** `<language>/<cue>.opus` as path parts, for a known language and cue; null for any other name. */
function voiceClip(parts: readonly string[]): { language: string; name: string } | null {
  const [language, name, ...more] = parts;
  if (language === undefined || name === undefined || more.length > 0) return null;
  return (LANGUAGES as readonly string[]).includes(language) && CLIP_NAMES.has(name) ? { language, name } : null;
}

export interface AppRequestOptions {
  readonly host?: string;
  /** pad.audio.voiceFolder: a bank's own clips, each replacing the built-in clip of the same name. */
  readonly voiceFolder?: string | null;
}

/**
 * resolveAppFile, except that a clip the bank's voice folder holds is read from there. A clip it lacks stays the
 * built-in one (a bank may replace only some). Only a regular file whose real path is inside the folder's real path
 * counts: a link that leads out of the folder is ignored like a missing file.
 */
export async function resolveAppRequest(
  rendererRoot: string,
  requestUrl: string,
  options: AppRequestOptions = {},
): Promise<{ file: string; type: string } | null> {
  const target = resolveAppFile(rendererRoot, requestUrl, options.host);
  if (target === null || !options.voiceFolder) return target;
  const [top, ...rest] = relative(normalize(rendererRoot), target.file).split(sep);
  const clip = top === VOICE_DIR ? voiceClip(rest) : null;
  if (clip === null) return target;
  try {
    const folder = await realpath(options.voiceFolder);
    const file = await realpath(join(folder, clip.language, clip.name));
    if (file.startsWith(folder + sep) && (await stat(file)).isFile()) return { file, type: target.type };
  } catch {
    // Not in the bank's folder (or the folder is gone): the built-in clip.
  }
  return target;
}
