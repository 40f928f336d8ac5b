import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { afterEach } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { OPERATOR_STATE_EVENT, PINPAD_STATE_EVENT } from '../../common/ipc';
import type { IpcHandler, WindowRole } from '../../common/ipc';
import { readAppRequest } from '../../main/adapter/app-files';
import { CONTENT_SECURITY_POLICY } from '../../main/adapter/csp';
import type { StationConfigInput } from '../../main/core/config';
import type { KeyStore } from '../../main/core/keystore';
import { KEY_ACCOUNTS, NEXT_PROCESSOR_KEY_ACCOUNT, STATION_ACCOUNTS } from '../../main/core/keystore';
import { KeytarKeyStore } from '../../main/core/keytar-store';
import { fileSink, Logger, memorySink } from '../../main/core/log';
import { AuditLog, auditFilePath } from '../../main/core/audit';
import { bootStation } from '../../main/core/boot';
import { PadWindowRules } from '../../main/core/pad-window';
import type { StationCore } from '../../main/core/station-core';
import { AES256_KEY_HEX } from '../../common/domain';
import type { ProfileName } from '../../common/domain';
import { processorKeyEntry } from '../../main/crypto/processor-key';
import { SandboxProcessor } from '../../sandbox/processor';
import type { SandboxKeys } from '../../sandbox/processor';
import type { Role } from '../../common/staff';
import type { PolicySource } from '../../main/core/policy/sources';
import { LocalAccountStore, staffFilePath } from '../../main/core/staff/accounts';
import { staffOptionsFor } from '../../main/core/staff/options';
import { currentTotp, newTotpSecret, TOTP_PERIOD_SECONDS, totpStep } from '../../main/core/staff/totp';

const repoRoot = normalize(join(import.meta.dirname, '..', '..'));
const outDir = join(repoRoot, 'out');
/** The origin the harness serves the built renderer from; every other request is refused. */
export const HARNESS_ORIGIN = 'http://station.localhost';
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The sandbox's keys plus the public half the station keeps for the public-key profile. */
export interface StationTestKeys extends SandboxKeys {
  /** The processor's public key or its certificate (PEM); stored as `keys import pin-public-key` stores it. */
  readonly pinPublicKeyPem: string;
}

/** What the profile needs, freshly made: an AES pin-key for gcm and iso4; for public-key an RSA pair (the station gets only the public half). */
export function generateTestKeys(profile: ProfileName): Partial<StationTestKeys> {
  const apiToken = `test-${randomBytes(18).toString('base64url')}`;
  if (profile !== 'public-key') return { pinKeyHex: randomBytes(32).toString('hex').toUpperCase(), apiToken };
  const pair = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { apiToken, pinPublicKeyPem: pair.publicKey, privateKeyPem: pair.privateKey };
}

/** A certificate or key is stored normalised, as the keys CLI stores it; anything else as given (tests of bad entries). */
function asStoredProcessorKey(pem: string): string {
  try {
    return processorKeyEntry(pem);
  } catch {
    return pem;
  }
}

/** The options' config as the station's config file would hold it, naming the processor address the harness was given. */
function withProcessorUrl(config: NonNullable<StationConfigInput>, processorUrl: string | undefined): StationConfigInput {
  if (processorUrl === undefined || config.processor?.baseUrl !== undefined) return config;
  return { ...config, processor: { ...config.processor, baseUrl: processorUrl } };
}

/** A local staff account the harness creates before start. */
export interface TestStaffAccount {
  readonly username: string;
  readonly password: string;
  readonly roles: readonly Role[];
  /** The account's TOTP secret (base32). The harness enrols every account it makes: with this, or a fresh one it returns on `staff`. */
  readonly totpSecret?: string;
}

/** The account made when a test names none: an operator, so suites written before sign-in keep working. */
function defaultStaff(): TestStaffAccount[] {
  return [{ username: 'operator.test', password: `pw-${randomBytes(12).toString('base64url')}`, roles: ['operator'] }];
}

export interface LaunchStationOptions {
  /** Processor base URL. When omitted, a fresh sandbox processor is started on loopback. */
  readonly processorUrl?: string;
  /**
   * Config overrides, validated exactly like the station's config file; what is not given has the product's
   * defaults, dual control included (a processor-generated PIN, a repeat and a retry after "outcome unknown" need a
   * supervisor). A test about something else that meets those rules turns them off: `approval: { require: [] }`.
   */
  readonly config?: StationConfigInput;
  /** The text of a config file instead of `config` (to test what a bad file does). */
  readonly configText?: string;
  /**
   * Keychain entries to provision before start (and the sandbox's copies).
   * Defaults to freshly generated keys for the configured profile (with no
   * `profile` in `config`, the default public-key profile: an api-token and
   * the processor's public key, no pin-key); pass `{}` to start with an empty
   * keychain service. `pinPublicKeyPem` may be a public key or a certificate.
   */
  readonly keys?: Partial<StationTestKeys>;
  /** Keychain backend; defaults to keytar on a fresh, randomly named service (use under scripts/with-test-keyring.sh). */
  readonly keyStore?: KeyStore;
  /** Chromium headless mode (default true). */
  readonly headless?: boolean;
  /** Where the station's log also goes (it is always kept in `logLines`); the level comes from config.log. */
  readonly logFile?: string;
  /** Audit trail file; defaults to a fresh file in a temporary folder, removed on close. */
  readonly auditPath?: string;
  /**
   * Local staff accounts to create before start (with `auth.provider: "local"`, the default). When neither this
   * nor `signIn` is given, one operator account ("operator.test", random password) is made and signed in, so
   * suites that predate sign-in keep working unchanged. The accounts, with their passwords, are on the result.
   */
  readonly staff?: readonly TestStaffAccount[];
  /**
   * The user name to sign in (through the operator window's own sign-in form) before returning, or `false` to
   * return at the sign-in screen. Defaults to the first account of `staff`; with `auth.provider: "oidc"` the
   * harness never signs in (the test drives the identity provider's pages).
   */
  readonly signIn?: string | false;
  /**
   * With `auth.provider: "oidc"`: receives the authorization URL the station opens in the system browser.
   * A test drives it in a separate browser page (test/harness/oidc-provider.ts, completeProviderLogin).
   */
  readonly openSystemBrowser?: (url: string) => Promise<void> | void;
  /** A managed policy (main/core/policy/sources.ts), e.g. policyFileSource(file, { ownerUid: process.getuid(), upTo: dir }). */
  readonly policy?: PolicySource;
  /** How often the station reads the policy again (the product: 10 s). */
  readonly policyPollMs?: number;
  /**
   * Labels of the audio outputs the pad page sees (a stand-in for enumerateDevices; default none). The pad's audio
   * player is replaced by a recorder (`audioCues`) that also loads each clip in a muted media element, so a clip
   * missing or refused by the CSP shows as a console error; nothing is routed to a real device.
   */
  readonly audioOutputs?: readonly string[];
}

/** A cue the pad played, with the output device it was routed to. */
export interface PlayedCue {
  readonly cue: string;
  readonly language: string;
}

export interface LaunchedStation {
  /** The operator window's page. */
  readonly operator: Page;
  /** The PIN pad window's page. */
  readonly pinpad: Page;
  /** The real main core (station, IPC router) running in the test process; throws when the station could not start. */
  readonly core: StationCore;
  /** The sandbox processor, when the harness started one. */
  readonly sandbox: SandboxProcessor | null;
  readonly keyStore: KeyStore;
  /** The keys provisioned into the keychain (what the sandbox holds too). */
  readonly keys: Partial<StationTestKeys>;
  readonly processorUrl: string;
  /** The audit trail file this launch writes. */
  readonly auditPath: string;
  /** Every line the station logged, in order. */
  readonly logLines: readonly string[];
  /** Every console message and page error of both pages (for leak sweeps). */
  readonly consoleLines: readonly string[];
  /** The local accounts the harness created, with their passwords and TOTP secrets. */
  readonly staff: readonly (TestStaffAccount & { readonly totpSecret: string })[];
  /**
   * A code from `username`'s authentication app that the station has not seen yet: the current step's, or the
   * next one's (accepted too) when the harness already typed the current one; waits for the next step otherwise.
   */
  authCode(username: string): Promise<string>;
  /** The local accounts file this launch uses. */
  readonly accountsPath: string;
  /** Signs `username` in through the operator window's sign-in form (their password from `staff`). */
  signIn(username: string): Promise<void>;
  /** The audio guidance cues the pad played so far, in order. */
  audioCues(): readonly PlayedCue[];
  /** The cues whose clip was stopped before its end (by the next cue, or by the pad's page reloading), in order. */
  audioCutOff(): readonly PlayedCue[];
  /** When each played cue's play() was called (performance.timeOrigin + performance.now() in the pad page, ms), in the same order. */
  audioCueTimes(): readonly number[];
  /** How many times the pad's page was reloaded (after each entry, as the app does), each counted once the fresh page has loaded. */
  padReloads(): number;
  /** The device label each played cue was routed to, in the same order. */
  audioDevices(): readonly string[];
  close(): Promise<void>;
}

function readBuilt(path: string): string {
  if (!existsSync(path)) throw new Error(`launchStation: ${path} is missing; run "npm run build" first`);
  return readFileSync(path, 'utf8');
}

/**
 * Runs the station without Electron (docs/architecture.md, "Test layers"): the real built
 * renderer pages in Debian Chromium (one browser context per window, so they
 * share nothing), the real built preload bundles (out/preload/*.cjs) evaluated
 * with `contextBridge`/`ipcRenderer` shims, and the real main core in this
 * process, reached from each page through `page.exposeBinding`. The binding
 * knows which page called it, so the router's sender check is exercised just
 * as Electron's `event.sender` check is.
 *
 * Limits of the emulation: the preload runs in the page's main world (there is
 * no context isolation in a plain browser), and Electron-only behaviour
 * (content protection, fuses, window options) is covered by test/electron.
 *
 * @example
 * const station = await launchStation();
 * await station.operator.getByRole('textbox', { name: 'Card ID' }).fill('CARD-1');
 * // ...
 * await station.close();
 */
export async function launchStation(options: LaunchStationOptions = {}): Promise<LaunchedStation> {
  const preloads: Record<WindowRole, string> = {
    operator: readBuilt(join(outDir, 'preload', 'operator.cjs')),
    pinpad: readBuilt(join(outDir, 'preload', 'pinpad.cjs')),
  };
  readBuilt(join(outDir, 'renderer', 'operator', 'index.html'));

  const keyStore = options.keyStore ?? new KeytarKeyStore(`pin-station-test-${randomBytes(6).toString('hex')}`);
  let keys: Partial<StationTestKeys> = options.keys ?? {};
  // Set from inside bootStation's callback, so kept in an object the compiler does not narrow.
  const started: { sandbox: SandboxProcessor | null } = { sandbox: null };
  let processorUrl = options.processorUrl;

  const pages: Partial<Record<WindowRole, Page>> = {};
  const deliveries: Record<WindowRole, Promise<unknown>> = { operator: Promise.resolve(), pinpad: Promise.resolve() };
  // Events go out in order, one page at a time, as webContents.send would deliver them.
  const deliver = (role: WindowRole, channel: string, payload: unknown): void => {
    const page = pages[role];
    if (!page) return;
    deliveries[role] = deliveries[role]
      .then(() =>
        page.evaluate(([ch, value]) => (window as unknown as { __pinStationDeliver?: (c: string, v: unknown) => void }).__pinStationDeliver?.(ch, value), [
          channel,
          payload,
        ] as const),
      )
      .catch(() => undefined);
  };

  const played: PlayedCue[] = [];
  const playedOn: string[] = [];
  const playedAt: number[] = [];
  // Cues (by index into `played`) still sounding, and those stopped before their end.
  const sounding = new Set<number>();
  const cutOff: number[] = [];
  const padRules: { current: PadWindowRules | null } = { current: null };
  let padReloads = 0;
  // As webContents.reload(): in turn with the events already sent, and what was sounding stops mid-clip.
  const reloadPad = (): void => {
    const page = pages.pinpad;
    if (!page) return;
    deliveries.pinpad = deliveries.pinpad
      .then(async () => {
        for (const index of sounding) cutOff.push(index);
        sounding.clear();
        await page.reload();
        // Counted once the fresh page has loaded: a test that waits for the count can then use the page.
        padReloads++;
      })
      .catch(() => undefined);
  };

  const logLines: string[] = [];
  const consoleLines: string[] = [];
  // The station's data folder, as the app's userData: boot chooses the folder under it (the sandbox's own, with
  // the sandbox processor) where the trail and the accounts go; a test may name the trail's file itself.
  const dataDir = mkdtempSync(join(tmpdir(), 'pin-station-data-'));
  const places = { auditPath: options.auditPath ?? auditFilePath(dataDir), accountsPath: staffFilePath(dataDir) };
  const staff = (options.staff ?? (options.signIn === undefined ? defaultStaff() : [])).map((account) => ({
    ...account,
    totpSecret: account.totpSecret ?? newTotpSecret(),
  }));
  const makeAccounts = async (accountsPath: string): Promise<void> => {
    places.accountsPath = accountsPath;
    if (staff.length === 0) return;
    const store = new LocalAccountStore(accountsPath, keyStore);
    for (const account of staff) {
      await store.add(account);
      await store.enrolTotp(account.username, account.totpSecret, null);
    }
  };
  // The last step whose code the harness typed for each account: the station accepts each step once.
  const usedSteps = new Map<string, number>();
  const authCode = async (username: string): Promise<string> => {
    const account = staff.find((candidate) => candidate.username === username);
    if (!account) throw new Error(`launchStation: no test account named ${username}`);
    for (;;) {
      const now = Date.now();
      const current = totpStep(new Date(now));
      // Never the previous step's code: the station might already be in the next step when it checks.
      const step = Math.max(current, (usedSteps.get(username) ?? -1) + 1);
      if (step <= current + 1) {
        usedSteps.set(username, step);
        return currentTotp(account.totpSecret, new Date(step * TOTP_PERIOD_SECONDS * 1000));
      }
      await new Promise((resolve) => setTimeout(resolve, (current + 1) * TOTP_PERIOD_SECONDS * 1000 - now + 50));
    }
  };

  // The app's own start-up (main/core/boot.ts); only where things come from is the harness's.
  const boot = await bootStation({
    readConfigText: async () => options.configText ?? JSON.stringify(withProcessorUrl(options.config ?? {}, options.processorUrl)),
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.policyPollMs ? { policyPollMs: options.policyPollMs } : {}),
    loggerFor: (config) => new Logger(config.log.level, [memorySink(logLines), ...(options.logFile ? [fileSink(options.logFile)] : [])]),
    dataDir,
    auditFor: (_config, _processor, folder) => {
      places.auditPath = options.auditPath ?? auditFilePath(folder);
      return new AuditLog(places.auditPath, keyStore);
    },
    staffFor: async (config, _processor, folder) => {
      await makeAccounts(staffFilePath(folder));
      return staffOptionsFor(config, {
        accountsFile: places.accountsPath,
        keyStore,
        openBrowser: (url) =>
          options.openSystemBrowser ? options.openSystemBrowser(url) : Promise.reject(new Error('launchStation: no openSystemBrowser option')),
      });
    },
    // The app's pad-window rules (main/core/pad-window.ts), with a page reload for the window's: no focus model here.
    viewsFor: (config) => {
      const rules = new PadWindowRules({
        keyboardInput: config.pad.keyboardInput,
        audioGuidance: config.pad.audio.enabled && config.pad.audio.outputDevice !== null,
        blurTimeoutMs: config.pad.blurTimeoutMs,
        onFocusLost: () => undefined,
        controls: { raisePad: () => undefined, releasePad: reloadPad, focusOperator: () => undefined, padHasFocus: () => true },
      });
      padRules.current = rules;
      return {
        operator: (view) => deliver('operator', OPERATOR_STATE_EVENT, view),
        pinpad: (view) => {
          if (!rules.reloadsBefore(view)) deliver('pinpad', PINPAD_STATE_EVENT, view);
          rules.onPinpadView(view);
        },
        outcomeCuePlayed: () => rules.outcomeCuePlayed(),
      };
    },
    processorFor: async (config) => {
      keys = options.keys ?? generateTestKeys(config.profile);
      if (keys.pinKeyHex !== undefined) await keyStore.set('pin-key', keys.pinKeyHex);
      if (keys.apiToken !== undefined) await keyStore.set('api-token', keys.apiToken);
      if (keys.pinPublicKeyPem !== undefined) await keyStore.set('pin-public-key', asStoredProcessorKey(keys.pinPublicKeyPem));
      if (processorUrl === undefined) {
        const sandboxKeys: SandboxKeys = {
          // A test may put a malformed key in the keychain; the processor keeps a well-formed one of its own.
          pinKeyHex: keys.pinKeyHex && AES256_KEY_HEX.test(keys.pinKeyHex) ? keys.pinKeyHex : randomBytes(32).toString('hex'),
          apiToken: keys.apiToken ?? randomBytes(18).toString('hex'),
          // The processor always has a private key; with the keys a test chose it may simply not match.
          privateKeyPem: keys.privateKeyPem ?? (config.profile === 'public-key' ? generateTestKeys('public-key').privateKeyPem : undefined),
        };
        started.sandbox = new SandboxProcessor(sandboxKeys, { profile: config.profile, faults: config.sandbox.faults });
        processorUrl = await started.sandbox.start();
      }
      return { baseUrl: processorUrl, keyStore };
    },
  });
  const router: IpcHandler = boot.router;
  const core = boot.kind === 'running' ? boot.core : null;
  const voiceFolder = boot.kind === 'running' ? boot.config.pad.audio.voiceFolder : null;
  const sandbox = started.sandbox;
  const runningCore = (): StationCore => {
    if (core) return core;
    throw new Error(`launchStation: the station did not start (${boot.kind === 'unavailable' ? boot.error.code : '?'}); it shows its cannot-start screen`);
  };

  const args = ['--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: options.headless ?? true, args });
    for (const role of ['operator', 'pinpad'] as const) {
      const context = await browser.newContext({ viewport: role === 'operator' ? { width: 900, height: 720 } : { width: 520, height: 760 } });
      await context.route('**/*', async (route) => {
        const url = new URL(route.request().url());
        if (url.origin !== HARNESS_ORIGIN) return route.abort('blockedbyclient');
        const body = await readRendererFile(url.href, voiceFolder);
        if (body === null) return route.fulfill({ status: 404, body: 'Not found' });
        return route.fulfill({
          status: 200,
          body: body.data,
          headers: { 'content-type': body.type, 'content-security-policy': CONTENT_SECURITY_POLICY },
        });
      });
      const page = await context.newPage();
      page.on('console', (message) => void consoleLines.push(`${role} ${message.type()}: ${message.text()}`));
      page.on('pageerror', (error) => void consoleLines.push(`${role} pageerror: ${error.message}`));
      await page.exposeBinding('__pinStationInvoke', (source, channel: unknown, arg: unknown) =>
        router.handle(source.page === pages.operator ? 'operator' : source.page === pages.pinpad ? 'pinpad' : null, channel, arg),
      );
      await page.addInitScript({ content: preloadShim(preloads[role]) });
      if (role === 'pinpad') {
        await page.exposeBinding('__pinStationAudioPlayed', (_source, cue: string, language: string, deviceId: string, at: number) => {
          const index = played.push({ cue, language }) - 1;
          playedOn.push(deviceId);
          playedAt.push(at);
          sounding.add(index);
          return index;
        });
        await page.exposeBinding('__pinStationAudioStopped', (_source, index: number, ended: boolean) => {
          if (!sounding.delete(index)) return;
          if (!ended) cutOff.push(index);
        });
        await page.addInitScript({ content: audioOutputShim(options.audioOutputs ?? []) });
      }
      pages[role] = page;
    }
    const operator = pages.operator as Page;
    const pinpad = pages.pinpad as Page;
    await Promise.all([operator.goto(`${HARNESS_ORIGIN}/operator/index.html`), pinpad.goto(`${HARNESS_ORIGIN}/pinpad/index.html`)]);
    const openedBrowser = browser;
    const signIn = async (username: string): Promise<void> => {
      const account = staff.find((candidate) => candidate.username === username);
      if (!account) throw new Error(`launchStation: no test account named ${username}`);
      await operator.getByRole('textbox', { name: 'User name' }).fill(account.username);
      await operator.getByLabel('Password', { exact: true }).fill(account.password);
      if (core?.staff.view().codeRequired) await operator.getByRole('textbox', { name: 'Authentication code' }).fill(await authCode(account.username));
      await operator.getByRole('button', { name: 'Sign in', exact: true }).click();
      await operator.getByRole('button', { name: 'Sign out' }).waitFor();
    };
    const signInAs = options.signIn ?? staff[0]?.username;
    if (core && signInAs !== undefined && signInAs !== false && core.staff.view().provider === 'local') await signIn(signInAs);
    return {
      operator,
      pinpad,
      get core() {
        return runningCore();
      },
      sandbox,
      keyStore,
      keys,
      processorUrl: processorUrl ?? '',
      logLines,
      consoleLines,
      auditPath: places.auditPath,
      staff,
      accountsPath: places.accountsPath,
      signIn,
      authCode,
      audioCues: () => [...played],
      audioCutOff: () => [...cutOff].sort((a, b) => a - b).map((index) => played[index] as PlayedCue),
      audioCueTimes: () => [...playedAt],
      padReloads: () => padReloads,
      audioDevices: () => playedOn.map((deviceId) => deviceId.replace(/^fake-output-/, '')),
      async close() {
        padRules.current?.dispose();
        await core?.close();
        await openedBrowser.close();
        await sandbox?.stop();
        // Every entry a station or a test can make, so nothing is left in a keychain a caller passed in.
        for (const account of [...KEY_ACCOUNTS, ...STATION_ACCOUNTS, NEXT_PROCESSOR_KEY_ACCOUNT]) {
          await keyStore.delete(account).catch(() => false);
        }
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    padRules.current?.dispose();
    await core?.close();
    await browser?.close();
    await sandbox?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function readRendererFile(requestUrl: string, voiceFolder: string | null): Promise<{ data: Buffer; type: string } | null> {
  // The same resolution and checked read the app:// protocol handler uses, a bank's voice folder included.
  return readAppRequest(join(outDir, 'renderer'), requestUrl, { host: new URL(HARNESS_ORIGIN).host, voiceFolder });
}

/**
 * The pad's injectable audio output: fake devices by label, and a recorder that loads each clip (muted, no sink)
 * and sounds for the clip's own length, as the real output does: the next cue stops it, and play() resolves at
 * its end or when stopped.
 */
function audioOutputShim(labels: readonly string[]): string {
  const devices = [{ deviceId: 'default', label: labels[0] ?? 'Default' }, ...labels.map((label) => ({ deviceId: `fake-output-${label}`, label }))];
  return `(() => {
  const devices = ${JSON.stringify(devices)};
  let stopCurrent = null;
  window.pinpadAudioOutput = {
    outputs: async () => devices,
    play: async (cue, language, url, deviceId) => {
      const at = performance.timeOrigin + performance.now();
      stopCurrent?.(false);
      let stop = null;
      const stopped = new Promise((resolve) => (stop = resolve));
      stopCurrent = stop;
      const index = await window.__pinStationAudioPlayed(cue, language, deviceId, at);
      const probe = new Audio();
      probe.muted = true;
      probe.preload = 'metadata';
      probe.addEventListener('error', () => {
        console.error('audio clip failed: ' + url);
        stop(true);
      });
      probe.addEventListener('loadedmetadata', () => setTimeout(() => stop(true), Number.isFinite(probe.duration) ? probe.duration * 1000 : 0));
      probe.src = url;
      const ended = await stopped;
      if (stopCurrent === stop) stopCurrent = null;
      await window.__pinStationAudioStopped(index, ended);
    },
  };
})();`;
}

/**
 * Wraps a built preload bundle so it runs in the page with Electron's two
 * objects replaced: `ipcRenderer.invoke` goes to the exposed binding, and
 * main's events arrive through `__pinStationDeliver`.
 */
function preloadShim(preloadSource: string): string {
  return `(() => {
  const listeners = new Map();
  const invoke = window.__pinStationInvoke;
  const ipcRenderer = Object.freeze({
    invoke: (channel, ...args) => invoke(channel, args.length > 0 ? args[0] : null),
    on(channel, listener) {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel).add(listener);
      return ipcRenderer;
    },
    removeListener(channel, listener) {
      listeners.get(channel)?.delete(listener);
      return ipcRenderer;
    },
  });
  const contextBridge = Object.freeze({
    exposeInMainWorld(name, api) {
      Object.defineProperty(window, name, { value: Object.freeze(api), writable: false, configurable: false, enumerable: false });
    },
  });
  Object.defineProperty(window, '__pinStationDeliver', {
    value: (channel, payload) => { for (const listener of listeners.get(channel) ?? []) listener({}, payload); },
    writable: false, configurable: false, enumerable: false,
  });
  const require = (id) => {
    if (id === 'electron') return { contextBridge, ipcRenderer };
    throw new Error('a sandboxed preload may not require ' + id);
  };
  const module = { exports: {} };
  (function (require, module, exports) {
${preloadSource}
  })(require, module, module.exports);
})();`;
}

/**
 * For a test file: returns a `launch(options)` that starts a station and
 * registers its close after each test, so no file repeats that bookkeeping.
 */
export function useStation(): (options?: LaunchStationOptions) => Promise<LaunchedStation> {
  let current: LaunchedStation | null = null;
  afterEach(async () => {
    await current?.close();
    current = null;
  });
  return async (options) => {
    current = await launchStation(options);
    return current;
  };
}
