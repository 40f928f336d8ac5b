/**
 * Window options for both windows (docs/architecture.md and Electron's
 * security checklist; see docs/security-checklist.md). Pure data, so every
 * hardening option is unit-tested without an Electron binary.
 */
import type { BrowserWindowConstructorOptions, WebPreferences } from 'electron';
import type { WindowRole } from '../../common/ipc';
import type { PadDisplayChoice } from './displays';

export const APP_SCHEME = 'app';
export const APP_HOST = 'station';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

export function pageUrl(role: WindowRole): string {
  return `${APP_ORIGIN}/${role}/index.html`;
}

export function webPreferences(role: WindowRole, preloadPath: string, isPackaged: boolean): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    enableBlinkFeatures: '',
    // Middle-click must not open new windows (Electronegativity AUXCLICK_JS_CHECK).
    disableBlinkFeatures: 'Auxclick',
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    safeDialogs: true,
    autoplayPolicy: 'document-user-activation-required',
    // The customer-facing pad never has devtools; the operator window only in development.
    devTools: role === 'operator' && !isPackaged,
  };
}

/**
 * @param padFocusable for the pad: whether it may take keyboard focus (`pad.keyboardInput`). A pad that
 *   cannot be focused still takes touch and mouse input, and never takes the keyboard from the operator.
 */
export function windowOptions(
  role: WindowRole,
  preloadPath: string,
  isPackaged: boolean,
  pad?: PadDisplayChoice,
  padFocusable = false,
): BrowserWindowConstructorOptions {
  const common: BrowserWindowConstructorOptions = {
    show: false,
    autoHideMenuBar: true,
    webPreferences: webPreferences(role, preloadPath, isPackaged),
  };
  if (role === 'operator') return { ...common, title: 'PIN Station', width: 900, height: 720 };
  const bounds = pad?.display.bounds;
  // Own display: frameless kiosk across it. Shared with the operator: a frameless window beside it.
  const ownDisplay = pad !== undefined && !pad.sharesOperatorDisplay;
  return {
    ...common,
    title: 'PIN pad',
    focusable: padFocusable,
    frame: false,
    resizable: false,
    minimizable: false,
    maximizable: false,
    fullscreenable: ownDisplay,
    kiosk: ownDisplay,
    fullscreen: ownDisplay,
    skipTaskbar: ownDisplay,
    ...(bounds ? { x: ownDisplay ? bounds.x : bounds.x + bounds.width - 540, y: ownDisplay ? bounds.y : bounds.y + 20 } : {}),
    width: ownDisplay && bounds ? bounds.width : 520,
    height: ownDisplay && bounds ? bounds.height : 760,
  };
}
