/** The Electron adapter's pure parts: window hardening item by item, the IPC sender check, display choice. */
import { describe, expect, it } from 'vitest';
import { resolveAppFile } from '../../main/adapter/app-files';
import { choosePadDisplay } from '../../main/adapter/displays';
import type { DisplayLike } from '../../main/adapter/displays';
import { senderRole } from '../../main/adapter/sender';
import { APP_ORIGIN, pageUrl, webPreferences, windowOptions } from '../../main/adapter/window-options';

describe('webPreferences: every window, production and development', () => {
  // Each entry is one item of Electron's security checklist (docs/security-checklist.md).
  const required = {
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    enableBlinkFeatures: '',
    disableBlinkFeatures: 'Auxclick',
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    safeDialogs: true,
  } as const;
  for (const role of ['operator', 'pinpad'] as const) {
    for (const packaged of [true, false]) {
      for (const [option, value] of Object.entries(required)) {
        it(`${role}${packaged ? ' (packaged)' : ''}: ${option} is ${JSON.stringify(value)}`, () => {
          expect(webPreferences(role, '/p.cjs', packaged)[option as keyof typeof required]).toBe(value);
        });
      }
    }
  }
  it('the preload is the one given, and nothing enables Node or remote content', () => {
    const prefs = webPreferences('operator', '/x/operator.cjs', true);
    expect(prefs.preload).toBe('/x/operator.cjs');
    expect(Object.keys(prefs)).not.toContain('partition');
    expect(Object.keys(prefs)).not.toContain('additionalArguments');
  });
  it('devtools: never on the customer-facing pad; on the operator window only in development', () => {
    expect(webPreferences('pinpad', '/p', false).devTools).toBe(false);
    expect(webPreferences('pinpad', '/p', true).devTools).toBe(false);
    expect(webPreferences('operator', '/p', true).devTools).toBe(false);
    expect(webPreferences('operator', '/p', false).devTools).toBe(true);
  });
});

describe('window options', () => {
  const primary: DisplayLike = { id: 1, bounds: { x: 0, y: 0, width: 1920, height: 1080 } };
  const second: DisplayLike = { id: 2, bounds: { x: 1920, y: 0, width: 1024, height: 768 } };

  it('windows are created hidden and shown when ready, without a menu bar', () => {
    for (const role of ['operator', 'pinpad'] as const) {
      const options = windowOptions(role, '/p', true);
      expect(options.show).toBe(false);
      expect(options.autoHideMenuBar).toBe(true);
    }
  });
  it('the pad on its own display is a frameless kiosk covering it', () => {
    const options = windowOptions('pinpad', '/p', true, choosePadDisplay([primary, second], primary, 'secondary'));
    expect(options).toMatchObject({ frame: false, kiosk: true, fullscreen: true, x: 1920, y: 0, width: 1024, height: 768, resizable: false });
  });
  it('the pad sharing the operator display is frameless but does not cover the operator window', () => {
    const options = windowOptions('pinpad', '/p', true, choosePadDisplay([primary], primary, 'secondary'));
    expect(options).toMatchObject({ frame: false, kiosk: false, fullscreen: false, width: 520, height: 760 });
  });
  it('the pad cannot take keyboard focus unless it has its own keypad (pad.keyboardInput); the operator window can', () => {
    expect(windowOptions('pinpad', '/p', true).focusable).toBe(false);
    expect(windowOptions('pinpad', '/p', true, choosePadDisplay([primary, second], primary, 'secondary'), false).focusable).toBe(false);
    expect(windowOptions('pinpad', '/p', true, undefined, true).focusable).toBe(true);
    expect(windowOptions('operator', '/p', true).focusable).not.toBe(false);
  });
  it('pages load from the app origin only', () => {
    expect(pageUrl('operator')).toBe('app://station/operator/index.html');
    expect(pageUrl('pinpad')).toBe('app://station/pinpad/index.html');
  });
});

describe('choosePadDisplay', () => {
  const primary: DisplayLike = { id: 10, bounds: { x: 0, y: 0, width: 100, height: 100 } };
  const other: DisplayLike = { id: 11, bounds: { x: 100, y: 0, width: 100, height: 100 } };
  it('secondary when present, else primary with fellBack', () => {
    expect(choosePadDisplay([primary, other], primary, 'secondary')).toEqual({ display: other, fellBack: false, sharesOperatorDisplay: false });
    expect(choosePadDisplay([primary], primary, 'secondary')).toEqual({ display: primary, fellBack: true, sharesOperatorDisplay: true });
  });
  it('an index picks that display; a missing index falls back', () => {
    expect(choosePadDisplay([primary, other], primary, 1).display).toBe(other);
    expect(choosePadDisplay([primary, other], primary, 5)).toMatchObject({ display: primary, fellBack: true });
    expect(choosePadDisplay([primary, other], primary, 'primary')).toMatchObject({ display: primary, fellBack: false, sharesOperatorDisplay: true });
  });
});

describe('senderRole: the IPC sender check', () => {
  const ids = { operator: 3, pinpad: 4 };
  const frame = (senderId: number, frameUrl: string | undefined, isMainFrame = true) => ({ senderId, frameUrl, isMainFrame });
  it('accepts each window from its own page', () => {
    expect(senderRole(frame(3, `${APP_ORIGIN}/operator/index.html`), ids)).toBe('operator');
    expect(senderRole(frame(4, `${APP_ORIGIN}/pinpad/index.html`), ids)).toBe('pinpad');
  });
  it("refuses a window showing the other window's page, a subframe, a foreign origin, a gone frame, an unknown sender", () => {
    expect(senderRole(frame(3, `${APP_ORIGIN}/pinpad/index.html`), ids)).toBeNull();
    expect(senderRole(frame(4, `${APP_ORIGIN}/operator/index.html`), ids)).toBeNull();
    expect(senderRole(frame(3, `${APP_ORIGIN}/operator/index.html`, false), ids)).toBeNull();
    expect(senderRole(frame(3, 'https://evil.example/operator/index.html'), ids)).toBeNull();
    expect(senderRole(frame(3, 'app://station.evil/operator/index.html'), ids)).toBeNull();
    expect(senderRole(frame(3, 'file:///operator/index.html'), ids)).toBeNull();
    expect(senderRole(frame(3, undefined), ids)).toBeNull();
    expect(senderRole(frame(3, 'not a url'), ids)).toBeNull();
    expect(senderRole(frame(99, `${APP_ORIGIN}/operator/index.html`), ids)).toBeNull();
    expect(senderRole(frame(3, `${APP_ORIGIN}/operator/index.html`), {})).toBeNull();
  });
  it('a query or fragment does not change which page it is, and a path trick is refused', () => {
    expect(senderRole(frame(3, `${APP_ORIGIN}/operator/index.html#x`), ids)).toBe('operator');
    expect(senderRole(frame(3, `${APP_ORIGIN}/operator/../pinpad/index.html`), ids)).toBeNull();
    expect(senderRole(frame(3, `${APP_ORIGIN}/operator/index.html/..`), ids)).toBeNull();
  });
});

describe('resolveAppFile: what app:// may serve', () => {
  const root = '/srv/app/renderer';
  it('serves built pages and assets with their types', () => {
    expect(resolveAppFile(root, 'app://station/operator/index.html')).toEqual({
      file: '/srv/app/renderer/operator/index.html',
      type: 'text/html; charset=utf-8',
    });
    expect(resolveAppFile(root, 'app://station/assets/x-1.js')?.type).toBe('text/javascript; charset=utf-8');
  });
  it('refuses traversal, encoded traversal, other hosts, unknown types and malformed escapes', () => {
    // The URL parser already folds dot segments (also %2e%2e), so these stay inside the root.
    expect(resolveAppFile(root, 'app://station/../../etc/passwd.html')?.file).toBe('/srv/app/renderer/etc/passwd.html');
    expect(resolveAppFile(root, 'app://station/%2e%2e/%2e%2e/etc/x.js')?.file).toBe('/srv/app/renderer/etc/x.js');
    expect(resolveAppFile(root, 'app://station/..%2f..%2fsecret.js')).toBeNull();
    expect(resolveAppFile(root, 'app://other/operator/index.html')).toBeNull();
    expect(resolveAppFile(root, 'app://station/config.json')).toBeNull();
    expect(resolveAppFile(root, 'app://station/%E0%A4%A.js')).toBeNull();
    expect(resolveAppFile(root, 'app://station/a%00.js')).toBeNull();
  });
});
