/**
 * Wiring contract of the Electron adapter (main/index.ts). The built main
 * bundle (out/main/index.js) is loaded in Node with a recording double of the
 * `electron` module (test/harness/electron-double.ts), against a real keychain
 * (the private test keyring), a real audit trail and a loopback processor. It
 * checks what the adapter registers and what it does to its windows: the app
 * scheme is privileged before `ready`; every IPC channel goes through the
 * sender check; both windows come from the window factory with their
 * preloads; every web-contents guard is attached; quitting waits for work in
 * flight; the pad never takes the keyboard unless it has its own keypad; a
 * fatal start-up shows the cannot-start window or exits non-zero.
 *
 * It is not a substitute for test/electron, which runs the real app wherever
 * an Electron binary exists: Chromium, window managers and the app:// handler
 * serving real pages are not modelled here.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { IpcResult, OperatorView } from '../../common/ipc';
import { OPERATOR_CHANNELS, PINPAD_CHANNELS } from '../../common/ipc-validators';
import { webPreferences, windowOptions } from '../../main/adapter/window-options';
import { LocalAccountStore, staffFilePath } from '../../main/core/staff/accounts';
import { KeytarKeyStore } from '../../main/core/keytar-store';
import { ElectronDouble, PreventableEvent } from '../harness/electron-double';
import type { BrowserWindowDouble, DoubleOptions } from '../harness/electron-double';

const DOUBLE_KEY = '__pinStationElectronDouble';
// Vitest keeps a mocked module across resetModules, so each export reads the current test's double when used.
vi.mock('electron', () => {
  const current = (): Record<string, unknown> => ((globalThis as unknown as Record<string, ElectronDouble | undefined>)[DOUBLE_KEY] as ElectronDouble).module;
  const names = ['app', 'BrowserWindow', 'ipcMain', 'powerMonitor', 'screen', 'session', 'shell', 'protocol'];
  return Object.defineProperties({}, Object.fromEntries(names.map((name) => [name, { enumerable: true, get: () => current()[name] }])));
});

const root = join(import.meta.dirname, '..', '..');
const bundle = join(root, 'out', 'main', 'index.js');
const OPERATOR_URL = 'app://station/operator/index.html';
const PINPAD_URL = 'app://station/pinpad/index.html';
const DT = '2026-01-01T00:00:00+00:00';
/**
 * How long a wait for something the app does on its own may take. vi.waitFor's default (1 s) fails on a busy
 * machine; each wait ends as soon as its condition holds, so this bound costs nothing when things go well.
 */
const SETTLE = { timeout: 30_000, interval: 50 } as const;

interface Rig {
  readonly double: ElectronDouble;
  readonly userData: string;
  readonly service: string;
  readonly operatorAccount: { readonly username: string; readonly password: string; readonly code: string };
  operator(): BrowserWindowDouble;
  pinpad(): BrowserWindowDouble;
  fromOperator(channel: string, arg?: unknown): Promise<IpcResult<unknown>>;
  fromPinpad(channel: string, arg?: unknown): Promise<IpcResult<unknown>>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A loopback processor whose answers are held until the test releases them. */
async function heldProcessor(): Promise<{ url: string; arrived: () => number; release: () => void }> {
  let arrived = 0;
  const waiting: (() => void)[] = [];
  let released = false;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      arrived++;
      const answer = () => {
        const body = JSON.stringify({ status: 'ok', request_status: 'pin_generated', dt: DT });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      if (released) answer();
      else waiting.push(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrived: () => arrived,
    release: () => {
      released = true;
      for (const answer of waiting.splice(0)) answer();
    },
  };
}

/**
 * Loads a fresh copy of the built main bundle against a new double, with
 * config.json (text as given) and the keychain entries the station needs.
 */
/** out/ as an installer lays it out: the main bundle without the emulator chunk (electron-builder.yml leaves it out). */
function installedLayout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pin-station-installed-'));
  cpSync(join(root, 'out'), join(dir, 'out'), { recursive: true, filter: (source) => !/sandbox-emulator-[\w-]+\.js$/.test(source) });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'out', 'main', 'index.js');
}

async function loadApp(configFor: (service: string) => string, doubleOptions: Omit<DoubleOptions, 'appData'> = {}, mainBundle = bundle): Promise<Rig> {
  if (!existsSync(mainBundle)) throw new Error(`${mainBundle} is missing; run "npm run build" first`);
  const appData = mkdtempSync(join(tmpdir(), 'pin-station-wiring-'));
  const userData = join(appData, 'pin-station');
  mkdirSync(userData, { recursive: true });
  const service = `pin-station-test-${randomBytes(6).toString('hex')}`;
  writeFileSync(join(userData, 'config.json'), configFor(service));
  const keyStore = new KeytarKeyStore(service);
  await keyStore.set('pin-key', randomBytes(32).toString('hex').toUpperCase());
  await keyStore.set('api-token', `test-${randomBytes(18).toString('base64url')}`);
  // One operator account in the station's own accounts file, as `npm run staff -- add` would make it.
  const operatorAccount = { username: 'wiring.op', password: `pw-${randomBytes(12).toString('base64url')}`, code: '' };
  await new LocalAccountStore(staffFilePath(userData), keyStore).add({
    username: operatorAccount.username,
    password: operatorAccount.password,
    roles: ['operator'],
  });

  const double = new ElectronDouble({ appData, ...doubleOptions });
  (globalThis as Record<string, unknown>)[DOUBLE_KEY] = double;
  const listenersBefore = { uncaught: process.listeners('uncaughtException'), rejection: process.listeners('unhandledRejection') };
  const stderr: string[] = [];
  const writeStderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  });
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  cleanups.push(async () => {
    // Let a close in progress finish before the keychain entries and folders go. One that never finishes is this
    // test's failure: its app's timers would otherwise run on into the next test, which no longer has this double.
    if (!double.app.exited) double.app.quit();
    const quitting = vi.waitFor(() => expect(double.app.exited, 'the app did not finish quitting').not.toBeNull(), { ...SETTLE, timeout: 90_000 });
    await quitting.catch(() => undefined);
    for (const listener of process.listeners('uncaughtException')) if (!listenersBefore.uncaught.includes(listener)) process.off('uncaughtException', listener);
    for (const listener of process.listeners('unhandledRejection'))
      if (!listenersBefore.rejection.includes(listener)) process.off('unhandledRejection', listener);
    writeStderr.mockRestore();
    log.mockRestore();
    for (const account of ['pin-key', 'api-token', 'audit-key', 'staff-key', 'staff-generation'] as const) await keyStore.delete(account).catch(() => false);
    rmSync(appData, { recursive: true, force: true });
    delete (globalThis as Record<string, unknown>)[DOUBLE_KEY];
    await quitting;
  });

  vi.resetModules();
  await import(/* @vite-ignore */ `${mainBundle}?wiring=${randomBytes(4).toString('hex')}`);
  rigStderr.set(double, stderr);
  const find = (title: string) => () => {
    const win = double.window(title);
    if (!win) throw new Error(`no ${title} window`);
    return win;
  };
  const operator = find('PIN Station');
  const pinpad = find('PIN pad');
  return {
    double,
    userData,
    service,
    operatorAccount,
    operator,
    pinpad,
    fromOperator: (channel, arg = null) =>
      double.invoke(channel, arg, { contents: operator().webContents, frameUrl: OPERATOR_URL }) as Promise<IpcResult<unknown>>,
    fromPinpad: (channel, arg = null) => double.invoke(channel, arg, { contents: pinpad().webContents, frameUrl: PINPAD_URL }) as Promise<IpcResult<unknown>>,
  };
}

const rigStderr = new WeakMap<ElectronDouble, string[]>();

/** The trail's card records (sign-in and other staff records are left out). */
function cardRecords(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.type === undefined);
}

async function readyWithWindows(rig: Rig, count: number): Promise<void> {
  rig.double.app.becomeReady();
  const open = () => rig.double.windows.filter((win) => !win.destroyed);
  // The windows come once start-up (keychain, trail) is over, in one step: wait for that, however long a busy
  // machine takes, then count. One window where two were expected is the cannot-start window: say why.
  await vi.waitFor(() => expect(open().length).toBeGreaterThan(0), SETTLE);
  if (open().length !== count) {
    const view = await operatorView(rig).catch((error: unknown) => String(error));
    expect.fail(
      `expected ${count} window(s), saw ${open().length}; the operator window shows ${JSON.stringify(typeof view === 'string' ? view : (view.error ?? view.phase))}`,
    );
  }
  // A running station: the operator signs in first, as at the desk.
  if (count === 2) expect(await rig.fromOperator('staff:sign-in', rig.operatorAccount)).toMatchObject({ ok: true });
  // Windows show on ready-to-show, which the double emits right after loadURL.
  await new Promise((resolve) => setImmediate(resolve));
}

const configWith =
  (processorUrl: string, extra: Record<string, unknown> = {}) =>
  (service: string) =>
    // Dual control off unless a test asks for it: these tests are about the wiring, not the approval rules.
    // The wiring under test is Electron's; the second factor is covered by test/e2e/mfa.test.ts.
    JSON.stringify({
      processor: { baseUrl: processorUrl, retries: 0 },
      keychain: { service },
      approval: { require: [] },
      auth: { mfa: 'off' },
      profile: 'gcm',
      ...extra,
    });

async function operatorView(rig: Rig): Promise<OperatorView> {
  const result = await rig.fromOperator('station:get-state');
  if (!result.ok) throw new Error(`get-state failed: ${result.error.code}`);
  return result.value as OperatorView;
}

async function startCustomerEntry(rig: Rig): Promise<void> {
  expect(await rig.fromOperator('station:start', { cardId: 'WIRE-1', mode: 'customer' })).toMatchObject({ ok: true });
  await vi.waitFor(() => expect(rig.pinpad().onTop).toBe(true), SETTLE);
}

describe('start-up wiring', () => {
  it('registers the app scheme as privileged before ready and serves it after', async () => {
    const processor = await heldProcessor();
    const rig = await loadApp(configWith(processor.url));
    expect(rig.double.privilegedSchemes).toEqual([
      { schemes: [{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }], beforeReady: true },
    ]);
    expect(rig.double.protocolHandlers.has('app')).toBe(false);
    await readyWithWindows(rig, 2);
    expect(rig.double.protocolHandlers.has('app')).toBe(true);
  });

  it('both windows come from the window factory, with their own preload and page', async () => {
    const processor = await heldProcessor();
    const rig = await loadApp(configWith(processor.url));
    await readyWithWindows(rig, 2);
    for (const [win, role, url] of [
      [rig.operator(), 'operator', OPERATOR_URL],
      [rig.pinpad(), 'pinpad', PINPAD_URL],
    ] as const) {
      const preload = (win.options.webPreferences as { preload: string }).preload;
      expect(preload.endsWith(join('out', 'preload', `${role}.cjs`))).toBe(true);
      expect(existsSync(preload)).toBe(true);
      const expected = windowOptions(role, preload, false, undefined, false);
      expect(win.options.webPreferences).toEqual(webPreferences(role, preload, false));
      for (const key of ['title', 'frame', 'focusable', 'show'] as const) expect(win.options[key]).toEqual(expected[key]);
      expect(win.loadedUrl).toBe(url);
      expect(win.menuRemoved).toBe(true);
    }
    expect(rig.pinpad().contentProtection).toBe(true);
    // The operator window has the keyboard; the idle pad appeared without taking it.
    expect(rig.operator().visible && rig.pinpad().visible).toBe(true);
    expect(rig.double.focused).toBe(rig.operator());
  });

  it('every web-contents guard is attached to each window: navigation, redirects, window.open, webviews, context menu', async () => {
    const processor = await heldProcessor();
    const rig = await loadApp(configWith(processor.url));
    await readyWithWindows(rig, 2);
    for (const win of [rig.operator(), rig.pinpad()]) {
      for (const eventName of ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview', 'context-menu']) {
        const event = new PreventableEvent();
        win.webContents.emit(eventName, event, { url: 'https://evil.example/' });
        expect(event.defaultPrevented, `${eventName} on ${String(win.options.title)}`).toBe(true);
      }
      expect(win.webContents.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    }
  });

  it('permissions, device access and display capture are refused for the session; a check passes only for audio output on the pad page', async () => {
    const processor = await heldProcessor();
    const rig = await loadApp(configWith(processor.url, { pad: { audio: { outputDevice: 'USB Handset' } } }));
    await readyWithWindows(rig, 2);
    const answers: boolean[] = [];
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read'])
      rig.double.session.permissionRequest?.({}, permission, (allow) => answers.push(allow));
    expect(answers).toEqual([false, false, false, false]);
    // Checks: refused, except what audio guidance needs on the pad's own page (output labels, choosing an output).
    const check = rig.double.session.permissionCheck;
    const pad = rig.double.windows.find((win) => win.loadedUrl?.includes('pinpad'));
    const operator = rig.double.windows.find((win) => win !== pad);
    if (!check || !pad?.loadedUrl || !operator?.loadedUrl) throw new Error('no permission check handler or windows');
    const padPage = { requestingUrl: pad.loadedUrl, isMainFrame: true };
    expect(check(pad.webContents, 'media', 'app://pinpad', { ...padPage, mediaType: 'audio' })).toBe(true);
    expect(check(pad.webContents, 'speaker-selection', 'app://pinpad', padPage)).toBe(true);
    expect(check(pad.webContents, 'media', 'app://pinpad', { ...padPage, mediaType: 'video' })).toBe(false);
    for (const permission of ['geolocation', 'notifications', 'clipboard-read', 'hid', 'serial', 'usb'])
      expect(check(pad.webContents, permission, 'app://pinpad', padPage), permission).toBe(false);
    expect(check(pad.webContents, 'media', 'app://pinpad', { requestingUrl: pad.loadedUrl, isMainFrame: false, mediaType: 'audio' })).toBe(false);
    expect(check(pad.webContents, 'media', 'https://evil.example', { requestingUrl: 'https://evil.example/', isMainFrame: true, mediaType: 'audio' })).toBe(
      false,
    );
    expect(check(operator.webContents, 'media', 'app://operator', { requestingUrl: operator.loadedUrl, isMainFrame: true, mediaType: 'audio' })).toBe(false);
    expect(check(null, 'media', '', { mediaType: 'audio' })).toBe(false);
  });

  it('without an audio output configured, even the pad page passes no permission check', async () => {
    const processor = await heldProcessor();
    const rig = await loadApp(configWith(processor.url));
    await readyWithWindows(rig, 2);
    const pad = rig.double.windows.find((win) => win.loadedUrl?.includes('pinpad'));
    if (!rig.double.session.permissionCheck || !pad?.loadedUrl) throw new Error('no permission check handler or pad');
    const padPage = { requestingUrl: pad.loadedUrl, isMainFrame: true };
    expect(rig.double.session.permissionCheck(pad.webContents, 'media', 'app://pinpad', { ...padPage, mediaType: 'audio' })).toBe(false);
    expect(rig.double.session.permissionCheck(pad.webContents, 'speaker-selection', 'app://pinpad', padPage)).toBe(false);
    expect(rig.double.session.devicePermission?.()).toBe(false);
    let streams: unknown = 'not answered';
    rig.double.session.displayMedia?.({}, (value) => (streams = value));
    expect(streams).toEqual({});
  });

  it('every IPC channel is handled, and only through the sender check', async () => {
    const processor = await heldProcessor();
    const rig = await loadApp(configWith(processor.url));
    await readyWithWindows(rig, 2);
    expect([...rig.double.handlers.keys()].sort()).toEqual([...OPERATOR_CHANNELS, ...PINPAD_CHANNELS].sort());
    const stranger = { id: 9_999 };
    for (const channel of [...OPERATOR_CHANNELS, ...PINPAD_CHANNELS]) {
      const results = [
        await rig.double.invoke(channel, null, { contents: stranger, frameUrl: OPERATOR_URL }),
        await rig.double.invoke(channel, null, { contents: rig.operator().webContents, frameUrl: 'app://station/pinpad/index.html', mainFrame: true }),
        await rig.double.invoke(channel, null, { contents: rig.pinpad().webContents, frameUrl: PINPAD_URL, mainFrame: false }),
        await rig.double.invoke(channel, null, { contents: rig.operator().webContents, frameUrl: 'https://evil.example/operator/index.html' }),
      ];
      for (const result of results) expect(result, channel).toMatchObject({ ok: false, error: { code: 'WRONG_WINDOW' } });
    }
    // The right window on its own page gets through, and only to its own channels.
    expect(await rig.fromOperator('station:get-state')).toMatchObject({ ok: true, value: { phase: 'idle' } });
    expect(await rig.fromPinpad('pinpad:get-state')).toMatchObject({ ok: true, value: { active: false } });
    expect(await rig.fromPinpad('station:get-state')).toMatchObject({ ok: false, error: { code: 'WRONG_WINDOW' } });
  });
});

describe('the OS locks the station with the computer', () => {
  it('lock-screen and suspend lock the staff session, cancelling an entry in progress', async () => {
    const processor = await heldProcessor();
    const rig = await loadApp(configWith(processor.url));
    await readyWithWindows(rig, 2);
    await startCustomerEntry(rig);
    rig.double.powerMonitor.emit('lock-screen');
    await vi.waitFor(async () => expect((await operatorView(rig)).staff).toMatchObject({ state: 'locked', username: 'wiring.op' }), SETTLE);
    expect(await rig.fromPinpad('pinpad:get-state')).toMatchObject({ ok: true, value: { active: false, count: 0 } });
    expect(await rig.fromOperator('station:start', { cardId: 'WIRE-2', mode: 'processor' })).toMatchObject({ ok: false, error: { code: 'SESSION_LOCKED' } });
    expect(await rig.fromOperator('staff:unlock', rig.operatorAccount)).toMatchObject({ ok: true });
    rig.double.powerMonitor.emit('suspend');
    await vi.waitFor(async () => expect((await operatorView(rig)).staff.state).toBe('locked'), SETTLE);
    expect(processor.arrived()).toBe(0);
    expect(rig.double.openedExternally).toEqual([]);
  });
});

describe('the OS lock where no lock-screen event exists (Linux)', () => {
  it('an idle state of "locked" locks the staff session within the poll interval', async () => {
    const processor = await heldProcessor();
    const rig = await loadApp(configWith(processor.url));
    await readyWithWindows(rig, 2);
    rig.double.powerMonitor.idleState = 'locked';
    // One poll interval (5 s), plus however late a busy machine runs the timer.
    await vi.waitFor(async () => expect((await operatorView(rig)).staff.state).toBe('locked'), { timeout: 5_000 + SETTLE.timeout, interval: 250 });
  }, 90_000);
});

describe('quitting waits for work in flight', () => {
  it('every quit waits for the request and its audit record; from the first, nothing new starts', async () => {
    const processor = await heldProcessor();
    const rig = await loadApp(configWith(processor.url));
    await readyWithWindows(rig, 2);
    const auditFile = join(rig.userData, 'audit', 'audit.jsonl');
    let recordsAtExit = -1;
    rig.double.app.on('will-quit', () => {
      recordsAtExit = existsSync(auditFile) ? cardRecords(auditFile).length : 0;
    });

    expect(await rig.fromOperator('station:start', { cardId: 'WIRE-Q1', mode: 'processor' })).toMatchObject({ ok: true });
    await vi.waitFor(() => expect(processor.arrived()).toBe(1), SETTLE);

    rig.double.app.quit();
    // A second Ctrl+Q, and the pad window closing, while the answer is still outstanding.
    rig.double.app.quit();
    rig.pinpad().close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(rig.double.app.exited).toBeNull();
    expect(await rig.fromOperator('station:start', { cardId: 'WIRE-Q2', mode: 'processor' })).toMatchObject({ ok: false, error: { code: 'STATION_CLOSING' } });
    expect(await rig.fromOperator('station:next-card')).toMatchObject({ ok: false, error: { code: 'STATION_CLOSING' } });
    expect(processor.arrived()).toBe(1);

    processor.release();
    await vi.waitFor(() => expect(rig.double.app.exited).toEqual({ how: 'quit', code: 0 }), SETTLE);
    // The record of the request was on disk before the process was allowed to end.
    expect(recordsAtExit).toBe(1);
    expect(cardRecords(auditFile)).toEqual([expect.objectContaining({ cardId: 'WIRE-Q1', outcome: 'pin-generated', operator: 'wiring.op' })]);
  });

  it('quitting during entry cancels it, records the cancel, then exits', async () => {
    const processor = await heldProcessor();
    const rig = await loadApp(configWith(processor.url));
    await readyWithWindows(rig, 2);
    await startCustomerEntry(rig);
    rig.double.app.quit();
    await vi.waitFor(() => expect(rig.double.app.exited).not.toBeNull(), SETTLE);
    expect(cardRecords(join(rig.userData, 'audit', 'audit.jsonl'))).toEqual([
      expect.objectContaining({ cardId: 'WIRE-1', outcome: 'cancelled', errorCode: 'PIN_CANCELLED', operator: 'wiring.op' }),
    ]);
    expect(processor.arrived()).toBe(0);
  });
});

describe('the pad and the keyboard', () => {
  it('by default the pad shows on top for entry but never takes the keyboard; afterwards it is reloaded and drops back', async () => {
    const processor = await heldProcessor();
    const rig = await loadApp(configWith(processor.url));
    await readyWithWindows(rig, 2);
    expect(rig.pinpad().focusable).toBe(false);
    await startCustomerEntry(rig);
    expect(rig.double.focused).toBe(rig.operator());
    expect(await rig.fromOperator('station:cancel')).toMatchObject({ ok: true });
    await vi.waitFor(() => expect(rig.pinpad().onTop).toBe(false), SETTLE);
    expect(rig.pinpad().webContents.reloads).toBe(1);
    expect(rig.double.focused).toBe(rig.operator());
  });

  it('with pad.keyboardInput the pad takes focus for entry and gives it back to the operator window afterwards', async () => {
    const processor = await heldProcessor();
    const rig = await loadApp(configWith(processor.url, { pad: { keyboardInput: true } }));
    await readyWithWindows(rig, 2);
    await startCustomerEntry(rig);
    expect(rig.double.focused).toBe(rig.pinpad());
    expect(await rig.fromPinpad('pinpad:cancel')).toMatchObject({ ok: true });
    await vi.waitFor(() => expect(rig.double.focused).toBe(rig.operator()), SETTLE);
  });

  it('with pad.keyboardInput, a pad that could not be focused at the start of entry is wiped after pad.blurTimeoutMs', async () => {
    const processor = await heldProcessor();
    const rig = await loadApp(configWith(processor.url, { pad: { keyboardInput: true, blurTimeoutMs: 1_000 } }));
    await readyWithWindows(rig, 2);
    rig.pinpad().refusesFocus = true;
    await startCustomerEntry(rig);
    expect(rig.double.focused).toBe(rig.operator());
    await vi.waitFor(async () => expect((await operatorView(rig)).error?.code).toBe('PIN_TIMEOUT'), SETTLE);
    expect((await operatorView(rig)).phase).toBe('failed');
  });
});

describe('a start-up that fails', () => {
  it('a bad config shows the cannot-start screen in the operator window only, and every action is refused', async () => {
    const rig = await loadApp(() => '{"pin": {"minLength": 3}}');
    await readyWithWindows(rig, 1);
    const view = await operatorView(rig);
    expect(view).toMatchObject({ phase: 'unavailable', error: { code: 'CONFIG_INVALID' } });
    expect(view.error?.message).toContain('pin.minLength');
    expect(rig.double.window('PIN pad')).toBeUndefined();
    expect(await rig.fromOperator('station:start', { cardId: 'X', mode: 'processor' })).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID' } });
  });

  it('an installed station (no emulator chunk on disk) starts, refuses the sandbox processor and never loads the emulator', async () => {
    const rig = await loadApp(
      (service) => JSON.stringify({ processor: { baseUrl: 'sandbox' }, keychain: { service } }),
      { isPackaged: true },
      installedLayout(),
    );
    await readyWithWindows(rig, 1);
    const view = await operatorView(rig);
    expect(view).toMatchObject({ phase: 'unavailable', error: { code: 'CONFIG_INVALID' } });
    expect(view.error?.message).toContain('processor.baseUrl');
    // The emulator would have made its keys under its own keychain service on first use.
    expect(await new KeytarKeyStore('pin-station-sandbox').get('api-token')).toBeNull();
  });

  it('an installed station (no emulator chunk on disk) with a configured processor starts with both windows', async () => {
    const processor = await heldProcessor();
    const rig = await loadApp(configWith(processor.url), { isPackaged: true }, installedLayout());
    await readyWithWindows(rig, 2);
    expect(await operatorView(rig)).toMatchObject({ phase: 'idle', usingSandboxProcessor: false });
  });

  it('a failure while hardening shows no window at all: one line on stderr and exit code 1', async () => {
    const processor = await heldProcessor();
    const rig = await loadApp(configWith(processor.url), { failHardening: true });
    rig.double.app.becomeReady();
    await vi.waitFor(() => expect(rig.double.app.exited).toEqual({ how: 'exit', code: 1 }), SETTLE);
    expect(rig.double.windows).toHaveLength(0);
    const lines = (rigStderr.get(rig.double) ?? []).join('').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^PIN Station cannot start \(hardening, Error\): INTERNAL: /);
  });

  it('when no window can be made, it exits with code 1 and says why on stderr', async () => {
    const processor = await heldProcessor();
    const rig = await loadApp(configWith(processor.url), { failWindows: true });
    rig.double.app.becomeReady();
    await vi.waitFor(() => expect(rig.double.app.exited).toEqual({ how: 'exit', code: 1 }), SETTLE);
    expect((rigStderr.get(rig.double) ?? []).join('')).toMatch(/PIN Station cannot start \(unavailable window, Error\): INTERNAL: /);
  });
});

describe('pin-station --admin (main/admin/entry.ts)', () => {
  interface AdminRun {
    readonly double: ElectronDouble;
    readonly calls: readonly string[];
    readonly stdout: string;
    readonly stderr: string;
    readonly exitCodeSet: number | string | null | undefined;
  }

  /**
   * Loads the built bundle as `electron out/main/index.js <argv…>` would start it: argv[1] is the bundle itself
   * and process.versions.electron is set, so a CLI bundled in would start itself if nothing stopped it.
   */
  async function runBundle(
    argvTail: readonly string[],
    prepare: (userData: string) => Promise<void> = async () => undefined,
    settled: (double: ElectronDouble, calls: readonly string[]) => void = (double) => expect(double.app.exited).not.toBeNull(),
  ): Promise<AdminRun> {
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing; run "npm run build" first`);
    const appData = mkdtempSync(join(tmpdir(), 'pin-station-admin-wiring-'));
    cleanups.push(() => rmSync(appData, { recursive: true, force: true }));
    await prepare(join(appData, 'pin-station'));
    const double = new ElectronDouble({ appData });
    const calls: string[] = [];
    Object.assign(double.app, {
      disableHardwareAcceleration: () => void calls.push('disableHardwareAcceleration'),
      requestSingleInstanceLock: () => (calls.push('requestSingleInstanceLock'), true),
      whenReady: () => (calls.push('whenReady'), new Promise<void>(() => undefined)),
    });
    (globalThis as Record<string, unknown>)[DOUBLE_KEY] = double;
    let stdout = '';
    let stderr = '';
    const capture =
      (append: (text: string) => void) =>
      (chunk: string | Uint8Array, ...rest: unknown[]) => {
        append(String(chunk));
        const callback = rest.find((arg): arg is () => void => typeof arg === 'function');
        callback?.();
        return true;
      };
    const writeOut = vi.spyOn(process.stdout, 'write').mockImplementation(capture((text) => (stdout += text)) as typeof process.stdout.write);
    const writeErr = vi.spyOn(process.stderr, 'write').mockImplementation(capture((text) => (stderr += text)) as typeof process.stderr.write);
    const listenersBefore = { uncaught: process.listeners('uncaughtException'), rejection: process.listeners('unhandledRejection') };
    const argv = process.argv;
    const exitCodeBefore = process.exitCode;
    process.argv = [process.execPath, bundle, ...argvTail];
    Object.defineProperty(process.versions, 'electron', { value: '41.10.0', configurable: true, enumerable: true });
    let exitCodeSet: AdminRun['exitCodeSet'];
    try {
      vi.resetModules();
      await import(/* @vite-ignore */ `${bundle}?admin=${randomBytes(4).toString('hex')}`);
      await vi.waitFor(() => settled(double, calls), SETTLE);
    } finally {
      exitCodeSet = process.exitCode;
      process.exitCode = exitCodeBefore;
      process.argv = argv;
      delete (process.versions as Record<string, string | undefined>).electron;
      writeOut.mockRestore();
      writeErr.mockRestore();
      delete (globalThis as Record<string, unknown>)[DOUBLE_KEY];
      for (const listener of process.listeners('uncaughtException'))
        if (!listenersBefore.uncaught.includes(listener)) process.off('uncaughtException', listener);
      for (const listener of process.listeners('unhandledRejection'))
        if (!listenersBefore.rejection.includes(listener)) process.off('unhandledRejection', listener);
    }
    return { double, calls, stdout, stderr, exitCodeSet };
  }

  it("runs the command before ready with no window, lock or app scheme; its code goes to app.exit; the data directory is the app's", async () => {
    const service = `pin-station-test-${randomBytes(6).toString('hex')}`;
    const keyStore = new KeytarKeyStore(service);
    cleanups.push(async () => {
      for (const account of ['staff-key', 'staff-generation'] as const) await keyStore.delete(account).catch(() => false);
    });
    const run = await runBundle(['--no-sandbox', '--admin', 'staff', 'list', '--service', service], async (userData) => {
      await new LocalAccountStore(staffFilePath(userData), keyStore).add({
        username: 'admin.wire',
        roles: ['admin'],
        password: `pw-${randomBytes(12).toString('base64url')}`,
      });
    });
    expect(run.double.app.exited).toEqual({ how: 'exit', code: 0 });
    expect(run.stdout.match(/^admin\.wire +admin +- +active$/gm)).toHaveLength(1);
    expect(run.stderr).toBe('');
    expect(run.double.windows).toHaveLength(0);
    expect(run.double.privilegedSchemes).toEqual([]);
    expect(run.double.app.isReadyNow).toBe(false);
    expect(run.calls).toEqual(['disableHardwareAcceleration']);
    // No bundled CLI's own main() ran (it would have set the exit code and printed its own error).
    expect(run.exitCodeSet).toBeUndefined();
  });

  it("a command's failure code goes to app.exit; an unknown command exits 2 with one line", async () => {
    const unknown = await runBundle(['--admin', 'frobnicate']);
    expect(unknown.double.app.exited).toEqual({ how: 'exit', code: 2 });
    expect(unknown.stderr).toBe('admin: error: unknown command; expected keys, audit, staff, policy or help. See pin-station --admin help.\n');
    expect(unknown.double.windows).toHaveLength(0);

    const noTrail = await runBundle(['--admin', 'audit', 'verify', '--service', `pin-station-test-${randomBytes(6).toString('hex')}`]);
    expect(noTrail.double.app.exited).toEqual({ how: 'exit', code: 2 });
    expect(noTrail.stderr).toMatch(/^audit: error: no audit trail at .*pin-station-admin-wiring-\w+\/pin-station\/audit\/audit\.jsonl /);
    expect(noTrail.exitCodeSet).toBeUndefined();
  });

  it('without --admin, the same start takes the lock and waits for ready as before, and no bundled CLI starts', async () => {
    const run = await runBundle(['--no-sandbox'], undefined, (_double, calls) => expect(calls).toContain('whenReady'));
    expect(run.calls).toEqual(['requestSingleInstanceLock', 'whenReady']);
    expect(run.double.privilegedSchemes).toHaveLength(1);
    expect(run.double.app.exited).toBeNull();
    expect(run.stdout + run.stderr).toBe('');
    expect(run.exitCodeSet).toBeUndefined();
  });
});
