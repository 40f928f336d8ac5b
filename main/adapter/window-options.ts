/**
 * Window options for both windows (DESIGN.md section 7). Pure data, so the
 * hardening can be checked without an Electron binary.
 */
import type { BrowserWindowConstructorOptions } from 'electron';
import type { WindowRole } from '../../common/ipc';

export const APP_SCHEME = 'app';
export const APP_HOST = 'station';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

export function pageUrl(role: WindowRole): string {
  return `${APP_ORIGIN}/${role}/index.html`;
}

export function windowOptions(role: WindowRole, preloadPath: string, isPackaged: boolean): BrowserWindowConstructorOptions {
  const common: BrowserWindowConstructorOptions = {
    show: false,
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      devTools: !isPackaged,
    },
  };
  if (role === 'operator') {
    return { ...common, title: 'PIN Station', width: 900, height: 720 };
  }
  return {
    ...common,
    title: 'PIN pad',
    width: 520,
    height: 760,
    // Customer-facing: no devtools even in development builds.
    webPreferences: { ...common.webPreferences, devTools: false },
  };
}
