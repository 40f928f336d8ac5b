/**
 * A recording double of the parts of the `electron` module the main process
 * uses, for the wiring contract test: the built main bundle is loaded with
 * this in place of Electron, so what it registers and what it does to its
 * windows can be checked where no Electron binary exists. It models only what
 * the adapter relies on (events, focus, visibility, quitting), not Chromium.
 * It is no substitute for test/electron, which runs the real app.
 */
import { EventEmitter } from 'node:events';

export interface DoubleOptions {
  readonly appData: string;
  readonly isPackaged?: boolean;
  /** Makes `session.defaultSession.setPermissionRequestHandler` throw (a failure while hardening). */
  readonly failHardening?: boolean;
  /** Makes every BrowserWindow constructor throw (no window can be shown). */
  readonly failWindows?: boolean;
}

export class PreventableEvent {
  defaultPrevented = false;
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

type Handler = (event: unknown, arg: unknown) => unknown;

let nextContentsId = 1;

/** What Electron passes a permission check besides the page and the permission. */
export interface PermissionCheckDetails {
  readonly requestingUrl?: string;
  readonly isMainFrame?: boolean;
  readonly mediaType?: 'video' | 'audio' | 'unknown';
}

export class WebContentsDouble extends EventEmitter {
  readonly id = nextContentsId++;
  readonly sent: { channel: string; payload: unknown }[] = [];
  reloads = 0;
  windowOpenHandler: ((details: { url: string }) => unknown) | null = null;
  url = '';

  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload: structuredClone(payload) });
  }
  reload(): void {
    this.reloads++;
  }
  setWindowOpenHandler(handler: (details: { url: string }) => unknown): void {
    this.windowOpenHandler = handler;
  }
}

export class ElectronDouble {
  readonly app: AppDouble;
  readonly windows: BrowserWindowDouble[] = [];
  readonly handlers = new Map<string, Handler>();
  readonly privilegedSchemes: { schemes: unknown; beforeReady: boolean }[] = [];
  readonly protocolHandlers = new Map<string, unknown>();
  readonly session: {
    permissionRequest?: (contents: unknown, permission: string, callback: (allow: boolean) => void) => void;
    permissionCheck?: (contents: { id: number } | null, permission: string, origin: string, details: PermissionCheckDetails) => boolean;
    devicePermission?: () => boolean;
    displayMedia?: (request: unknown, callback: (streams: unknown) => void) => void;
  } = {};
  focused: BrowserWindowDouble | null = null;
  /** The OS's lock and suspend events, and the idle state it reports. */
  readonly powerMonitor = Object.assign(new EventEmitter(), {
    idleState: 'active' as 'active' | 'idle' | 'locked' | 'unknown',
    getSystemIdleState(this: { idleState: string }): string {
      return this.idleState;
    },
  });
  /** Every address handed to the system browser. */
  readonly openedExternally: string[] = [];
  readonly module: Record<string, unknown>;

  constructor(readonly options: DoubleOptions) {
    this.app = new AppDouble(this);
    this.module = {
      app: this.app,
      BrowserWindow: windowClassFor(this),
      ipcMain: {
        handle: (channel: string, handler: Handler) => {
          if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
          this.handlers.set(channel, handler);
        },
        removeHandler: (channel: string) => void this.handlers.delete(channel),
      },
      powerMonitor: this.powerMonitor,
      shell: {
        openExternal: async (url: string) => void this.openedExternally.push(url),
      },
      screen: {
        getAllDisplays: () => [PRIMARY_DISPLAY],
        getPrimaryDisplay: () => PRIMARY_DISPLAY,
      },
      session: {
        defaultSession: {
          setPermissionRequestHandler: (handler: ElectronDouble['session']['permissionRequest']) => {
            if (this.options.failHardening) throw new Error('session unavailable');
            this.session.permissionRequest = handler;
          },
          setPermissionCheckHandler: (handler: ElectronDouble['session']['permissionCheck']) => void (this.session.permissionCheck = handler),
          setDevicePermissionHandler: (handler: () => boolean) => void (this.session.devicePermission = handler),
          setDisplayMediaRequestHandler: (handler: ElectronDouble['session']['displayMedia']) => void (this.session.displayMedia = handler),
        },
      },
      protocol: {
        registerSchemesAsPrivileged: (schemes: unknown) => void this.privilegedSchemes.push({ schemes, beforeReady: !this.app.isReadyNow }),
        handle: (scheme: string, handler: unknown) => void this.protocolHandlers.set(scheme, handler),
      },
    };
  }

  window(title: string): BrowserWindowDouble | undefined {
    return this.windows.find((win) => win.options.title === title && !win.destroyed);
  }

  /** Calls an ipcMain handler as Electron would for a message from `contents`' top frame at `frameUrl`. */
  async invoke(channel: string, arg: unknown, from: { contents: WebContentsDouble | { id: number }; frameUrl: string; mainFrame?: boolean }): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`no handler for ${channel}`);
    const event = {
      sender: from.contents,
      senderFrame: { url: from.frameUrl, parent: from.mainFrame === false ? {} : null },
    };
    return handler(event, arg);
  }

  setFocus(win: BrowserWindowDouble | null): void {
    if (this.focused === win) return;
    const previous = this.focused;
    this.focused = win;
    previous?.emit('blur');
    win?.emit('focus');
  }
}

/** Electron's BrowserWindow as the adapter sees it: constructed with its options only. */
function windowClassFor(double: ElectronDouble): new (options: Record<string, unknown>) => BrowserWindowDouble {
  return class BrowserWindow extends BrowserWindowDouble {
    constructor(windowOptions: Record<string, unknown>) {
      if (double.options.failWindows) throw new Error('window creation failed');
      super(double, windowOptions);
    }
  };
}

const PRIMARY_DISPLAY = { id: 1, bounds: { x: 0, y: 0, width: 1920, height: 1080 } };

export class AppDouble extends EventEmitter {
  readonly paths = new Map<string, string>();
  isReadyNow = false;
  private readyResolve: (() => void) | null = null;
  private readonly readyPromise: Promise<void>;
  exited: { how: 'quit' | 'exit'; code: number } | null = null;
  quitRequests = 0;

  constructor(private readonly double: ElectronDouble) {
    super();
    this.paths.set('appData', double.options.appData);
    this.readyPromise = new Promise((resolve) => (this.readyResolve = resolve));
  }

  get isPackaged(): boolean {
    return this.double.options.isPackaged ?? false;
  }
  getPath(name: string): string {
    const path = this.paths.get(name);
    if (path === undefined) throw new Error(`no path ${name}`);
    return path;
  }
  setPath(name: string, path: string): void {
    this.paths.set(name, path);
  }
  requestSingleInstanceLock(): boolean {
    return true;
  }
  whenReady(): Promise<void> {
    return this.readyPromise;
  }
  /** What Electron does on 'ready'. */
  becomeReady(): void {
    this.isReadyNow = true;
    this.emit('ready');
    this.readyResolve?.();
  }
  /** app.quit(): before-quit may prevent it; otherwise will-quit, then the process ends. */
  quit(): void {
    this.quitRequests++;
    if (this.exited) return;
    const event = new PreventableEvent();
    this.emit('before-quit', event);
    if (event.defaultPrevented) return;
    this.emit('will-quit', new PreventableEvent());
    this.exited = { how: 'quit', code: 0 };
  }
  exit(code = 0): void {
    this.exited ??= { how: 'exit', code };
  }
}

export class BrowserWindowDouble extends EventEmitter {
  readonly webContents = new WebContentsDouble();
  visible = false;
  onTop = false;
  contentProtection = false;
  destroyed = false;
  menuRemoved = false;
  /** A window manager that will not give this window focus. */
  refusesFocus = false;
  loadedUrl: string | null = null;

  constructor(
    private readonly double: ElectronDouble,
    readonly options: Record<string, unknown>,
  ) {
    super();
    double.windows.push(this);
    // As in Electron: every new webContents is announced before anything loads into it.
    double.app.emit('web-contents-created', {}, this.webContents);
  }

  get focusable(): boolean {
    return this.options.focusable !== false;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  isFocused(): boolean {
    return this.double.focused === this;
  }
  isMinimized(): boolean {
    return false;
  }
  restore(): void {}
  setContentProtection(on: boolean): void {
    this.contentProtection = on;
  }
  setAlwaysOnTop(flag: boolean): void {
    this.onTop = flag;
  }
  removeMenu(): void {
    this.menuRemoved = true;
  }
  async loadURL(url: string): Promise<void> {
    this.loadedUrl = url;
    this.webContents.url = url;
    setImmediate(() => this.emit('ready-to-show'));
  }
  show(): void {
    this.visible = true;
    this.focus();
  }
  showInactive(): void {
    this.visible = true;
  }
  focus(): void {
    if (this.destroyed || !this.focusable || this.refusesFocus) return;
    this.double.setFocus(this);
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.double.focused === this) this.double.setFocus(null);
    this.emit('closed');
  }
  close(): void {
    this.destroy();
  }
}
