/**
 * Which station window sent an IPC message. Pure, so it is unit-tested
 * without Electron: the sender must be one of our two webContents AND the
 * sending frame must be that window's own page on the app origin (not a
 * subframe, not a page it was navigated to).
 */
import type { WindowRole } from '../../common/ipc';
import { pageUrl } from './window-options';

export interface SenderInfo {
  /** webContents id of the sender. */
  readonly senderId: number;
  /** URL of the frame that sent the message (undefined when the frame is gone). */
  readonly frameUrl: string | undefined;
  /** True when the sending frame is the top frame of its webContents. */
  readonly isMainFrame: boolean;
}

export type WindowIds = Readonly<Partial<Record<WindowRole, number>>>;

export function senderRole(sender: SenderInfo, windows: WindowIds): WindowRole | null {
  for (const role of ['operator', 'pinpad'] as const) {
    if (windows[role] === undefined || windows[role] !== sender.senderId) continue;
    if (!sender.isMainFrame || sender.frameUrl === undefined) return null;
    let url: URL;
    try {
      url = new URL(sender.frameUrl);
    } catch {
      return null;
    }
    // Compare scheme, host and path parsed (URL.origin is "null" for custom schemes, so it cannot be used).
    const expected = new URL(pageUrl(role));
    return url.protocol === expected.protocol && url.host === expected.host && url.pathname === expected.pathname ? role : null;
  }
  return null;
}
