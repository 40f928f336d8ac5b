/**
 * Local staff accounts CLI (docs/architecture.md, "Staff sign-in"): `npm run staff -- <command>`.
 *
 *   add <username> --roles r1,r2 [--name "Full Name"]   create an account
 *   passwd <username>                                   set a new password (ends a lockout)
 *   disable <username> / enable <username>              refuse / allow its sign-in
 *   unlock <username>                                   clear failed attempts and a lockout
 *   roles <username> --roles r1,r2                      change its roles
 *   mfa enroll <username>                               a new TOTP secret, shown once (URI and QR), confirmed by a code
 *   mfa reset <username>                                remove its second factor (a lost phone)
 *   list [--json]                                       every account and its state; never a hash
 *
 * Every change is a `staff-admin` record in the station's audit trail (which
 * account, roles before and after, the operating-system user who ran it).
 * The trail has one writer at a time, so a change is refused while the
 * station runs on the data directory, and the trail is checked before
 * anything is asked or changed: no change is made that cannot be recorded.
 *
 * The accounts live in `<data dir>/staff/accounts.json` (main/core/staff/accounts.ts),
 * where the data directory is the station's (`--data-dir`, default as for
 * `npm run audit`), sealed under the keychain entries `staff-key` and
 * `staff-generation` in the service `--service` (default: the station's, from the managed policy or config.json).
 *
 * A password is read without echo from the terminal (asked twice), or as one
 * line from stdin when piped. It is never accepted as an argument, never
 * printed, and never part of a message. The logic lives in runStaffCli() with
 * injected streams and keychain so tests can drive it; main() is the thin
 * process entry.
 */
import { DATA_DIR_NAME } from '../../../common/domain';
import { homedir, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { StationError } from '../../../common/errors';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, ROLES, USERNAME_RULE } from '../../../common/staff';
import type { Role } from '../../../common/staff';
import { AuditLog, auditFilePath } from '../../core/audit';
import type { StaffAdminAction } from '../../core/audit';
import { checkUsername, LocalAccountStore, staffFilePath } from '../../core/staff/accounts';
import type { StaffAccount } from '../../core/staff/accounts';
import { checkNewPassword } from '../../core/staff/passwords';
import { takeAdminLock } from '../../core/admin-lock';
import { matchTotp, newTotpSecret, totpUri } from '../../core/staff/totp';
import QRCode from 'qrcode';
import {
  CliError,
  DEFAULT_SERVICE,
  defaultDataDir,
  exitCodesHelp,
  isEntryPoint,
  openStoreChecked,
  parseCliArgs,
  pipedLines,
  readHidden,
  readStationSettings,
  runCli,
  stationRunning,
} from '../cli';
import type { CliArgs, CliBaseDeps, CliInput, CliOutput, HiddenReadOptions } from '../cli';
import type { KeyStore } from '../../core/keystore';

export { CliError, DEFAULT_SERVICE };
export type { CliInput, CliOutput };

/** Every exit code of the CLI, in one place (also listed by --help). */
export const EXIT_CODES = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  UNKNOWN_ACCOUNT: 3,
  ACCOUNT_EXISTS: 4,
  PASSWORD_REJECTED: 5,
  STORE_INVALID: 6,
  STORE_BUSY: 7,
  KEYCHAIN_UNAVAILABLE: 8,
  AUDIT_UNAVAILABLE: 9,
  AUDIT_RECORD_FAILED: 10,
  STATION_RUNNING: 11,
  MFA_CODE_REJECTED: 12,
  CANCELLED: 130,
} as const;
export type ExitCodeName = keyof typeof EXIT_CODES;

const EXIT_CODE_HELP: Record<ExitCodeName, string> = {
  OK: 'success',
  INTERNAL: 'unexpected internal error',
  USAGE: 'usage error (bad command, option, user name, --roles, --name or --service)',
  UNKNOWN_ACCOUNT: 'no account has that user name',
  ACCOUNT_EXISTS: 'an account with that user name already exists (add)',
  PASSWORD_REJECTED: 'the password breaks the rule, the two entries differ, or none was given',
  STORE_INVALID: 'the accounts file is damaged, edited or an older copy put back, or its keychain entries are missing; nothing was changed',
  STORE_BUSY: 'the accounts file is in use by the station or another run of this command; try again',
  KEYCHAIN_UNAVAILABLE: 'the keychain could not be reached or is locked',
  AUDIT_UNAVAILABLE: "the station's audit trail cannot take the change's record (checked before anything is asked); nothing was changed",
  AUDIT_RECORD_FAILED: 'the change WAS made, but its staff-admin record could not be written to the audit trail (see the message)',
  STATION_RUNNING: 'a change while the station is running on this data directory; close it first (nothing was asked or changed)',
  MFA_CODE_REJECTED: 'mfa enroll: the code typed does not match the new secret; nothing was stored',
  CANCELLED: 'input cancelled with Ctrl-C',
};

/** Upper bound on the line read from a pipe: the longest password in UTF-8 and a line ending. */
export const MAX_PIPED_BYTES = PASSWORD_MAX_LENGTH * 4 + 2;

export interface StaffCliDeps extends CliBaseDeps {
  readonly stdin: CliInput;
  /** For the default data directory; process.env, process.platform and os.homedir() by default. */
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  readonly homedir?: string;
  /** The clock of the store and of "locked until" in list. */
  readonly now?: () => Date;
  /** Who ran the command, for the staff-admin record; the operating-system user by default. */
  readonly osUser?: string;
}

export function helpText(): string {
  return `Usage: npm run staff -- <command> [options]

Commands:
  add <username> --roles <roles> [--name "Full Name"]
                      create a local account; the password is asked twice
  passwd <username>   set a new password; also clears failed attempts and a lockout
  disable <username>  refuse the account's sign-in (it is kept)
  enable <username>   allow the account's sign-in again
  unlock <username>   clear its failed attempts and lockout
  roles <username> --roles <roles>
                      change the account's roles
  mfa enroll <username>
                      a new second factor (TOTP, for any authenticator app):
                      shows the secret once, as an otpauth:// URI and a QR
                      code, asks for one current code from the app, and only
                      then stores it (replacing any earlier one); needs a terminal
  mfa reset <username>
                      remove the account's second factor (a lost phone); it
                      cannot sign in until it is enrolled again
  list [--json]       every account: user name, roles, display name and state
                      (active, disabled, locked until <time>, N failed attempts)
  help                show this text

A user name is ${USERNAME_RULE}.
Roles, separated by commas: ${ROLES.join(', ')}.
A password has ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters. It is read without echo
from the terminal (twice), or as one line from stdin when piped. It is never
accepted as an argument and never printed.

Every change is recorded in the station's audit trail (a staff-admin record:
the account, its roles before and after, and who ran the command). Close the
station first: a change is refused while it runs on the data directory.

Options:
  --roles <roles>    the account's roles (add and roles)
  --name <name>      the person's full name, shown on the station (add only)
  --json             list as a JSON array (list only); never a password hash
  --data-dir <dir>   the station's data directory (default: ~/.config/${DATA_DIR_NAME}
                     on Linux, or $XDG_CONFIG_HOME/${DATA_DIR_NAME}); the accounts
                     are in <dir>/staff/accounts.json
  --service <name>   keychain service holding staff-key and staff-generation
                     (default: the station's keychain.service, from the managed
                     policy or <dir>/config.json, else "${DEFAULT_SERVICE}")
  -h, --help         show this text

${exitCodesHelp(EXIT_CODES, EXIT_CODE_HELP)}`;
}

// ------------------------------------------------------------------- parsing

interface ParsedArgs extends CliArgs {
  /** Given with --service; otherwise the station's (policy, config.json, default). */
  readonly service: string | undefined;
  readonly dataDir: string | undefined;
  readonly roles: string | undefined;
  readonly name: string | undefined;
  readonly json: boolean;
  readonly seen: ReadonlySet<string>;
}

/** Parsed by parseCliArgs (node:util parseArgs); no message repeats an argument that could be a mistyped password. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const { help, positional, values, seen } = parseCliArgs(
    argv,
    { service: 'string', 'data-dir': 'string', roles: 'string', name: 'string', json: 'boolean' },
    EXIT_CODES.USAGE,
  );
  for (const name of ['--service', '--data-dir', '--roles'] as const) {
    if (seen.has(name) && values[name.slice(2) as 'service' | 'data-dir' | 'roles'] === '') throw new CliError(EXIT_CODES.USAGE, `${name} needs a value.`);
  }
  return {
    help,
    positional,
    service: values.service,
    dataDir: values['data-dir'],
    roles: values.roles,
    name: values.name,
    json: values.json === true,
    seen,
  };
}

/** Options other than --service and --data-dir that a command takes. */
function rejectOptions(args: ParsedArgs, command: string, allowed: readonly string[]): void {
  for (const name of args.seen) {
    if (name !== '--service' && name !== '--data-dir' && !allowed.includes(name))
      throw new CliError(EXIT_CODES.USAGE, `${name} does not apply to "${command}".`);
  }
}

/** The user name argument, normalised; neither a missing nor an invalid one is repeated. */
function requireUsername(args: ParsedArgs, command: string): string {
  const typed = args.positional[1];
  if (typed === undefined) throw new CliError(EXIT_CODES.USAGE, `${command} needs a user name. See --help.`);
  if (args.positional.length > 2) {
    throw new CliError(EXIT_CODES.USAGE, 'too many arguments. A password is never given on the command line: type it at the prompt or pipe it to stdin.');
  }
  try {
    return checkUsername(typed);
  } catch {
    throw new CliError(EXIT_CODES.USAGE, `a user name is ${USERNAME_RULE}.`);
  }
}

function parseRoles(given: string | undefined, command = 'add'): Role[] {
  const expected = `--roles is one or more of ${ROLES.join(', ')}, separated by commas.`;
  if (given === undefined) throw new CliError(EXIT_CODES.USAGE, `${command} needs --roles: ${expected}`);
  const names = given
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part.length > 0);
  if (names.length === 0 || !names.every((name): name is Role => (ROLES as readonly string[]).includes(name))) throw new CliError(EXIT_CODES.USAGE, expected);
  return ROLES.filter((role) => names.includes(role));
}

/** The store's display name rule, checked before the password is asked. */
function parseDisplayName(given: string | undefined): string | null {
  if (given === undefined || given.trim() === '') return null;
  const trimmed = given.trim();
  if (trimmed.length > 128 || /\p{Cc}/u.test(trimmed)) throw new CliError(EXIT_CODES.USAGE, '--name has at most 128 characters and no control characters.');
  return trimmed;
}

// --------------------------------------------------------------------- input

const HIDDEN: HiddenReadOptions = {
  multiline: false,
  maxChars: PASSWORD_MAX_LENGTH * 4,
  exitCodes: { usage: EXIT_CODES.USAGE, cancelled: EXIT_CODES.CANCELLED, tooLong: EXIT_CODES.PASSWORD_REJECTED, internal: EXIT_CODES.INTERNAL },
};

/**
 * The first line of piped stdin (without its line ending). Reading stops at
 * the first newline, so a writer that keeps the pipe open is not waited for;
 * anything after that line is ignored.
 */
async function readPipedLine(stdin: CliInput): Promise<string> {
  const lines = pipedLines(stdin, MAX_PIPED_BYTES, {
    tooLong: () => new CliError(EXIT_CODES.PASSWORD_REJECTED, `the first line of the input is longer than ${MAX_PIPED_BYTES} characters. Nothing was stored.`),
    unreadable: () => new CliError(EXIT_CODES.INTERNAL, 'stdin could not be read. Nothing was stored.'),
  });
  try {
    return (await lines.next()) ?? '';
  } finally {
    lines.close();
  }
}

/** The password rule of the store, as a CLI error; its messages never contain the password. */
function checkPassword(password: string): void {
  if (password.length === 0) throw new CliError(EXIT_CODES.PASSWORD_REJECTED, 'no password was read (empty input). Nothing was stored.');
  try {
    checkNewPassword(password);
  } catch (error) {
    if (error instanceof StationError) throw new CliError(EXIT_CODES.PASSWORD_REJECTED, `${error.message} Nothing was stored.`);
    throw error;
  }
}

/** A new password: twice at a hidden prompt on a terminal, once (one line) from a pipe. */
async function readNewPassword(deps: StaffCliDeps, username: string): Promise<string> {
  if (deps.stdin.isTTY !== true) {
    const password = await readPipedLine(deps.stdin);
    checkPassword(password);
    return password;
  }
  const password = await readHidden(deps.stdin, deps.stderr, `New password for ${username}: `, HIDDEN);
  checkPassword(password);
  const repeated = await readHidden(deps.stdin, deps.stderr, 'Repeat it: ', HIDDEN);
  if (repeated !== password) throw new CliError(EXIT_CODES.PASSWORD_REJECTED, 'the two passwords differ. Nothing was stored.');
  return password;
}

// ------------------------------------------------------------------ commands

interface Accounts {
  readonly store: LocalAccountStore;
  readonly path: string;
  readonly dataDir: string;
  readonly keyStore: KeyStore;
}

/** Where the store's errors are reported from (for describeError). */
interface RunState {
  path: string | null;
  /** Set while the command holds the trail's admin lock. */
  releaseLock: (() => void) | null;
}

async function openAccounts(args: ParsedArgs, deps: StaffCliDeps, state: RunState): Promise<Accounts> {
  const dataDir = resolve(args.dataDir ?? defaultDataDir(deps.platform ?? process.platform, deps.env ?? process.env, deps.homedir ?? homedir()));
  const path = staffFilePath(dataDir);
  // Without --service, the station's own: the managed policy's keychain.service beats config.json's, as at start-up.
  const service = args.service ?? (await readStationSettings(dataDir, deps, EXIT_CODES.USAGE, 'Nothing was changed.')).keychain.service;
  const keyStore = openStoreChecked(deps, service, EXIT_CODES.USAGE);
  state.path = path;
  return { store: new LocalAccountStore(path, keyStore, deps.now ? { now: deps.now } : {}), path, dataDir: resolve(dataDir), keyStore };
}

// ------------------------------------------------------------ staff-admin records

/** The station's trail, checked able to take a record; every change is made only after this. */
interface Trail {
  readonly log: AuditLog;
  readonly path: string;
  readonly stationId: string;
  readonly osUser: string;
}

/** Refuses while the station runs (one trail writer) and unless the trail can take the record; before any prompt. */
async function openTrail(args: ParsedArgs, deps: StaffCliDeps, accounts: Accounts, state: RunState): Promise<Trail> {
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
  return { log, path, stationId: config.station.id, osUser: deps.osUser ?? userInfo().username };
}

/** Appends the change's staff-admin record; the change itself is already made, so a failure says so plainly. */
async function recordChange(
  trail: Trail,
  action: StaffAdminAction,
  username: string,
  rolesBefore: readonly Role[] | null,
  rolesAfter: readonly Role[],
): Promise<void> {
  try {
    await trail.log.append({
      type: 'staff-admin',
      stationId: trail.stationId,
      action,
      username,
      rolesBefore: rolesBefore === null ? null : [...rolesBefore],
      rolesAfter: [...rolesAfter],
      osUser: trail.osUser,
    });
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
async function requireAccount({ store, path }: Accounts, username: string): Promise<StaffAccount> {
  const account = (await store.list()).find((candidate) => candidate.username === username);
  if (account === undefined) throw new CliError(EXIT_CODES.UNKNOWN_ACCOUNT, `no account is named "${username}" in ${path}. Nothing was changed.`);
  return account;
}

/** The store's INVALID_REQUEST left after the checks here (an account added or removed meanwhile) as `code`. */
async function orExit<T>(operation: Promise<T>, code: number): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    if (error instanceof StationError && error.code === 'INVALID_REQUEST') throw new CliError(code, `${error.message} Nothing was changed.`);
    throw error;
  }
}

function isLocked(account: StaffAccount, now: Date): boolean {
  return account.lockedUntil !== null && Date.parse(account.lockedUntil) > now.getTime();
}

/** "active", "disabled", "locked until <ISO time>", "N failed attempts", or several joined by ", ". */
export function describeState(account: StaffAccount, now: Date): string {
  const parts: string[] = [];
  if (account.disabled) parts.push('disabled');
  if (isLocked(account, now)) parts.push(`locked until ${account.lockedUntil}`);
  else if (account.failures > 0) parts.push(`${account.failures} failed attempt${account.failures === 1 ? '' : 's'}`);
  return parts.length > 0 ? parts.join(', ') : 'active';
}

async function runAdd(args: ParsedArgs, deps: StaffCliDeps, state: RunState): Promise<void> {
  rejectOptions(args, 'add', ['--roles', '--name']);
  const username = requireUsername(args, 'add');
  const roles = parseRoles(args.roles);
  const displayName = parseDisplayName(args.name);
  const accounts = await openAccounts(args, deps, state);
  if ((await accounts.store.list()).some((account) => account.username === username)) {
    throw new CliError(EXIT_CODES.ACCOUNT_EXISTS, `an account named "${username}" already exists in ${accounts.path}. Nothing was stored.`);
  }
  const trail = await openTrail(args, deps, accounts, state);
  const password = await readNewPassword(deps, username);
  const account = await orExit(accounts.store.add({ username, roles, displayName, password }), EXIT_CODES.ACCOUNT_EXISTS);
  deps.stdout.write(`added ${account.username} (${account.roles.join(', ')}) to ${accounts.path}\n`);
  await recordChange(trail, 'add', account.username, null, account.roles);
}

async function runPasswd(args: ParsedArgs, deps: StaffCliDeps, state: RunState): Promise<void> {
  rejectOptions(args, 'passwd', []);
  const username = requireUsername(args, 'passwd');
  const accounts = await openAccounts(args, deps, state);
  const before = await requireAccount(accounts, username);
  const trail = await openTrail(args, deps, accounts, state);
  const password = await readNewPassword(deps, username);
  const after = await orExit(accounts.store.setPassword(username, password), EXIT_CODES.UNKNOWN_ACCOUNT);
  const cleared = before.failures > 0 || before.lockedUntil !== null ? '; failed attempts and lockout cleared' : '';
  deps.stdout.write(`password changed for ${username}${cleared}\n`);
  await recordChange(trail, 'passwd', username, before.roles, after.roles);
}

async function runSetDisabled(args: ParsedArgs, deps: StaffCliDeps, state: RunState, disabled: boolean): Promise<void> {
  const command = disabled ? 'disable' : 'enable';
  rejectOptions(args, command, []);
  const username = requireUsername(args, command);
  const accounts = await openAccounts(args, deps, state);
  const before = await requireAccount(accounts, username);
  if (before.disabled === disabled) {
    deps.stdout.write(`${username} is already ${disabled ? 'disabled' : 'enabled'}; nothing changed\n`);
    return;
  }
  const trail = await openTrail(args, deps, accounts, state);
  const after = await orExit(accounts.store.setDisabled(username, disabled), EXIT_CODES.UNKNOWN_ACCOUNT);
  deps.stdout.write(`${disabled ? 'disabled' : 'enabled'} ${username}\n`);
  await recordChange(trail, command, username, before.roles, after.roles);
}

async function runUnlock(args: ParsedArgs, deps: StaffCliDeps, state: RunState): Promise<void> {
  rejectOptions(args, 'unlock', []);
  const username = requireUsername(args, 'unlock');
  const accounts = await openAccounts(args, deps, state);
  const before = await requireAccount(accounts, username);
  if (before.failures === 0 && before.lockedUntil === null) {
    deps.stdout.write(`${username} has no failed attempts or lockout; nothing changed\n`);
    return;
  }
  const now = (deps.now ?? (() => new Date()))();
  const was = isLocked(before, now)
    ? `it was locked until ${before.lockedUntil}`
    : `${before.failures} failed attempt${before.failures === 1 ? '' : 's'} cleared`;
  const trail = await openTrail(args, deps, accounts, state);
  const after = await orExit(accounts.store.unlock(username), EXIT_CODES.UNKNOWN_ACCOUNT);
  deps.stdout.write(`unlocked ${username} (${was})\n`);
  await recordChange(trail, 'unlock', username, before.roles, after.roles);
}

async function runRoles(args: ParsedArgs, deps: StaffCliDeps, state: RunState): Promise<void> {
  rejectOptions(args, 'roles', ['--roles']);
  const username = requireUsername(args, 'roles');
  const roles = parseRoles(args.roles, 'roles');
  const accounts = await openAccounts(args, deps, state);
  const before = await requireAccount(accounts, username);
  if (before.roles.length === roles.length && before.roles.every((role) => roles.includes(role))) {
    deps.stdout.write(`${username} already has the roles ${roles.join(', ')}; nothing changed\n`);
    return;
  }
  const trail = await openTrail(args, deps, accounts, state);
  const after = await orExit(accounts.store.setRoles(username, roles), EXIT_CODES.UNKNOWN_ACCOUNT);
  deps.stdout.write(`roles of ${username}: ${before.roles.join(', ')} -> ${after.roles.join(', ')}\n`);
  await recordChange(trail, 'roles', username, before.roles, after.roles);
}

/** `mfa enroll|reset <username>`: the secret and the code are never arguments. */
async function runMfa(args: ParsedArgs, deps: StaffCliDeps, state: RunState): Promise<void> {
  rejectOptions(args, 'mfa', []);
  const action = args.positional[1];
  if (action !== 'enroll' && action !== 'reset') throw new CliError(EXIT_CODES.USAGE, 'mfa takes enroll or reset, then a user name. See --help.');
  const typed = args.positional[2];
  if (typed === undefined) throw new CliError(EXIT_CODES.USAGE, `mfa ${action} needs a user name. See --help.`);
  if (args.positional.length > 3) {
    throw new CliError(EXIT_CODES.USAGE, 'too many arguments. A secret or code is never given on the command line.');
  }
  let username: string;
  try {
    username = checkUsername(typed);
  } catch {
    throw new CliError(EXIT_CODES.USAGE, `a user name is ${USERNAME_RULE}.`);
  }
  const accounts = await openAccounts(args, deps, state);
  const before = await requireAccount(accounts, username);
  if (action === 'reset') {
    if (!before.mfaEnrolled) {
      deps.stdout.write(`${username} has no second factor; nothing changed\n`);
      return;
    }
    const trail = await openTrail(args, deps, accounts, state);
    const after = await orExit(accounts.store.resetTotp(username), EXIT_CODES.UNKNOWN_ACCOUNT);
    deps.stdout.write(`second factor removed for ${username}: it cannot sign in until enrolled again (npm run staff -- mfa enroll ${username})\n`);
    await recordChange(trail, 'mfa-reset', username, before.roles, after.roles);
    return;
  }
  // The secret is shown once, for a person holding their phone: never into a pipe or a file.
  if (deps.stdin.isTTY !== true) {
    throw new CliError(EXIT_CODES.USAGE, 'mfa enroll needs a terminal: the secret is shown once and a code from the app is typed. Nothing was stored.');
  }
  const trail = await openTrail(args, deps, accounts, state);
  const secret = newTotpSecret();
  const uri = totpUri(secret, username, trail.stationId);
  const qr = await QRCode.toString(uri, { type: 'terminal', small: true, errorCorrectionLevel: 'M' });
  deps.stderr.write(`Scan this with ${username}'s authenticator app (or enter the URI by hand). It is shown only this once.\n\n${qr}\n${uri}\n\n`);
  const code = await readHidden(deps.stdin, deps.stderr, `Current 6-digit code shown by the app for ${username}: `, {
    ...HIDDEN,
    maxChars: 32,
    exitCodes: { ...HIDDEN.exitCodes, tooLong: EXIT_CODES.MFA_CODE_REJECTED },
  });
  const step = matchTotp(secret, code.replace(/\s+/g, ''), (deps.now ?? (() => new Date()))(), null);
  if (step === null) {
    throw new CliError(
      EXIT_CODES.MFA_CODE_REJECTED,
      `the code does not match the new secret (check the phone's clock, or that the right entry was read). Nothing was stored; run mfa enroll again for a new secret.`,
    );
  }
  const after = await orExit(accounts.store.enrolTotp(username, secret, step), EXIT_CODES.UNKNOWN_ACCOUNT);
  deps.stdout.write(`second factor enrolled for ${username}${before.mfaEnrolled ? ' (the earlier one no longer works)' : ''}\n`);
  await recordChange(trail, 'mfa-enroll', username, before.roles, after.roles);
}

async function runList(args: ParsedArgs, deps: StaffCliDeps, state: RunState): Promise<void> {
  rejectOptions(args, 'list', ['--json']);
  if (args.positional.length > 1) throw new CliError(EXIT_CODES.USAGE, 'list takes no arguments.');
  const accounts = await openAccounts(args, deps, state);
  const list = await accounts.store.list();
  const now = (deps.now ?? (() => new Date()))();
  if (args.json) {
    // Each field named here, so nothing the store adds later (a hash) can slip out.
    const view = list.map((account) => ({
      username: account.username,
      displayName: account.displayName,
      roles: account.roles,
      disabled: account.disabled,
      locked: isLocked(account, now),
      lockedUntil: account.lockedUntil,
      failures: account.failures,
      mfaEnrolled: account.mfaEnrolled,
      createdAt: account.createdAt,
      passwordChangedAt: account.passwordChangedAt,
    }));
    deps.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    return;
  }
  if (list.length === 0) {
    deps.stdout.write(`no local staff accounts in ${accounts.path}\n`);
    return;
  }
  const rows = [
    ['USER NAME', 'ROLES', 'DISPLAY NAME', 'STATE'],
    ...list.map((account) => [account.username, account.roles.join(','), account.displayName ?? '-', describeState(account, now)]),
  ];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const lines = rows.map((row) => row.map((cell, column) => (column < widths.length ? cell.padEnd(widths[column] ?? 0) : cell)).join('  '));
  deps.stdout.write(`${lines.join('\n')}\n`);
}

/** Runs one CLI invocation and returns its exit code; all output goes to the injected streams. */
export function runStaffCli(argv: readonly string[], deps: StaffCliDeps): Promise<number> {
  const state: RunState = { path: null, releaseLock: null };
  // A change holds the trail's admin lock from openTrail to the end of the command, whatever the outcome.
  const releasing =
    (command: (args: ParsedArgs) => Promise<void>) =>
    async (args: ParsedArgs): Promise<void> => {
      try {
        await command(args);
      } finally {
        state.releaseLock?.();
        state.releaseLock = null;
      }
    };
  const commands = {
    add: releasing((args) => runAdd(args, deps, state)),
    passwd: releasing((args) => runPasswd(args, deps, state)),
    disable: releasing((args) => runSetDisabled(args, deps, state, true)),
    enable: releasing((args) => runSetDisabled(args, deps, state, false)),
    unlock: releasing((args) => runUnlock(args, deps, state)),
    mfa: releasing((args) => runMfa(args, deps, state)),
    roles: releasing((args) => runRoles(args, deps, state)),
    list: (args: ParsedArgs) => runList(args, deps, state),
  };
  return runCli(
    { name: 'staff', exitCodes: EXIT_CODES, parse: parseArgs, helpText, commands, describeError: (error) => describeError(error, state) },
    argv,
    deps,
  );
}

/** For errors other than CliError. */
function describeError(error: unknown, state: RunState): { code: number; message: string } {
  if (error instanceof StationError) {
    // StationError messages are written, never interpolated from a password.
    switch (error.code) {
      case 'STAFF_STORE_INVALID':
        return {
          code: EXIT_CODES.STORE_INVALID,
          message: `the staff accounts file${state.path === null ? '' : ` ${state.path}`} cannot be used: ${error.message}`,
        };
      case 'KEYCHAIN_ENTRY_MISSING':
      case 'KEYCHAIN_ENTRY_MALFORMED':
        return { code: EXIT_CODES.STORE_INVALID, message: `the staff accounts file cannot be checked: ${error.message} Nothing was changed.` };
      case 'KEYCHAIN_UNAVAILABLE':
        return { code: EXIT_CODES.KEYCHAIN_UNAVAILABLE, message: `${error.message} Nothing was changed.` };
      case 'STAFF_STORE_BUSY':
        return { code: EXIT_CODES.STORE_BUSY, message: `${error.message} Nothing was changed.` };
      case 'INVALID_REQUEST':
        return { code: EXIT_CODES.USAGE, message: `${error.message} Nothing was changed.` };
      default:
        return { code: EXIT_CODES.INTERNAL, message: error.message };
    }
  }
  // Anything else may carry text from a library: its message is not shown.
  const errno = typeof error === 'object' && error !== null ? (error as NodeJS.ErrnoException).code : undefined;
  if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) return { code: EXIT_CODES.INTERNAL, message: `a file could not be read or written (${errno}).` };
  return { code: EXIT_CODES.INTERNAL, message: 'an unexpected internal error occurred.' };
}

export async function main(): Promise<void> {
  process.exitCode = await runStaffCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
  // A paused stdin still keeps the process alive while a writer holds the pipe open; one line is all that is read.
  process.stdin.destroy();
}

if (isEntryPoint(import.meta.url)) void main();
