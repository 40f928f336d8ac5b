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
 * printed, and never part of a message. The logic lives in runStaffCli() (cli.ts)
 * with injected streams and keychain so tests can drive it. This file is its
 * command line: exit codes, help, options and their checks.
 */
import { DATA_DIR_NAME } from '../../../common/domain';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, ROLES, USERNAME_RULE } from '../../../common/staff';
import type { Role } from '../../../common/staff';
import { checkUsername } from '../../core/staff/accounts';
import { BASE_EXIT_CODES, CANCELLED_EXIT_CODE, CliError, COMMON_OPTIONS, commonOptions, DEFAULT_SERVICE, exitCodesHelp, rejectOptionsExcept } from '../cli';
import type { CommonArgs, CliBaseDeps, DataDirDeps, CliInput } from '../cli';

/** Every exit code of the CLI, in one place (also listed by --help). */
export const EXIT_CODES = {
  ...BASE_EXIT_CODES,
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
  CANCELLED: CANCELLED_EXIT_CODE,
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

export interface StaffCliDeps extends CliBaseDeps, DataDirDeps {
  readonly stdin: CliInput;
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

export interface ParsedArgs extends CommonArgs {
  readonly roles: string | undefined;
  readonly name: string | undefined;
  readonly json: boolean;
}

/**
 * Parsed by commonOptions (node:util parseArgs); no message repeats an argument that could be a mistyped password.
 * Without --service, `service` is undefined: the station's (policy, config.json, default) is used.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const { values, ...common } = commonOptions(argv, { roles: 'string', name: 'string', json: 'boolean' }, EXIT_CODES.USAGE, [
    '--service',
    '--data-dir',
    '--roles',
  ]);
  return { ...common, roles: values.roles, name: values.name, json: values.json === true };
}

/** Options other than --service and --data-dir that a command takes. */
export function rejectOptions(args: ParsedArgs, command: string, allowed: readonly string[]): void {
  rejectOptionsExcept(args.seen, command, [...COMMON_OPTIONS, ...allowed], EXIT_CODES.USAGE);
}

/** The user name argument, normalised; neither a missing nor an invalid one is repeated. */
export function requireUsername(args: ParsedArgs, command: string): string {
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

export function parseRoles(given: string | undefined, command = 'add'): Role[] {
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
export function parseDisplayName(given: string | undefined): string | null {
  if (given === undefined || given.trim() === '') return null;
  const trimmed = given.trim();
  if (trimmed.length > 128 || /\p{Cc}/u.test(trimmed)) throw new CliError(EXIT_CODES.USAGE, '--name has at most 128 characters and no control characters.');
  return trimmed;
}
