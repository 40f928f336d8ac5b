/**
 * The session's permission checks. Everything is refused except what audio guidance needs on the pad's own page:
 * the labels of the audio outputs (Chromium hides them, and with them the pad's named output device, unless the
 * page may check `media` for audio) and choosing one of them (`speaker-selection`). A check is not a request:
 * capture (getUserMedia) still goes to the request handler, which refuses everything.
 */
import type { WindowIds } from './sender';
import { senderRole } from './sender';

export interface PermissionCheck {
  /** webContents id of the page asking, or null when Electron gives none. */
  readonly contentsId: number | null;
  readonly permission: string;
  /** The URL of the frame asking (Electron's `details.requestingUrl`). */
  readonly requestingUrl: string | undefined;
  readonly isMainFrame: boolean;
  /** For `media`: which kind (Electron's `details.mediaType`). */
  readonly mediaType: string | undefined;
}

/** `audioOffered`: this station can offer audio guidance (enabled, an output device named); otherwise nothing passes. */
export function allowsPermissionCheck(check: PermissionCheck, windows: WindowIds, audioOffered: boolean): boolean {
  if (!audioOffered) return false;
  const forAudioOutput = (check.permission === 'media' && check.mediaType === 'audio') || check.permission === 'speaker-selection';
  if (!forAudioOutput || check.contentsId === null) return false;
  return senderRole({ senderId: check.contentsId, frameUrl: check.requestingUrl, isMainFrame: check.isMainFrame }, windows) === 'pinpad';
}
