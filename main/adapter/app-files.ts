/**
 * Which file an app:// request may read. resolveAppFile is pure, so the path containment is tested without
 * Electron; resolveAppRequest adds a bank's own voice folder. The browser harness serves pages through the latter.
 */
import { constants } from 'node:fs';
import { open, readFile, realpath, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, extname, join, normalize, relative, sep } from 'node:path';
import { LANGUAGES } from '../../common/domain';
import { allCues } from '../../common/voice-cues';
import { isAdminOnly } from '../core/voice-folder';
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

/** A file to serve. A clip from the bank's folder carries the identity it was checked as, and the built-in clip. */
export interface AppTarget {
  readonly file: string;
  readonly type: string;
  readonly checked?: { readonly dev: number; readonly ino: number; readonly builtIn: string };
}

/**
 * resolveAppFile, except that a clip the bank's voice folder holds is read from there. A clip it lacks stays the
 * built-in one (a bank may replace only some). Only a regular file whose real path is inside the folder's real path
 * counts (a link that leads out of the folder is ignored like a missing file), and on POSIX only when the folder,
 * each directory down to the clip and the clip are root's and writable by no one else (isAdminOnly): whoever can
 * write there chooses what the cardholder hears.
 */
export async function resolveAppRequest(rendererRoot: string, requestUrl: string, options: AppRequestOptions = {}): Promise<AppTarget | null> {
  const target = resolveAppFile(rendererRoot, requestUrl, options.host);
  if (target === null || !options.voiceFolder) return target;
  const [top, ...rest] = relative(normalize(rendererRoot), target.file).split(sep);
  const clip = top === VOICE_DIR ? voiceClip(rest) : null;
  if (clip === null) return target;
  try {
    const folder = await realpath(options.voiceFolder);
    const file = await realpath(join(folder, clip.language, clip.name));
    if (!file.startsWith(folder + sep)) return target;
    // The directories as named and as really found (a link inside the folder may lead to another of its folders).
    const directories = new Set([folder, join(folder, clip.language), ...pathDown(folder, dirname(file))]);
    for (const directory of directories) {
      const stats = await stat(directory);
      if (!stats.isDirectory() || !isAdminOnly(stats)) return target;
    }
    const stats = await stat(file);
    if (stats.isFile() && isAdminOnly(stats)) return { file, type: target.type, checked: { dev: stats.dev, ino: stats.ino, builtIn: target.file } };
  } catch {
    // Not in the bank's folder (or the folder is gone): the built-in clip.
  }
  return target;
}

/** `from` and each directory below it down to `to` (which is inside it or `from` itself). */
function pathDown(from: string, to: string): string[] {
  const parts = relative(from, to)
    .split(sep)
    .filter((part) => part !== '');
  return [from, ...parts.map((_, index) => join(from, ...parts.slice(0, index + 1)))];
}

/**
 * The bytes of a resolved target. A bank's clip is read from the handle it is opened with, and only if that handle
 * is still the file that was checked and still passes the rule: a file swapped in after the check is not played, the
 * built-in clip is. Null when nothing can be read.
 */
export async function readAppTarget(target: AppTarget): Promise<{ data: Buffer; type: string } | null> {
  if (target.checked) {
    const data = await readCheckedFile(target.file, target.checked);
    if (data !== null) return { data, type: target.type };
  }
  try {
    return { data: await readFile(target.checked?.builtIn ?? target.file), type: target.type };
  } catch {
    return null;
  }
}

/** resolveAppRequest, then readAppTarget: what app:// serves and the browser harness serves alike. */
export async function readAppRequest(
  rendererRoot: string,
  requestUrl: string,
  options: AppRequestOptions = {},
): Promise<{ data: Buffer; type: string } | null> {
  const target = await resolveAppRequest(rendererRoot, requestUrl, options);
  return target === null ? null : readAppTarget(target);
}

async function readCheckedFile(file: string, checked: { readonly dev: number; readonly ino: number }): Promise<Buffer | null> {
  let handle: FileHandle | null = null;
  try {
    // No O_NOFOLLOW on Windows; the real path has no link to follow unless one was swapped in.
    handle = await open(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    const stats = await handle.stat();
    if (stats.dev !== checked.dev || stats.ino !== checked.ino || !stats.isFile() || !isAdminOnly(stats)) return null;
    return await handle.readFile();
  } catch {
    return null;
  } finally {
    await handle?.close();
  }
}
