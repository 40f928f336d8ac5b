/**
 * What every staff command opens: the accounts file (sealed under the station's keychain) and, for a change, the
 * station's audit trail, checked able to take the change's staff-admin record before anything is asked.
 */
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { StationError } from '../../../common/errors';
import type { Role } from '../../../common/staff';
import { takeAdminLock } from '../../core/admin-lock';
import { AuditLog, auditFilePath } from '../../core/audit';
import type { StaffAdminAction } from '../../core/audit';
import type { KeyStore } from '../../core/keystore';
import { LocalAccountStore, staffFilePath } from '../../core/staff/accounts';
import type { StaffAccount } from '../../core/staff/accounts';
import { recordStamp, stampRecordAs } from '../../core/station-records';
import type { RecordStamp } from '../../core/station-records';
import { CliError, stationDataDir, openStoreChecked, readStationSettings, stationRunning } from '../cli';
import { EXIT_CODES } from './args';
import type { ParsedArgs, StaffCliDeps } from './args';

export interface Accounts {
  readonly store: LocalAccountStore;
  readonly path: string;
  readonly dataDir: string;
  readonly keyStore: KeyStore;
}

/** Where the store's errors are reported from (for describeError). */
export interface RunState {
  path: string | null;
  /** Set while the command holds the trail's admin lock. */
  releaseLock: (() => void) | null;
}

export async function openAccounts(args: ParsedArgs, deps: StaffCliDeps, state: RunState): Promise<Accounts> {
  const dataDir = stationDataDir(args.dataDir, deps);
  const path = staffFilePath(dataDir);
  // Without --service, the station's own: the managed policy's keychain.service beats config.json's, as at start-up.
  const service = args.service ?? (await readStationSettings(dataDir, deps, EXIT_CODES.USAGE, 'Nothing was changed.')).keychain.service;
  const keyStore = openStoreChecked(deps, service, EXIT_CODES.USAGE);
  state.path = path;
  return { store: new LocalAccountStore(path, keyStore, deps.now ? { now: deps.now } : {}), path, dataDir: resolve(dataDir), keyStore };
}

/** The station's trail, checked able to take a record; every change is made only after this. */
export interface Trail {
  readonly log: AuditLog;
  readonly path: string;
  /** Whose records: the station's ID as it would start (policy, config.json). */
  readonly stamp: RecordStamp;
  readonly osUser: string;
}

/** Refuses while the station runs (one trail writer) and unless the trail can take the record; before any prompt. */
export async function openTrail(args: ParsedArgs, deps: StaffCliDeps, accounts: Accounts, state: RunState): Promise<Trail> {
  const { dataDir } = accounts;
  // The trail has one writer at a time: its admin lock is held until the command ends (runStaffCli releases it),
  // and a station started meanwhile refuses to start.
  const lock = takeAdminLock(auditFilePath(dataDir), 'npm run staff');
  if ('heldBy' in lock) {
    throw new CliError(
      EXIT_CODES.STATION_RUNNING,
      `the audit trail at ${auditFilePath(dataDir)} is being written by ${lock.heldBy}: wait for it to finish. Nothing was asked or changed.`,
    );
  }
  state.releaseLock = () => lock.release();
  if (stationRunning(dataDir)) {
    throw new CliError(EXIT_CODES.STATION_RUNNING, `the station is running on ${dataDir}: close it first. Nothing was asked or changed.`);
  }
  // The policy's keychain.service and station.id beat config.json's, as when the station starts.
  const config = await readStationSettings(dataDir, deps, EXIT_CODES.USAGE, 'Nothing was changed.');
  if (args.service !== undefined && config.keychain.service !== args.service) {
    // The record would be signed with another service's audit-key, and the station would refuse its own trail.
    throw new CliError(
      EXIT_CODES.USAGE,
      `the station's configuration names keychain service "${config.keychain.service}", not the one given with --service. Nothing was changed.`,
    );
  }
  const path = auditFilePath(dataDir);
  const log = new AuditLog(path, accounts.keyStore, deps.now ? { now: deps.now } : {});
  try {
    await log.check();
  } catch (error) {
    if (error instanceof StationError && error.code !== 'KEYCHAIN_UNAVAILABLE') {
      throw new CliError(
        EXIT_CODES.AUDIT_UNAVAILABLE,
        `the audit trail at ${path} cannot take the record of this change (${error.code}): ${error.message} ` +
          `Check it with: npm run audit -- verify --data-dir ${dataDir}. Nothing was asked or changed.`,
      );
    }
    throw error;
  }
  return { log, path, stamp: recordStamp(config), osUser: deps.osUser ?? userInfo().username };
}

/** Appends the change's staff-admin record; the change itself is already made, so a failure says so plainly. */
export async function recordChange(
  trail: Trail,
  action: StaffAdminAction,
  username: string,
  rolesBefore: readonly Role[] | null,
  rolesAfter: readonly Role[],
): Promise<void> {
  try {
    await trail.log.append(
      stampRecordAs(trail.stamp, {
        type: 'staff-admin',
        action,
        username,
        rolesBefore: rolesBefore === null ? null : [...rolesBefore],
        rolesAfter: [...rolesAfter],
        osUser: trail.osUser,
      }),
    );
    await trail.log.flush();
  } catch (error) {
    const why = error instanceof StationError ? ` (${error.code}: ${error.message})` : '';
    throw new CliError(
      EXIT_CODES.AUDIT_RECORD_FAILED,
      `the change (${action} ${username}) WAS MADE, but its staff-admin record could not be written to the audit trail at ${trail.path}${why}. ` +
        'Repair the trail (npm run audit -- verify), then record this change by hand.',
    );
  }
}

/** The account, or UNKNOWN_ACCOUNT; also checks the file before anything is asked. */
export async function requireAccount({ store, path }: Accounts, username: string): Promise<StaffAccount> {
  const account = (await store.list()).find((candidate) => candidate.username === username);
  if (account === undefined) throw new CliError(EXIT_CODES.UNKNOWN_ACCOUNT, `no account is named "${username}" in ${path}. Nothing was changed.`);
  return account;
}

/** The store's INVALID_REQUEST left after the checks here (an account added or removed meanwhile) as `code`. */
export async function orExit<T>(operation: Promise<T>, code: number): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    if (error instanceof StationError && error.code === 'INVALID_REQUEST') throw new CliError(code, `${error.message} Nothing was changed.`);
    throw error;
  }
}

export function isLocked(account: StaffAccount, now: Date): boolean {
  return account.lockedUntil !== null && Date.parse(account.lockedUntil) > now.getTime();
}
