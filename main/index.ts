/**
 * Electron adapter: app lifecycle, windows and ipcMain wiring. Everything else
 * lives in main/core and runs without Electron.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, ipcMain, screen, session } from 'electron';
import type { IpcMainInvokeEvent } from 'electron';
import { StationError, toErrorInfo } from '../common/errors';
import { OPERATOR_STATE_EVENT, PINPAD_STATE_EVENT } from '../common/ipc';
import type { PinpadView, WindowRole } from '../common/ipc';
import { startEmbeddedSandbox } from '../sandbox/embedded';
import type { SandboxProcessor } from '../sandbox/processor';
import { SANDBOX_KEYCHAIN_SERVICE } from '../sandbox/provision';
import { registerAppScheme, serveRenderer } from './adapter/app-protocol';
import { choosePadDisplay } from './adapter/displays';
import { senderRole } from './adapter/sender';
import { pageUrl, windowOptions } from './adapter/window-options';
import { parseConfigText, SANDBOX_BASE_URL } from './core/config';
import type { StationConfig } from './core/config';
import { ALL_CHANNELS } from './core/ipc-router';
import { KeytarKeyStore } from './core/keytar-store';
import { fileSink, Logger } from './core/log';
import { AuditLog, auditFilePath } from './core/audit';
import { createStationCore } from './core/station-core';
import { unavailableRouter } from './core/unavailable';
import type { IpcHandler } from './core/unavailable';
import type { StationCore } from './core/station-core';

const here = fileURLToPath(new URL('.', import.meta.url));
const windows: Partial<Record<WindowRole, BrowserWindow>> = {};
let core: StationCore | null = null;
let sandbox: SandboxProcessor | null = null;
let log: Logger | null = null;
let padActive = false;
let blurTimer: NodeJS.Timeout | undefined;

async function loadConfig(): Promise<StationConfig> {
  const path = join(app.getPath('userData'), 'config.json');
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new StationError('CONFIG_INVALID', 'The config file could not be read.');
  }
  const config = parseConfigText(text);
  // An installed station never falls back to the emulator: "sandbox" must be chosen in the file.
  if (app.isPackaged && config.processor.baseUrl === SANDBOX_BASE_URL && !/"baseUrl"\s*:\s*"sandbox"/.test(text)) {
    throw new StationError('CONFIG_INVALID', `processor.baseUrl is not set. Set the card processor's address in ${path}.`);
  }
  return config;
}

function roleOf(event: IpcMainInvokeEvent): WindowRole | null {
  const ids: Partial<Record<WindowRole, number>> = {};
  for (const role of ['operator', 'pinpad'] as const) {
    const win = windows[role];
    if (win && !win.isDestroyed()) ids[role] = win.webContents.id;
  }
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

/** The pad is on top while a cardholder enters a PIN; after each session its page is reloaded so no renderer state survives. */
function onPinpadView(view: PinpadView): void {
  const pad = windows.pinpad;
  send('pinpad', PINPAD_STATE_EVENT, view);
  if (!pad || pad.isDestroyed() || view.active === padActive) return;
  padActive = view.active;
  pad.setAlwaysOnTop(view.active, 'screen-saver');
  if (view.active) {
    pad.show();
    pad.focus();
  } else {
    clearTimeout(blurTimer);
    pad.webContents.reload();
  }
}

function createWindow(role: WindowRole, config: StationConfig): BrowserWindow {
  let padChoice;
  if (role === 'pinpad') {
    padChoice = choosePadDisplay(screen.getAllDisplays(), screen.getPrimaryDisplay(), config.pad.display);
    if (padChoice.fellBack) log?.warn('pinpad.display-fallback', { configured: String(config.pad.display) });
  }
  const win = new BrowserWindow(windowOptions(role, join(here, `../preload/${role}.cjs`), app.isPackaged, padChoice));
  if (role === 'pinpad') {
    win.setContentProtection(true);
    // Losing focus for too long during entry wipes it (someone else may be at the pad).
    win.on('blur', () => {
      clearTimeout(blurTimer);
      if (padActive) blurTimer = setTimeout(() => core?.station.interruptEntry('PIN_TIMEOUT'), config.pad.blurTimeoutMs);
    });
    win.on('focus', () => clearTimeout(blurTimer));
  }
  win.removeMenu();
  win.once('ready-to-show', () => win.show());
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
  session.defaultSession.setPermissionCheckHandler(() => false);
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

async function startCore(config: StationConfig): Promise<void> {
  let processorBaseUrl = config.processor.baseUrl;
  let keyStore = new KeytarKeyStore(config.keychain.service);
  if (processorBaseUrl === SANDBOX_BASE_URL) {
    // The embedded sandbox keeps its keys under its own keychain service.
    keyStore = new KeytarKeyStore(SANDBOX_KEYCHAIN_SERVICE);
    const embedded = await startEmbeddedSandbox(keyStore, config.profile, config.sandbox.faults);
    log?.warn('app.sandbox', { note: 'the embedded sandbox processor is in use; no real card is affected' });
    sandbox = embedded.sandbox;
    processorBaseUrl = embedded.baseUrl;
  }
  log?.info('app.start', { profile: config.profile, sandbox: sandbox !== null });
  let processorCa: string | undefined;
  if (config.processor.caFile) {
    try {
      processorCa = await readFile(config.processor.caFile, 'utf8');
    } catch {
      throw new StationError('CONFIG_INVALID', 'processor.caFile could not be read.');
    }
  }
  core = createStationCore({
    config,
    keyStore,
    processorBaseUrl,
    ...(processorCa ? { processorCa } : {}),
    // The audit key lives with the station's own keys, also when the processor is the sandbox.
    audit: new AuditLog(auditFilePath(app.getPath('userData')), new KeytarKeyStore(config.keychain.service)),
    ...(log ? { log } : {}),
    views: {
      operator: (view) => send('operator', OPERATOR_STATE_EVENT, view),
      pinpad: onPinpadView,
    },
  });
  // Keys are checked now so a missing or malformed one is a clear screen, not a surprise at the first card.
  await core.station.preflight();
  routeIpc(core.router);
}

function routeIpc(router: IpcHandler): void {
  for (const channel of ALL_CHANNELS) {
    ipcMain.removeHandler(channel);
    ipcMain.handle(channel, (event, arg: unknown) => router.handle(roleOf(event), channel, arg));
  }
}

// One data folder whatever the packaged product name: the config, logs and audit trail live here.
app.setPath('userData', join(app.getPath('appData'), 'pin-station'));

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  registerAppScheme();
  app.on('second-instance', () => {
    const operator = windows.operator;
    if (operator) {
      if (operator.isMinimized()) operator.restore();
      operator.focus();
    }
  });
  app.on('window-all-closed', () => app.quit());
  // Quitting waits for a request in flight and for its audit record; entry in progress is cancelled (and recorded).
  let closing = false;
  app.on('before-quit', (event) => {
    if (closing) return;
    closing = true;
    event.preventDefault();
    core?.station.interruptEntry('PIN_CANCELLED');
    void (core?.close() ?? Promise.resolve())
      .catch(() => log?.error('app.close-failed', {}))
      .then(() => sandbox?.stop())
      .finally(() => app.quit());
  });
  // Nothing reaches a screen as a stack trace: unexpected errors are logged by kind only.
  process.on('uncaughtException', (error) => log?.error('app.uncaught', { kind: error.name }));
  process.on('unhandledRejection', () => log?.error('app.unhandled-rejection', {}));
  void app.whenReady().then(async () => {
    hardenSessions();
    serveRenderer(join(here, '../renderer'));
    let config: StationConfig | null = null;
    try {
      config = await loadConfig();
      log = new Logger(config.log.level, [fileSink(join(app.getPath('userData'), 'logs', 'station.log')), { write: (line) => console.log(line) }]);
      await startCore(config);
    } catch (error) {
      // No crash and no stack trace: the operator window shows what is wrong and how to fix it.
      const info = toErrorInfo(error);
      log?.error('app.unavailable', { code: info.code });
      core?.station.dispose();
      core = null;
      routeIpc(unavailableRouter(info));
      createWindow('operator', config ?? parseConfigText(''));
      return;
    }
    createWindow('operator', config);
    createWindow('pinpad', config);
  });
}
