/**
 * The station a keys command works on: its data directory, its settings and keychain (the managed policy's
 * keychain.service and station.id beat config.json's, as when the station starts), and the trail's one-writer
 * rule for the commands that write a record (import --components, promote).
 */
import { takeAdminLock } from '../../core/admin-lock';
import type { StationConfig } from '../../core/config';
import type { KeyStore } from '../../core/keystore';
import { CliError, stationDataDir, openStoreChecked, readStationSettings, stationRunning } from '../cli';
import { EXIT_CODES } from './args';
import type { CliDeps, ParsedArgs } from './args';

/** The station's data directory: the default one, unless `given` (--data-dir). */
export function dataDirOf(args: Pick<ParsedArgs, 'dataDir'>, deps: CliDeps): string {
  return stationDataDir(args.dataDir, deps);
}

/**
 * Without --service, the station's own service (in the default data directory), so a key never lands where the
 * station does not look.
 */
export async function withStationService(args: ParsedArgs, deps: CliDeps): Promise<ParsedArgs> {
  if (args.seen.has('--service')) return args;
  const settings = await readStationSettings(dataDirOf({ dataDir: undefined }, deps), deps, EXIT_CODES.USAGE, 'Nothing was changed.');
  return { ...args, service: settings.keychain.service };
}

/**
 * The station's settings and its keychain, for a command that writes the station's trail. A --service other than
 * the station's is refused: elsewhere the key would not be read, and the record would be signed with another
 * service's audit-key.
 */
export async function stationKeychain(
  args: ParsedArgs,
  deps: CliDeps,
  dataDir: string,
  nothingDone: string,
): Promise<{ readonly config: StationConfig; readonly service: string; readonly store: KeyStore }> {
  const config = await readStationSettings(dataDir, deps, EXIT_CODES.USAGE, nothingDone);
  if (args.seen.has('--service') && config.keychain.service !== args.service) {
    throw new CliError(
      EXIT_CODES.USAGE,
      `the station's configuration names keychain service "${config.keychain.service}", not the one given with --service. ${nothingDone}`,
    );
  }
  const service = config.keychain.service;
  return { config, service, store: openStoreChecked(deps, service, EXIT_CODES.USAGE) };
}

/**
 * Runs `write` holding the trail's admin lock, from before the first check to after the record, and only while no
 * station runs on the data directory: the trail has one writer at a time, and a station started meanwhile refuses
 * to start. `then` ends "close it first, then …".
 */
export async function withTrailLock<T>(
  dataDir: string,
  trail: string,
  holder: string,
  message: { readonly then: string; readonly nothingDone: string },
  write: () => Promise<T>,
): Promise<T> {
  const lock = takeAdminLock(trail, holder);
  if ('heldBy' in lock) {
    throw new CliError(
      EXIT_CODES.STATION_RUNNING,
      `the audit trail at ${trail} is being written by ${lock.heldBy}: wait for it to finish. ${message.nothingDone}`,
    );
  }
  try {
    // Checked after the lock is taken: a station starting now either is seen here or sees the lock.
    if (stationRunning(dataDir)) {
      throw new CliError(EXIT_CODES.STATION_RUNNING, `the station is running on ${dataDir}: close it first, then ${message.then}. ${message.nothingDone}`);
    }
    return await write();
  } finally {
    lock.release();
  }
}
