/**
 * Key provisioning CLI (docs/architecture.md, "Keys and profiles"; docs/admin-guide.md, "Keys"): `npm run keys -- <command>`.
 *
 *   import <account>   read a value without echo (or from a pipe), check its
 *                      format and the custodian's KCV, store it, print the KCV
 *   import <aes-key> --components 2|3
 *                      the same key from 2 or 3 components, one per custodian
 *                      (split knowledge, dual control); each component is
 *                      checked against its own KCV before the next custodian
 *                      is asked, the key (their XOR) against --kcv, and a
 *                      key-load record goes to the station's audit trail
 *   import pin-public-key --next
 *                      stage the processor's next key or certificate; it
 *                      becomes pin-public-key on its notBefore (the station
 *                      switches at a start or Start) or on `promote`
 *   promote            make the staged next key current now, with an audit
 *                      record in the station's trail
 *   status             one line per known account; never a value
 *   delete <account>   remove an entry
 *
 * A value is never accepted on the command line, never printed, and never
 * part of an error message. The logic lives in runKeysCli() (cli.ts) with
 * injected streams and keychain so tests can drive it without a TTY. This
 * file is its command line: exit codes, help, options and their checks.
 *
 * Public key fingerprint KCV: for `pin-public-key` the "KCV" is the first 10
 * hex characters (uppercase) of SHA-256 over the DER SubjectPublicKeyInfo of
 * the key — the same value whether the custodian supplied an SPKI
 * ("PUBLIC KEY") or a PKCS#1 ("RSA PUBLIC KEY") PEM, or a certificate.
 *
 * pin-public-key may be given as an X.509 certificate (PEM): the entry then
 * holds the certificate itself (re-encoded), so its validity period travels
 * with the key; a bare key is stored as an SPKI PEM and has no known expiry.
 */
import { DATA_DIR_NAME } from '../../../common/domain';
import { isKeyAccount, KEY_ACCOUNTS } from '../../core/keystore';
import type { ProvisionedAccount as KeyAccount } from '../../core/keystore';
import { normalizeAesKcv, RSA_MIN_BITS } from '../../crypto';
import { BASE_EXIT_CODES, CANCELLED_EXIT_CODE, CliError, commonOptions, DEFAULT_SERVICE, exitCodesHelp, rejectOptionsExcept } from '../cli';
import type { CommonArgs, CliBaseDeps, DataDirDeps, CliInput, HiddenReadOptions } from '../cli';

export type { KeyAccount };

/** Every exit code of the CLI, in one place (also listed by --help). */
export const EXIT_CODES = {
  ...BASE_EXIT_CODES,
  USAGE: 2,
  UNKNOWN_ACCOUNT: 3,
  MALFORMED_VALUE: 4,
  KCV_REQUIRED: 5,
  KCV_MISMATCH: 6,
  ENTRY_EXISTS: 7,
  KEYCHAIN_UNAVAILABLE: 8,
  COMPONENT_KCV_MISMATCH: 9,
  COMPONENT_REFUSED: 10,
  CUSTODIAN_REFUSED: 11,
  AUDIT_UNAVAILABLE: 12,
  AUDIT_RECORD_FAILED: 13,
  STATION_RUNNING: 14,
  NOTHING_STAGED: 15,
  CANCELLED: CANCELLED_EXIT_CODE,
} as const;
export type ExitCodeName = keyof typeof EXIT_CODES;

const EXIT_CODE_HELP: Record<ExitCodeName, string> = {
  OK: 'success',
  INTERNAL: 'unexpected internal error',
  USAGE:
    "usage error (bad command, option, --service, --kcv or --components; with --components also an invalid config.json or managed policy, or a --service other than the station's)",
  UNKNOWN_ACCOUNT: 'unknown account',
  MALFORMED_VALUE: 'malformed or empty value (wrong length, not hex, not a 2048+ bit RSA public key, bad token)',
  KCV_REQUIRED: '--kcv missing for an AES key',
  KCV_MISMATCH: 'the value does not match --kcv',
  ENTRY_EXISTS: 'the entry already exists and --replace was not given',
  KEYCHAIN_UNAVAILABLE: 'the keychain could not be reached or is locked',
  COMPONENT_KCV_MISMATCH: "--components: a component does not match its custodian's KCV; nothing was stored",
  COMPONENT_REFUSED: '--components: a component is all zero or equal to an earlier one, or the key they make is all zero; nothing was stored',
  CUSTODIAN_REFUSED:
    "--components: a custodian's name is empty, too long, not printable, looks like key material, or is an earlier custodian's; nothing was stored",
  AUDIT_UNAVAILABLE: '--components: the audit trail cannot take the key-load record (checked before any prompt); nothing was stored',
  AUDIT_RECORD_FAILED: '--components: the key WAS stored, but its key-load record could not be written to the audit trail (see the message)',
  STATION_RUNNING:
    '--components, promote: the station is running on this data directory, or another admin command holds its audit trail; close it or wait (nothing was asked or stored)',
  NOTHING_STAGED: 'promote: no next pin-public-key is staged (import it with --next first); nothing was changed',
  CANCELLED: 'input cancelled with Ctrl-C',
};

/** Upper bound on what is read for one value (a PEM for RSA-8192 is under 2 KiB). */
export const MAX_INPUT_BYTES = 64 * 1024;
export const API_TOKEN_MIN = 16;
export const API_TOKEN_MAX = 4096;
export const AES_ACCOUNTS: readonly KeyAccount[] = ['pin-key', 'audit-key'];

export interface CliDeps extends CliBaseDeps, DataDirDeps {
  readonly stdin: CliInput;
  /** The audit record's clock. */
  readonly now?: () => Date;
}

export function helpText(): string {
  return `Usage: npm run keys -- <command> [options]

Commands:
  import <account>   store a value read without echo from the terminal, or from
                     stdin when piped (one trailing newline is removed)
  import <pin-key|audit-key> --components 2|3 --kcv <key KCV>
                     load the key from 2 or 3 components under split knowledge
                     and dual control: each custodian in turn types their name
                     (shown), their component (hidden, 64 hex characters) and
                     that component's KCV, which is checked before the next
                     custodian is asked. The key is the XOR of the components
                     and must match --kcv. Piped: the same lines from stdin,
                     name, component and KCV per custodian. A key-load record
                     (names and KCVs, never a component) is appended to the
                     station's audit trail; close the station first.
                     Nothing that looks like key material (16+ hex digits) is
                     echoed at any prompt, and the screen is cleared after
                     each custodian.
  import pin-public-key --next
                     stage the processor's next key or certificate (kept in
                     pin-public-key-next): it becomes pin-public-key on its
                     notBefore, when the station next starts or a Start is
                     pressed, or now with "promote"; the switch is recorded
                     in the station's audit trail
  promote            make the staged next pin-public-key current now; writes
                     the switch to the station's audit trail (--data-dir);
                     close the station first
  status             show every account: absent, present with its KCV(s), or
                     malformed; for pin-public-key also the days to expiry
                     ("no expiry known" for a bare key) and the staged next key
  delete <account>   delete an entry
  help               show this text

Accounts:
  pin-key, audit-key  AES-256 key, exactly 64 hex characters; --kcv is required
  pin-public-key      PEM RSA public key of at least ${RSA_MIN_BITS} bits, or the processor's
                      X.509 certificate for it (PEM; its validity is kept); --kcv optional
  api-token           printable ASCII without spaces, ${API_TOKEN_MIN} to ${API_TOKEN_MAX} characters
  ship-key            PEM private key (RSA 2048+ or EC, unencrypted) of the certificate in
                      audit.ship.certFile, for the audit collector; --kcv optional
                      (fingerprint KCV of its public key, as for pin-public-key)

Options:
  --service <name>   keychain service (default "${DEFAULT_SERVICE}")
  --kcv <value>      key check value from the key custodian:
                       AES keys: CMAC KCV (10 hex) or legacy AES-ECB KCV (6 hex)
                       pin-public-key: fingerprint KCV, the first 10 hex characters
                       of SHA-256 over the DER SubjectPublicKeyInfo
  --replace          overwrite an existing entry (import only)
  --next             import pin-public-key as the next key (rotation)
  --components 2|3   import a pin-key or audit-key from that many components
  --data-dir <dir>   with --components and promote: the station's data directory, for its
                     settings (station ID, keychain service: the managed policy,
                     then config.json; --service defaults to them) and its audit
                     trail <dir>/audit/audit.jsonl (default: ~/.config/${DATA_DIR_NAME}
                     on Linux, or $XDG_CONFIG_HOME/${DATA_DIR_NAME})
  -h, --help         show this text

The value is never accepted as an argument and is never printed; of a
component, only its KCVs are printed.

${exitCodesHelp(EXIT_CODES, EXIT_CODE_HELP)}`;
}

export interface ParsedArgs extends CommonArgs {
  readonly service: string;
  readonly kcv: string | undefined;
  readonly replace: boolean;
  readonly components: string | undefined;
  readonly next: boolean;
}

/** Parsed by commonOptions (node:util parseArgs); no message repeats an argument that could be a mistyped secret. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const { values, ...common } = commonOptions(argv, { kcv: 'string', replace: 'boolean', components: 'string', next: 'boolean' }, EXIT_CODES.USAGE, [
    '--data-dir',
  ]);
  return {
    ...common,
    service: common.service ?? DEFAULT_SERVICE,
    kcv: values.kcv,
    replace: values.replace === true,
    components: values.components,
    next: values.next === true,
  };
}

export function requireAccount(positional: readonly string[], command: string): KeyAccount {
  const account = positional[1];
  if (account === undefined) throw new CliError(EXIT_CODES.USAGE, `${command} needs an account: ${KEY_ACCOUNTS.join(', ')}.`);
  // The argument is not repeated: a key typed in the wrong place must not be echoed.
  if (!isKeyAccount(account)) {
    throw new CliError(EXIT_CODES.UNKNOWN_ACCOUNT, `unknown account; expected one of: ${KEY_ACCOUNTS.join(', ')}.`);
  }
  if (positional.length > 2) {
    throw new CliError(EXIT_CODES.USAGE, 'too many arguments. A value is never given on the command line: pipe it to stdin or type it at the prompt.');
  }
  return account;
}

export function rejectOptions(args: ParsedArgs, command: string, allowed: readonly string[]): void {
  rejectOptionsExcept(args.seen, command, allowed, EXIT_CODES.USAGE);
}

/** The --kcv given for `account`, uppercase without spaces; a usage error when it has the wrong form. */
export function normalizeKcv(given: string, account: KeyAccount): string {
  if (AES_ACCOUNTS.includes(account)) {
    const normalized = normalizeAesKcv(given);
    if (normalized === null) throw new CliError(EXIT_CODES.USAGE, `--kcv for ${account} must be 10 hex characters (CMAC KCV) or 6 (legacy KCV).`);
    return normalized;
  }
  const normalized = given.replace(/\s+/g, '').toUpperCase();
  if (account === 'pin-public-key' || account === 'ship-key') {
    if (!/^[0-9A-F]{10}$/.test(normalized)) {
      throw new CliError(EXIT_CODES.USAGE, `--kcv for ${account} must be 10 hex characters (SHA-256 fingerprint of the SubjectPublicKeyInfo).`);
    }
  } else {
    throw new CliError(EXIT_CODES.USAGE, `--kcv does not apply to ${account}.`);
  }
  return normalized;
}

/** The terminal prompt (../cli/stdin.ts) for a value: a PEM takes several lines. */
export function hiddenOptions(account: KeyAccount): HiddenReadOptions {
  return {
    multiline: account === 'pin-public-key' || account === 'ship-key',
    maxChars: MAX_INPUT_BYTES,
    exitCodes: { usage: EXIT_CODES.USAGE, cancelled: EXIT_CODES.CANCELLED, tooLong: EXIT_CODES.MALFORMED_VALUE, internal: EXIT_CODES.INTERNAL },
  };
}
