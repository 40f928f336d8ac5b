/**
 * Electron adapter: app lifecycle, windows and ipcMain wiring. Everything else
 * lives in main/core and runs without Electron; the rules for the pad window
 * and for quitting are decided there and only carried out here.
 * test/integration/electron-wiring-contract.test.ts loads the built bundle of
 * this file with a recording double of `electron` and checks the wiring.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, ipcMain, powerMonitor, screen, session, shell } from 'electron';
import type { IpcMainInvokeEvent } from 'electron';
import { DATA_DIR_NAME } from '../common/domain';
import { StationError, toErrorInfo } from '../common/errors';
import type { StationErrorInfo } from '../common/errors';
import { OPERATOR_STATE_EVENT, PINPAD_STATE_EVENT } from '../common/ipc';
import type { IpcHandler, WindowRole } from '../common/ipc';
import { ALL_CHANNELS } from '../common/ipc-validators';
import { adminArgs } from './admin/entry';
import { runAdminProcess } from './admin/process';
import { registerAppScheme, serveRenderer } from './adapter/app-protocol';
import { choosePadDisplay } from './adapter/displays';
import { senderRole } from './adapter/sender';
import { allowsPermissionCheck } from './adapter/permissions';
import { pageUrl, windowOptions } from './adapter/window-options';
import { parseConfigText, SANDBOX_BASE_URL } from './core/config';
import type { StationConfig } from './core/config';
import { KeytarKeyStore } from './core/keytar-store';
import { fileSink, Logger } from './core/log';
import type { LogFields } from './core/log';
import { AuditLog, auditFilePath } from './core/audit';
import { PadWindowRules } from './core/pad-window';
import { QuitGate } from './core/quit-gate';
import { bootStation } from './core/boot';
import { osPolicySource } from './core/policy/sources';
import type { Processor } from './core/boot';
import type { StationCore } from './core/station-core';
import type { StationViewSink } from './core/station';
import { unavailableRouter } from './core/unavailable';
import { staffFilePath } from './core/staff/accounts';
import { staffOptionsFor } from './core/staff/options';

const here = fileURLToPath(new URL('.', import.meta.url));
const windows: Partial<Record<WindowRole, BrowserWindow>> = {};
let core: StationCore | null = null;
let processorStop: (() => Promise<void>) | null = null;
let log: Logger | null = null;
let padRules: PadWindowRules | null = null;
/** pad.audio.voiceFolder of the running station (a restart applies a change). */
let voiceFolder: string | null = null;

/** An event for the log; before the log exists (config not read yet), one line on stderr. */
function report(level: 'error' | 'warn', event: string, fields: LogFields = {}): void {
  if (log) return log[level](event, fields);
  process.stderr.write(`PIN Station: ${event} ${JSON.stringify(fields)}\n`);
}

const configPath = (): string => join(app.getPath('userData'), 'config.json');

async function readConfigText(): Promise<string> {
  try {
    return await readFile(configPath(), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new StationError('CONFIG_INVALID', 'The config file could not be read.');
  }
}

function windowIds(): Partial<Record<WindowRole, number>> {
  const ids: Partial<Record<WindowRole, number>> = {};
  for (const role of ['operator', 'pinpad'] as const) {
    const win = windows[role];
    if (win && !win.isDestroyed()) ids[role] = win.webContents.id;
  }
  return ids;
}

function roleOf(event: IpcMainInvokeEvent): WindowRole | null {
  const ids = windowIds();
  try {
    const frame = event.senderFrame;
    return senderRole({ senderId: event.sender.id, frameUrl: frame?.url, isMainFrame: frame !== null && frame.parent === null }, ids);
  } catch {
    // A frame being torn down (the pad reloads after each session) is nobody's.
    return null;
  }
}

function send(role: WindowRole, channel: string, payload: unknown): void {
  const win = windows[role];
  if (win && !win.isDestroyed()) win.webContents.send(channel, payload);
}

function liveWindow(role: WindowRole): BrowserWindow | null {
  const win = windows[role];
  return win && !win.isDestroyed() ? win : null;
}

function padRulesFor(config: StationConfig): PadWindowRules {
  return new PadWindowRules({
    keyboardInput: config.pad.keyboardInput,
    audioGuidance: config.pad.audio.enabled && config.pad.audio.outputDevice !== null,
    blurTimeoutMs: config.pad.blurTimeoutMs,
    onFocusLost: () => core?.station.interruptEntry('PIN_TIMEOUT'),
    controls: {
      raisePad(focus) {
        const pad = liveWindow('pinpad');
        if (!pad) return;
        pad.setAlwaysOnTop(true, 'screen-saver');
        if (focus) {
          pad.show();
          pad.focus();
        } else {
          pad.showInactive();
        }
      },
      // After an audio entry, only once its outcome is spoken (pad-window.ts).
      releasePad() {
        const pad = liveWindow('pinpad');
        if (!pad) return;
        pad.setAlwaysOnTop(false);
        pad.webContents.reload();
      },
      focusOperator() {
        liveWindow('operator')?.focus();
      },
      padHasFocus() {
        return liveWindow('pinpad')?.isFocused() ?? false;
      },
    },
  });
}

function createWindow(role: WindowRole, config: StationConfig): BrowserWindow {
  let padChoice;
  if (role === 'pinpad') {
    padChoice = choosePadDisplay(screen.getAllDisplays(), screen.getPrimaryDisplay(), config.pad.display);
    if (padChoice.fellBack) log?.warn('pinpad.display-fallback', { configured: String(config.pad.display) });
  }
  const preload = join(here, `../preload/${role}.cjs`);
  const win = new BrowserWindow(windowOptions(role, preload, app.isPackaged, padChoice, padRules?.padFocusable ?? false));
  if (role === 'pinpad') {
    win.setContentProtection(true);
    win.on('blur', () => padRules?.padBlurred());
    win.on('focus', () => padRules?.padFocused());
  }
  win.removeMenu();
  // The idle pad never takes focus when it appears; the operator window does.
  win.once('ready-to-show', () => (role === 'pinpad' ? win.showInactive() : win.show()));
  win.on('closed', () => {
    delete windows[role];
    app.quit();
  });
  win.loadURL(pageUrl(role)).catch(() => log?.error('window.load-failed', { role }));
  windows[role] = win;
  return win;
}

function hardenSessions(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler((contents, permission, _origin, details) =>
    allowsPermissionCheck(
      {
        contentsId: contents?.id ?? null,
        permission,
        requestingUrl: details.requestingUrl,
        isMainFrame: details.isMainFrame ?? false,
        mediaType: 'mediaType' in details ? details.mediaType : undefined,
      },
      windowIds(),
      padRules?.audioOffered === true,
    ),
  );
  session.defaultSession.setDevicePermissionHandler(() => false);
  session.defaultSession.setDisplayMediaRequestHandler((_request, callback) => callback({}));
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-frame-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('context-menu', (event) => event.preventDefault());
  });
}

/** The processor's address and the keychain holding the keys for it. */
async function startProcessor(config: StationConfig): Promise<Processor> {
  if (config.processor.baseUrl !== SANDBOX_BASE_URL) {
    return { baseUrl: config.processor.baseUrl, keyStore: new KeytarKeyStore(config.keychain.service) };
  }
  // An installed station has no emulator (its chunk is left out of the installer) and never falls back to one.
  if (app.isPackaged) {
    throw new StationError('CONFIG_INVALID', `processor.baseUrl is not set to a card processor. Set the processor's address in ${configPath()}.`);
  }
  // Imported only here, so the emulator is a chunk of its own that the main bundle does not contain.
  const { startEmbeddedSandbox, SANDBOX_KEYCHAIN_SERVICE } = await import('../sandbox/embedded');
  // The embedded sandbox keeps its keys under its own keychain service.
  const keyStore = new KeytarKeyStore(SANDBOX_KEYCHAIN_SERVICE);
  const embedded = await startEmbeddedSandbox(keyStore, config.profile, config.sandbox.faults);
  log?.warn('app.sandbox', { note: 'the embedded sandbox processor is in use; no real card is affected' });
  return { baseUrl: embedded.baseUrl, keyStore, stop: () => embedded.sandbox.stop() };
}

/** What the station's views do to the windows: the state goes to each page, and the pad's window follows its rules. */
function viewsFor(config: StationConfig): StationViewSink {
  const rules = padRulesFor(config);
  padRules = rules;
  return {
    operator: (view) => send('operator', OPERATOR_STATE_EVENT, view),
    pinpad: (view) => {
      // A page about to be reloaded would only start the new entry's prompt to have it cut: the fresh page asks for the view.
      if (!rules.reloadsBefore(view)) send('pinpad', PINPAD_STATE_EVENT, view);
      rules.onPinpadView(view);
    },
    outcomeCuePlayed: () => rules.outcomeCuePlayed(),
  };
}

function routeIpc(router: IpcHandler): void {
  for (const channel of ALL_CHANNELS) {
    ipcMain.removeHandler(channel);
    ipcMain.handle(channel, (event, arg: unknown) => router.handle(roleOf(event), channel, arg));
  }
}

const OS_LOCK_POLL_MS = 5_000;

/** Only HTTPS goes to the OS (an identity provider's metadata could name any scheme); plain HTTP only to this computer. */
async function openInSystemBrowser(url: string): Promise<void> {
  const target = new URL(url);
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(target.hostname);
  if (target.protocol !== 'https:' && !(target.protocol === 'http:' && loopback)) {
    throw new StationError('SSO_FAILED', 'The sign-in address is not an HTTPS address.');
  }
  await shell.openExternal(target.href);
}

/** When no window can be shown: one line on stderr, and a non-zero exit. */
function exitFatally(stage: string, error: unknown): void {
  const info = toErrorInfo(error);
  const kind = error instanceof Error ? error.name : typeof error;
  process.stderr.write(`PIN Station cannot start (${stage}, ${kind}): ${info.code}: ${info.message}\n`);
  app.exit(1);
}

/** A station that cannot start shows why and how to fix it, in the operator window only. */
async function showUnavailable(error: StationErrorInfo, config: StationConfig | null): Promise<void> {
  try {
    padRules?.dispose();
    padRules = null;
    await core?.close().catch(() => undefined);
    core = null;
    await processorStop?.().catch(() => undefined);
    processorStop = null;
    // A start that failed half-way may have made windows: they go without quitting the app.
    for (const role of ['operator', 'pinpad'] as const) {
      const win = windows[role];
      delete windows[role];
      if (win && !win.isDestroyed()) {
        win.removeAllListeners('closed');
        win.destroy();
      }
    }
    routeIpc(unavailableRouter(error));
    createWindow('operator', config ?? parseConfigText(''));
  } catch (windowError) {
    exitFatally('unavailable window', windowError);
  }
}

async function onReady(): Promise<void> {
  // No window is ever shown without these guards, so a failure here ends the process.
  try {
    hardenSessions();
    serveRenderer(join(here, '../renderer'), () => voiceFolder);
  } catch (error) {
    return exitFatally('hardening', error);
  }
  const boot = await bootStation({
    readConfigText,
    // The OS's own policy location only (main/core/policy/sources.ts): nothing a user can set moves it.
    policy: osPolicySource(),
    processorFor: startProcessor,
    loggerFor: (config) =>
      (log = new Logger(config.log.level, [fileSink(join(app.getPath('userData'), 'logs', 'station.log')), { write: (line) => console.log(line) }])),
    // Boot picks the folder under it (the sandbox's own for practice); the keychain is the processor's: the
    // station's service, or the sandbox's, so practice records and accounts never mix with real ones.
    dataDir: app.getPath('userData'),
    auditFor: (_config, processor, dataDir) => new AuditLog(auditFilePath(dataDir), processor.keyStore),
    viewsFor,
    staffFor: (config, processor, dataDir) =>
      staffOptionsFor(config, {
        accountsFile: staffFilePath(dataDir),
        keyStore: processor.keyStore,
        openBrowser: (url) => openInSystemBrowser(url),
        log,
      }),
  });
  // The cannot-start window says why; if it cannot be shown either, exitFatally writes the one stderr line.
  if (boot.kind === 'unavailable') return showUnavailable(boot.error, boot.config);
  core = boot.core;
  voiceFolder = boot.config.pad.audio.voiceFolder;
  processorStop = boot.processor.stop ?? null;
  // The screen locks with the computer: a station left at the OS lock screen is not left signed in.
  // 'lock-screen' exists on macOS and Windows only; elsewhere the idle state says 'locked' where the desktop tells.
  powerMonitor.on('lock-screen', () => void core?.staff.lock('os'));
  powerMonitor.on('suspend', () => void core?.staff.lock('os'));
  const osLockPoll = setInterval(() => {
    if (powerMonitor.getSystemIdleState(60) === 'locked') void core?.staff.lock('os');
  }, OS_LOCK_POLL_MS);
  app.once('will-quit', () => clearInterval(osLockPoll));
  try {
    routeIpc(boot.router);
    createWindow('operator', boot.config);
    createWindow('pinpad', boot.config);
  } catch (error) {
    report('error', 'app.unavailable', { code: toErrorInfo(error).code, kind: error instanceof Error ? error.name : typeof error });
    await showUnavailable(toErrorInfo(error), boot.config);
  }
}

// Every quit waits until a request in flight and its audit record have settled; from the first, nothing new starts.
const quitGate = new QuitGate(
  async () => {
    padRules?.dispose();
    await core?.close();
    await processorStop?.();
  },
  () => app.quit(),
  () => report('error', 'app.close-failed'),
);

// One data folder whatever the packaged product name: the config, logs and audit trail live here.
app.setPath('userData', join(app.getPath('appData'), DATA_DIR_NAME));

/**
 * `pin-station --admin <keys|audit|staff> …`: an admin command in the terminal (main/admin/entry.ts), the same as
 * `npm run …` in a checkout. No window, no single-instance lock (it may run beside the station), no app scheme, and
 * no wait for `ready`: the commands need only Node and the keychain.
 */
function runAdminCommand(argv: readonly string[]): void {
  app.disableHardwareAcceleration();
  app.dock?.hide();
  void runAdminProcess(argv, { dataDir: app.getPath('userData') }).then(
    (code) => app.exit(code),
    () => app.exit(1),
  );
}

const admin = adminArgs(process.argv);
if (admin !== null) {
  runAdminCommand(admin);
} else if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  registerAppScheme();
  app.on('second-instance', () => {
    const operator = liveWindow('operator');
    if (operator) {
      if (operator.isMinimized()) operator.restore();
      operator.focus();
    }
  });
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', (event) => {
    if (!quitGate.requestQuit()) event.preventDefault();
  });
  // Nothing reaches a screen as a stack trace: unexpected errors are reported by kind only.
  process.on('uncaughtException', (error) => report('error', 'app.uncaught', { kind: error.name }));
  process.on('unhandledRejection', () => report('error', 'app.unhandled-rejection'));
  app
    .whenReady()
    .then(onReady)
    .catch((error: unknown) => exitFatally('start', error));
}
