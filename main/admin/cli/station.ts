/**
 * The station an admin command works on: its data directory (the installed app's, or the platform's default),
 * its settings as it would start with them, its keychain and whether it is running now.
 */
import { DATA_DIR_NAME, DEFAULT_KEYCHAIN_SERVICE } from '../../../common/domain';
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync, readlinkSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { StationError } from '../../../common/errors';
import type { StationConfig } from '../../core/config';
import type { KeyStore } from '../../core/keystore';
import { KeytarKeyStore } from '../../core/keytar-store';
import { resolveSettings } from '../../core/policy/resolve';
import { osPolicySource } from '../../core/policy/sources';
import type { PolicySource } from '../../core/policy/sources';
import { CliError } from './args';
import type { CliOutput } from './stdin';

export const DEFAULT_SERVICE = DEFAULT_KEYCHAIN_SERVICE;

/** What every CLI is given; each CLI's deps extend it. */
export interface CliBaseDeps {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** Opens the keychain for a service; KeytarKeyStore by default (it validates the name). */
  readonly openStore?: (service: string) => KeyStore;
  /** The managed policy, read with config.json for the station's settings: the OS's own (osPolicySource) by default; null for none. */
  readonly policy?: PolicySource | null;
}

/**
 * The installed app's data directory while `pin-station --admin` runs a CLI (main/admin/entry.ts): it is
 * Electron's own app.getPath('userData'), so it wins over the guess below. Scoped to that one run (async
 * context, not a global), so a test or a second run in the same process never sees another run's directory.
 */
const installedDataDir = new AsyncLocalStorage<string>();

/** Runs `run` with `dir` as every CLI's default data directory (what --data-dir, when given, still overrides). */
export function withDataDir<T>(dir: string, run: () => Promise<T>): Promise<T> {
  return installedDataDir.run(dir, run);
}

/**
 * Electron's userData for the app on each platform (app.getPath('userData')): the station's data directory.
 * Inside withDataDir (the installed app's admin commands), the directory the app itself gave.
 */
export function defaultDataDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  const installed = installedDataDir.getStore();
  if (installed !== undefined) return installed;
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), DATA_DIR_NAME);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', DATA_DIR_NAME);
  return join(env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.length > 0 ? env.XDG_CONFIG_HOME : join(home, '.config'), DATA_DIR_NAME);
}

/** Where a command looks for the default data directory: process.platform, process.env and os.homedir() unless given. */
export interface DataDirDeps {
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  readonly homedir?: string;
}

/** `given` (--data-dir), or else the station's default data directory, as an absolute path. */
export function stationDataDir(given: string | undefined, deps: DataDirDeps): string {
  return resolve(given ?? defaultDataDir(deps.platform ?? process.platform, deps.env ?? process.env, deps.homedir ?? homedir()));
}

/**
 * The station's settings as it would start with them now: the managed policy over `<dataDir>/config.json` over
 * the defaults (main/core/policy/resolve.ts), so that `keychain.service` and `station.id` are the station's even
 * when the policy sets them. A missing config.json is the defaults. Any problem is a CliError(usageExitCode)
 * naming the file or the policy, with `nothingDone` ("Nothing was stored.") after it.
 */
export async function readStationSettings(
  dataDir: string,
  deps: Pick<CliBaseDeps, 'policy'>,
  usageExitCode: number,
  nothingDone: string,
): Promise<StationConfig> {
  const path = join(dataDir, 'config.json');
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new CliError(usageExitCode, `the station's configuration ${path} could not be read. ${nothingDone}`);
  }
  const source = deps.policy === undefined ? osPolicySource() : deps.policy;
  try {
    const policy = source ? await source.read() : null;
    return resolveSettings(text, policy, source?.location ?? null).config;
  } catch (error) {
    if (!(error instanceof StationError)) throw error;
    // The messages name the file or the policy's location and the setting; neither holds a secret.
    if (error.code === 'POLICY_INVALID') throw new CliError(usageExitCode, `the managed policy cannot be used. ${error.message} ${nothingDone}`);
    throw new CliError(usageExitCode, `the station's configuration ${path} cannot be used. ${error.message} Fix it first. ${nothingDone}`);
  }
}

/** Opens the keychain; an invalid --service name is a usage error. */
export function openStoreChecked(deps: CliBaseDeps, service: string, usageExitCode: number): KeyStore {
  try {
    return (deps.openStore ?? ((name: string) => new KeytarKeyStore(name)))(service);
  } catch (error) {
    if (error instanceof StationError && error.code === 'CONFIG_INVALID') {
      throw new CliError(usageExitCode, '--service must be 1-64 characters: letters, digits, ".", "_" or "-".');
    }
    throw error;
  }
}

/**
 * Whether a station is running on this data directory: Electron's single-instance lock there
 * (`SingletonLock`, a symbolic link to "<host>-<pid>" on Linux and macOS) names a live process of this computer.
 * The commands that write the trail refuse then: the trail has one writer at a time. Windows keeps its lock
 * differently and is not checked (the commands say to close the station first).
 */
export function stationRunning(dataDir: string): boolean {
  let target: string;
  try {
    target = readlinkSync(join(dataDir, 'SingletonLock'));
  } catch {
    return false;
  }
  const match = /^(.*)-(\d+)$/.exec(target);
  if (!match || match[1] !== hostname()) return false;
  try {
    process.kill(Number(match[2]), 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
