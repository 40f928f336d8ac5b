/**
 * Whether a bank's voice folder (pad.audio.voiceFolder) may speak to the cardholder. Its clips replace the prompts,
 * so whoever can write there decides what the pad says: on POSIX only a folder, directories and clips that root owns
 * and that no group or other user may write count. Windows ACLs are not checked here (docs/admin-guide.md says so).
 */
import { statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { LANGUAGES } from '../../common/domain';

export type VoiceFolderProblem = 'missing' | 'unsafe';

/** What the ownership rule reads of a file's or directory's status. */
export interface OwnerAndMode {
  readonly uid: number;
  readonly mode: number;
}

/** Ownership is checked only where it means something the app can read: not on Windows. */
export function checksOwnership(platform: NodeJS.Platform = process.platform): boolean {
  return platform !== 'win32';
}

/** Owned by root and writable by nobody else: only an administrator can have put it there or changed it. */
export function isAdminOnly(stats: OwnerAndMode, platform: NodeJS.Platform = process.platform): boolean {
  return !checksOwnership(platform) || (stats.uid === 0 && (stats.mode & 0o022) === 0);
}

/**
 * 'missing' when the path is not a folder; 'unsafe' when it, or a language folder in it, fails isAdminOnly (its
 * clips would be refused, so the built-in voice would play instead of the bank's); null when it is fit to use.
 */
export function voiceFolderProblem(path: string, platform: NodeJS.Platform = process.platform): VoiceFolderProblem | null {
  const folder = statOrNull(path);
  if (folder === null || !folder.isDirectory()) return 'missing';
  if (!isAdminOnly(folder, platform)) return 'unsafe';
  for (const language of LANGUAGES) {
    const sub = statOrNull(join(path, language));
    if (sub !== null && !isAdminOnly(sub, platform)) return 'unsafe';
  }
  return null;
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
