/**
 * Key provisioning CLI (docs/architecture.md, "Keys and profiles"; README, "Keys"): `npm run keys -- <command>`.
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
 * part of an error message. The logic lives in runKeysCli() with injected
 * streams and keychain so tests can drive it without a TTY; main() is the
 * thin process entry.
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
import { AES256_KEY_HEX, DATA_DIR_NAME, PRINTABLE_TOKEN } from '../../../common/domain';
import { createHash, timingSafeEqual } from 'node:crypto';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import forge from 'node-forge';
import { StationError } from '../../../common/errors';
import { takeAdminLock } from '../../core/admin-lock';
import { AuditLog, auditFilePath } from '../../core/audit';
import type { AuditKeyLoadEntry } from '../../core/audit';
import { CUSTODIAN_NAME_PATTERN, custodianIdentity } from '../../core/audit/format';
import { checkShipKey } from '../../core/audit/ship-identity';
import type { ShipKeyCheck } from '../../core/audit/ship-identity';
import { isKeyAccount, KEY_ACCOUNTS } from '../../core/keystore';
import type { ProvisionedAccount as KeyAccount } from '../../core/keystore';
import { bytesToHex, daysToExpiry, kcv, kcvMatches, parseAes256KeyHex, parseProcessorKey, processorKeyEntry, RSA_MIN_BITS } from '../../crypto';
import type { ProcessorKey } from '../../crypto';
import { NEXT_PROCESSOR_KEY_ACCOUNT } from '../../core/keystore';
import { promoteNextProcessorKey, readNextProcessorKey } from '../../core/processor-key-rotation';
import { SANDBOX_BASE_URL } from '../../core/config';
import {
  clearTerminal,
  CliError,
  DEFAULT_SERVICE,
  defaultDataDir,
  exitCodesHelp,
  isEntryPoint,
  looksLikeKeyMaterial,
  openStoreChecked,
  parseCliArgs,
  pipedLines,
  readHidden,
  readStationSettings,
  readTerminal,
  runCli,
  stationRunning,
} from '../cli';
import type { CliArgs, CliBaseDeps, CliInput, CliOutput, HiddenReadOptions } from '../cli';

export { CliError, DEFAULT_SERVICE };
export type { CliInput, CliOutput };

/** Every exit code of the CLI, in one place (also listed by --help). */
export const EXIT_CODES = {
  OK: 0,
  INTERNAL: 1,
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
  CANCELLED: 130,
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
const AES_ACCOUNTS: readonly KeyAccount[] = ['pin-key', 'audit-key'];

export interface CliDeps extends CliBaseDeps {
  readonly stdin: CliInput;
  /** For the default data directory (--components); process.env, process.platform and os.homedir() by default. */
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  readonly homedir?: string;
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

interface ParsedArgs extends CliArgs {
  readonly service: string;
  readonly kcv: string | undefined;
  readonly replace: boolean;
  readonly components: string | undefined;
  readonly dataDir: string | undefined;
  readonly next: boolean;
  readonly seen: ReadonlySet<string>;
}

/** Parsed by parseCliArgs (node:util parseArgs); no message repeats an argument that could be a mistyped secret. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const { help, positional, values, seen } = parseCliArgs(
    argv,
    { service: 'string', kcv: 'string', replace: 'boolean', components: 'string', 'data-dir': 'string', next: 'boolean' },
    EXIT_CODES.USAGE,
  );
  if (seen.has('--data-dir') && values['data-dir'] === '') throw new CliError(EXIT_CODES.USAGE, '--data-dir needs a value.');
  return {
    help,
    positional,
    service: values.service ?? DEFAULT_SERVICE,
    kcv: values.kcv,
    replace: values.replace === true,
    components: values.components,
    dataDir: values['data-dir'],
    next: values.next === true,
    seen,
  };
}

// ---------------------------------------------------------------- validation

type Check<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export interface AesInfo {
  readonly cmac: string;
  readonly legacy: string;
}
export interface PublicKeyInfo {
  readonly bits: number;
  readonly fingerprint: string;
  /** What gets stored: the certificate re-encoded, or the key as an SPKI PEM. */
  readonly pem: string;
  readonly key: ProcessorKey;
}

/** Checks a 64-hex AES-256 key and computes both KCVs; with `givenKcv`, also whether it matches. */
function checkAesKey(value: string, account: KeyAccount, givenKcv?: string): Check<AesInfo & { matches: boolean }> {
  const problem = aesHexProblem(value);
  if (problem !== null) return { ok: false, reason: problem };
  const key = parseAes256KeyHex(value, account);
  try {
    const values = kcv(key);
    const matches = givenKcv !== undefined && kcvMatches(key, givenKcv);
    return { ok: true, value: { cmac: values.cmac, legacy: values.legacy, matches } };
  } finally {
    key.fill(0);
  }
}

/** Why `value` is not 64 hex characters (the rule of a whole AES-256 key and of a component), or null. */
function aesHexProblem(value: string): string | null {
  if (value.length !== 64) return `must be exactly 64 hexadecimal characters (AES-256), but ${value.length} were given`;
  if (!AES256_KEY_HEX.test(value)) return 'must contain only hexadecimal characters (0-9, a-f, A-F), but it contains other characters';
  return null;
}

/** SHA-256 over the DER SubjectPublicKeyInfo, first 5 bytes, uppercase hex. */
export function publicKeyFingerprint(spkiDer: Uint8Array): string {
  return createHash('sha256').update(spkiDer).digest('hex').slice(0, 10).toUpperCase();
}

function rsaBitsIfReadable(pem: string): number | null {
  try {
    const key = forge.pki.publicKeyFromPem(pem) as forge.pki.rsa.PublicKey;
    return key.n ? key.n.bitLength() : null;
  } catch {
    return null;
  }
}

function checkPublicKey(pem: string): Check<PublicKeyInfo> {
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) {
    return { ok: false, reason: "is a private key; only the processor's public key may be stored (nothing of it was printed)" };
  }
  let key: ProcessorKey;
  try {
    key = parseProcessorKey(pem);
  } catch (error) {
    if (/-----BEGIN CERTIFICATE-----/.test(pem)) {
      // The product's messages name the certificate's problem, never its content.
      return { ok: false, reason: `is not a usable certificate: ${error instanceof StationError ? error.message : 'it could not be read'}` };
    }
    const bits = rsaBitsIfReadable(pem);
    return {
      ok: false,
      reason:
        bits !== null
          ? `is an RSA public key of ${bits} bits; at least ${RSA_MIN_BITS} bits are required`
          : `is not a PEM RSA public key ("PUBLIC KEY" or "RSA PUBLIC KEY") of at least ${RSA_MIN_BITS} bits`,
    };
  }
  return { ok: true, value: { bits: key.bits, fingerprint: key.kcv, pem: processorKeyEntry(pem), key } };
}

/** "; certificate valid <from> to <to>, 12 days left" or "; no expiry known". */
function validityText(key: ProcessorKey, now: Date): string {
  if (key.notAfter === null || key.notBefore === null) return '; no expiry known';
  const days = daysToExpiry(key, now) as number;
  const left = days < 0 ? `EXPIRED ${-days} day(s) ago` : `${days} day(s) to expiry`;
  return `; certificate valid ${key.notBefore.toISOString()} to ${key.notAfter.toISOString()}, ${left}`;
}

function checkApiToken(value: string): Check<{ length: number }> {
  if (value.length < API_TOKEN_MIN || value.length > API_TOKEN_MAX) {
    return { ok: false, reason: `must be ${API_TOKEN_MIN} to ${API_TOKEN_MAX} characters, but ${value.length} were given` };
  }
  if (/\s/.test(value)) return { ok: false, reason: 'must not contain spaces or other whitespace' };
  if (!PRINTABLE_TOKEN.test(value)) return { ok: false, reason: 'must contain only printable ASCII characters' };
  return { ok: true, value: { length: value.length } };
}

/** "pin-key: present; ..." detail for a stored value (status). Never includes the value. */
function describeStored(account: KeyAccount, value: string, now: Date): string {
  if (AES_ACCOUNTS.includes(account)) {
    const check = checkAesKey(value, account);
    return check.ok ? `present; KCV (CMAC) ${check.value.cmac}, KCV (legacy) ${check.value.legacy}` : `present but malformed: ${check.reason}`;
  }
  if (account === 'pin-public-key') {
    const check = checkPublicKey(value);
    return check.ok
      ? `present; RSA ${check.value.bits} bits, fingerprint KCV (SHA-256 of SPKI) ${check.value.fingerprint}${validityText(check.value.key, now)}`
      : `present but malformed: ${check.reason}`;
  }
  if (account === 'ship-key') {
    const check = checkShipKey(value);
    return check.ok ? `present; ${describeShipKey(check)}` : `present but malformed: ${check.reason}`;
  }
  const check = checkApiToken(value);
  return check.ok ? `present (${value.length} characters)` : `present but malformed: ${check.reason}`;
}

function describeShipKey(check: Extract<ShipKeyCheck, { ok: true }>): string {
  return `${check.kind}${check.bits === null ? '' : ` ${check.bits} bits`}, fingerprint KCV (SHA-256 of SPKI) ${check.fingerprint}`;
}

function normalizeKcv(given: string, account: KeyAccount): string {
  const normalized = given.replace(/\s+/g, '').toUpperCase();
  if (AES_ACCOUNTS.includes(account)) {
    if (!/^[0-9A-F]{6}$|^[0-9A-F]{10}$/.test(normalized)) {
      throw new CliError(EXIT_CODES.USAGE, `--kcv for ${account} must be 10 hex characters (CMAC KCV) or 6 (legacy KCV).`);
    }
  } else if (account === 'pin-public-key' || account === 'ship-key') {
    if (!/^[0-9A-F]{10}$/.test(normalized)) {
      throw new CliError(EXIT_CODES.USAGE, `--kcv for ${account} must be 10 hex characters (SHA-256 fingerprint of the SubjectPublicKeyInfo).`);
    }
  } else {
    throw new CliError(EXIT_CODES.USAGE, `--kcv does not apply to ${account}.`);
  }
  return normalized;
}

// --------------------------------------------------------------------- input

function trimOneNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}

async function readPiped(stdin: CliInput): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stdin) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
      chunks.push(buffer);
      total += buffer.length;
      if (total > MAX_INPUT_BYTES) {
        throw new CliError(EXIT_CODES.MALFORMED_VALUE, `the input is longer than ${MAX_INPUT_BYTES} bytes. Nothing was stored.`);
      }
    }
    const all = Buffer.concat(chunks);
    try {
      return trimOneNewline(all.toString('utf8'));
    } finally {
      all.fill(0);
    }
  } finally {
    for (const chunk of chunks) chunk.fill(0);
  }
}

/** The terminal prompt (../cli/common.ts): a PEM takes several lines. */
function hiddenOptions(account: KeyAccount): HiddenReadOptions {
  return {
    multiline: account === 'pin-public-key' || account === 'ship-key',
    maxChars: MAX_INPUT_BYTES,
    exitCodes: { usage: EXIT_CODES.USAGE, cancelled: EXIT_CODES.CANCELLED, tooLong: EXIT_CODES.MALFORMED_VALUE, internal: EXIT_CODES.INTERNAL },
  };
}

function promptFor(account: KeyAccount): string {
  switch (account) {
    case 'pin-key':
    case 'audit-key':
      return `Enter ${account} (64 hex characters, input hidden), then press Enter: `;
    case 'pin-public-key':
      return 'Paste pin-public-key (PEM, input hidden); input ends after the -----END line or Ctrl-D: ';
    case 'api-token':
      return 'Enter api-token (input hidden), then press Enter: ';
    case 'ship-key':
      return 'Paste ship-key (PEM private key, input hidden); input ends after the -----END line or Ctrl-D: ';
  }
}

// ------------------------------------------------------------------ commands

function requireAccount(positional: readonly string[], command: string): KeyAccount {
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

function rejectOptions(args: ParsedArgs, command: string, allowed: readonly string[]): void {
  for (const name of args.seen) {
    if (!allowed.includes(name)) throw new CliError(EXIT_CODES.USAGE, `${name} does not apply to "${command}".`);
  }
}

async function runImport(args: ParsedArgs, deps: CliDeps): Promise<number | void> {
  if (args.seen.has('--components')) return runComponentImport(args, deps);
  if (args.seen.has('--data-dir')) throw new CliError(EXIT_CODES.USAGE, '--data-dir applies to import only with --components.');
  rejectOptions(args, 'import', ['--service', '--kcv', '--replace', '--next']);
  const account = requireAccount(args.positional, 'import');
  if (args.next && account !== 'pin-public-key') throw new CliError(EXIT_CODES.USAGE, '--next applies only to pin-public-key.');
  // --next stages the key in an entry of its own; the current one is untouched until the switch.
  const target = args.next ? NEXT_PROCESSOR_KEY_ACCOUNT : account;
  const isAes = AES_ACCOUNTS.includes(account);
  if (isAes && args.kcv === undefined) {
    throw new CliError(
      EXIT_CODES.KCV_REQUIRED,
      `--kcv is required for ${account}: give the key check value from the key custodian (CMAC, 10 hex, or legacy, 6 hex). Nothing was stored.`,
    );
  }
  const givenKcv = args.kcv === undefined ? undefined : normalizeKcv(args.kcv, account);
  const store = openStoreChecked(deps, args.service, EXIT_CODES.USAGE);
  const existed = (await store.get(target)) !== null;
  if (existed && !args.replace) {
    throw new CliError(EXIT_CODES.ENTRY_EXISTS, `${target} already exists in service "${args.service}". Use --replace to overwrite it. Nothing was stored.`);
  }

  const value = deps.stdin.isTTY === true ? await readHidden(deps.stdin, deps.stderr, promptFor(account), hiddenOptions(account)) : await readPiped(deps.stdin);
  if (value.length === 0) throw new CliError(EXIT_CODES.MALFORMED_VALUE, `no value was read for ${account} (empty input). Nothing was stored.`);

  const verb = existed ? 'replaced' : 'stored';
  const where = `${account} in service "${args.service}"`;
  if (isAes) {
    const check = checkAesKey(value, account, givenKcv);
    if (!check.ok) throw new CliError(EXIT_CODES.MALFORMED_VALUE, `${account} ${check.reason}. Nothing was stored.`);
    if (!check.value.matches) {
      throw new CliError(
        EXIT_CODES.KCV_MISMATCH,
        `the ${account} value does not match --kcv (checked against the CMAC and the legacy KCV). Check the key and the KCV with the key custodian. Nothing was stored.`,
      );
    }
    await store.set(account, value.toUpperCase());
    deps.stdout.write(`${verb} ${where}; KCV (CMAC) ${check.value.cmac}, KCV (legacy) ${check.value.legacy}\n`);
    return;
  }
  if (account === 'pin-public-key') {
    const check = checkPublicKey(value);
    if (!check.ok) throw new CliError(EXIT_CODES.MALFORMED_VALUE, `${account} ${check.reason}. Nothing was stored.`);
    if (givenKcv !== undefined && givenKcv !== check.value.fingerprint) {
      throw new CliError(
        EXIT_CODES.KCV_MISMATCH,
        'the pin-public-key does not match --kcv (SHA-256 fingerprint of the SubjectPublicKeyInfo). Check the key and the KCV with the key custodian. Nothing was stored.',
      );
    }
    const key = check.value.key;
    const validity = key.notAfter === null ? '' : validityText(key, deps.now?.() ?? new Date());
    await store.set(target, check.value.pem);
    if (!args.next) {
      deps.stdout.write(`${verb} ${where}; RSA ${check.value.bits} bits, fingerprint KCV (SHA-256 of SPKI) ${check.value.fingerprint}${validity}\n`);
      return;
    }
    const when =
      key.notBefore === null
        ? 'it has no date of its own: it becomes current only with "npm run keys -- promote"'
        : `it becomes current on ${key.notBefore.toISOString()} (or earlier with "npm run keys -- promote")`;
    deps.stdout.write(
      `${verb} the next pin-public-key (${target}) in service "${args.service}"; RSA ${check.value.bits} bits, fingerprint KCV (SHA-256 of SPKI) ${check.value.fingerprint}${validityText(key, deps.now?.() ?? new Date())}; ${when}\n`,
    );
    return;
  }
  if (account === 'ship-key') {
    const check = checkShipKey(value);
    if (!check.ok) throw new CliError(EXIT_CODES.MALFORMED_VALUE, `${account} ${check.reason}. Nothing was stored.`);
    if (givenKcv !== undefined && givenKcv !== check.fingerprint) {
      throw new CliError(
        EXIT_CODES.KCV_MISMATCH,
        'the ship-key does not match --kcv (SHA-256 fingerprint of its SubjectPublicKeyInfo). Check the key and its certificate. Nothing was stored.',
      );
    }
    await store.set(account, `${value.trim()}\n`);
    // The station checks at start that the key belongs to audit.ship.certFile; the fingerprint lets one check now.
    deps.stdout.write(`${verb} ${where}; ${describeShipKey(check)}\n`);
    return;
  }
  const check = checkApiToken(value);
  if (!check.ok) throw new CliError(EXIT_CODES.MALFORMED_VALUE, `${account} ${check.reason}. Nothing was stored.`);
  await store.set(account, value);
  deps.stdout.write(`${verb} ${where} (${check.value.length} characters)\n`);
}

// ------------------------------------------------------- key components
//
// import <pin-key|audit-key> --components N: PCI PIN Security Requirements'
// split knowledge and dual control. No custodian sees another's component; each
// component is proved against its own KCV before the next custodian is asked,
// so a typo is caught at the custodian who made it. Components and the key are
// bytes wiped after use (the keychain itself takes a string, as for a whole
// key). The station's audit trail must be able to take the key-load record
// before anyone is asked, so a key is never loaded without it.

/** Names, components and KCVs: from the terminal (prompts on stderr) or, piped, one line each. */
interface CustodianInput {
  /** A name, echoed (never a run of hex digits that looks like key material); null when the input has ended. */
  name(prompt: string): Promise<string | null>;
  /** A KCV, echoed as a name is; null when the input has ended. */
  kcv(prompt: string): Promise<string | null>;
  /** A component: never echoed; null (or empty) when nothing was read. */
  hidden(prompt: string): Promise<string | null>;
  /** A custodian is done: on a terminal the screen is cleared, then `message` shown. */
  handOver(message: string): void;
  close(): void;
}

/** Longest answer taken at a visible prompt (no name or KCV is that long); more is an error. */
const VISIBLE_MAX_CHARS = 256;
/** What a visible prompt echoes at most: a name needs NAME_CHARS_MAX, a KCV 10 hex digits and a few spaces. */
const NAME_SHOWN_MAX = 64;
const KCV_SHOWN_MAX = 14;

/** The terminal stays in raw mode from the first prompt to the end: nothing typed between prompts is echoed either. */
function terminalInput(deps: CliDeps, account: KeyAccount): CustodianInput {
  const options = { ...hiddenOptions(account), stayRaw: true };
  const visible = (prompt: string, maxShown: number): Promise<string | null> =>
    readTerminal(deps.stdin, deps.stderr, prompt, { ...options, multiline: false, maxChars: VISIBLE_MAX_CHARS, echo: { maxShown } });
  return {
    name: (prompt) => visible(prompt, NAME_SHOWN_MAX),
    kcv: (prompt) => visible(prompt, KCV_SHOWN_MAX),
    hidden: (prompt) => readHidden(deps.stdin, deps.stderr, prompt, options),
    handOver: (message) => {
      // Nothing the last custodian typed or was shown stays on screen for the next.
      clearTerminal(deps.stderr);
      deps.stderr.write(message);
    },
    close: () => void deps.stdin.setRawMode?.(false),
  };
}

/** Piped stdin, line by line (LF or CRLF); no prompt and no echo. */
function pipedInput(stdin: CliInput): CustodianInput {
  const lines = pipedLines(stdin, MAX_INPUT_BYTES, {
    tooLong: () => new CliError(EXIT_CODES.MALFORMED_VALUE, `a line of the input is longer than ${MAX_INPUT_BYTES} characters. Nothing was stored.`),
    unreadable: () => new CliError(EXIT_CODES.INTERNAL, 'stdin could not be read. Nothing was stored.'),
  });
  return { name: () => lines.next(), kcv: () => lines.next(), hidden: () => lines.next(), handOver: () => undefined, close: () => lines.close() };
}

function parseComponentCount(given: string | undefined): 2 | 3 {
  if (given === '2') return 2;
  if (given === '3') return 3;
  throw new CliError(EXIT_CODES.USAGE, '--components must be 2 or 3.');
}

/** AuditLog.check(): the trail can take a record now. Anything else is refused before a prompt. */
async function checkTrail(log: AuditLog, path: string, dataDir: string): Promise<number> {
  try {
    return await log.check();
  } catch (error) {
    if (error instanceof StationError && error.code !== 'KEYCHAIN_UNAVAILABLE') {
      throw new CliError(
        EXIT_CODES.AUDIT_UNAVAILABLE,
        `the audit trail at ${path} cannot take the key-load record (${error.code}): ${error.message} ` +
          `Check it with: npm run audit -- verify --data-dir ${dataDir}. A key is never loaded without its record: nobody was asked for a component and nothing was stored.`,
      );
    }
    throw error;
  }
}

const NAME_CHARS_MAX = 64;

/** The name as recorded: NFC, spaces collapsed and trimmed; refused names are never repeated in a message. */
function checkCustodianName(typed: string | null, n: number, earlier: readonly string[]): string {
  const who = `custodian ${n}`;
  if (typed === null) throw new CliError(EXIT_CODES.MALFORMED_VALUE, `the input ended before ${who}'s name. Nothing was stored.`);
  const name = typed.normalize('NFC').replace(/\s+/g, ' ').trim();
  const refuse = (why: string): never => {
    throw new CliError(EXIT_CODES.CUSTODIAN_REFUSED, `${who}'s name ${why}. Nothing was stored.`);
  };
  if (name.length === 0) refuse('is empty');
  if ([...name].length > NAME_CHARS_MAX) refuse(`is longer than ${NAME_CHARS_MAX} characters`);
  if (!CUSTODIAN_NAME_PATTERN.test(name)) refuse('must be printable characters only');
  // A component or KCV typed at the wrong prompt must not reach the output or the audit trail.
  if (!/\p{L}/u.test(name) || looksLikeKeyMaterial(name)) {
    refuse('looks like a value (digits, or hex like a component), not a name; it was not recorded');
  }
  const same = earlier.findIndex((other) => custodianIdentity(other) === custodianIdentity(name));
  if (same !== -1) refuse(`is the same as custodian ${same + 1}'s: each component needs its own custodian`);
  return name;
}

/** The component's bytes, refused when all zero or equal to an earlier one; the caller wipes them. */
function checkComponent(typed: string | null, account: KeyAccount, n: number, earlier: readonly Uint8Array[]): Uint8Array {
  const what = `custodian ${n}'s component`;
  if (typed === null || typed.length === 0) {
    throw new CliError(EXIT_CODES.MALFORMED_VALUE, `no value was read for ${what} (empty input). Nothing was stored.`);
  }
  const problem = aesHexProblem(typed);
  if (problem !== null) throw new CliError(EXIT_CODES.MALFORMED_VALUE, `${what} ${problem}. Nothing was stored.`);
  const component = parseAes256KeyHex(typed, account);
  const refusal = isAllZero(component)
    ? 'is all zero'
    : earlier.some((other) => timingSafeEqual(other, component))
      ? // Split knowledge is already broken: the components must be made again.
        'is equal to an earlier component; have new components made'
      : null;
  if (refusal !== null) {
    component.fill(0);
    throw new CliError(EXIT_CODES.COMPONENT_REFUSED, `${what} ${refusal}. Nothing was stored.`);
  }
  return component;
}

function checkComponentKcv(typed: string | null, component: Uint8Array, n: number): AesInfo {
  const what = `custodian ${n}'s component`;
  if (typed === null) throw new CliError(EXIT_CODES.MALFORMED_VALUE, `the input ended before the KCV of ${what}. Nothing was stored.`);
  const given = typed.replace(/\s+/g, '').toUpperCase();
  if (!/^[0-9A-F]{6}$|^[0-9A-F]{10}$/.test(given)) {
    throw new CliError(EXIT_CODES.MALFORMED_VALUE, `the KCV of ${what} must be 10 hex characters (CMAC KCV) or 6 (legacy KCV). Nothing was stored.`);
  }
  if (!kcvMatches(component, given)) {
    throw new CliError(
      EXIT_CODES.COMPONENT_KCV_MISMATCH,
      `${what} does not match its KCV (checked against the CMAC and the legacy KCV); custodian ${n} should check both. Nothing was stored.`,
    );
  }
  const values = kcv(component);
  return { cmac: values.cmac, legacy: values.legacy };
}

function isAllZero(bytes: Uint8Array): boolean {
  let any = 0;
  for (const byte of bytes) any |= byte;
  return any === 0;
}

/** XOR of the components, in a new buffer the caller wipes. */
function combine(components: readonly Uint8Array[]): Uint8Array {
  const key = new Uint8Array(32);
  for (const component of components) for (let i = 0; i < key.length; i++) key[i] = (key[i] as number) ^ (component[i] as number);
  return key;
}

async function runComponentImport(args: ParsedArgs, deps: CliDeps): Promise<void> {
  rejectOptions(args, 'import', ['--service', '--kcv', '--replace', '--components', '--data-dir']);
  const account = requireAccount(args.positional, 'import');
  if (account !== 'pin-key' && account !== 'audit-key') throw new CliError(EXIT_CODES.USAGE, `--components applies only to ${AES_ACCOUNTS.join(' and ')}.`);
  const count = parseComponentCount(args.components);
  if (args.kcv === undefined) {
    throw new CliError(
      EXIT_CODES.KCV_REQUIRED,
      `--kcv is required: the KCV of the whole ${account} the components make (CMAC, 10 hex, or legacy, 6 hex). Nothing was stored.`,
    );
  }
  const keyKcv = normalizeKcv(args.kcv, account);
  const dataDir = resolve(args.dataDir ?? defaultDataDir(deps.platform ?? process.platform, deps.env ?? process.env, deps.homedir ?? homedir()));
  const trail = auditFilePath(dataDir);
  // The key-load record goes into the station's trail, which has one writer at a time. The trail's admin lock is
  // held from before the first check to after the record: a station started meanwhile refuses to start.
  const lock = takeAdminLock(trail, 'npm run keys -- import --components');
  if ('heldBy' in lock) {
    throw new CliError(
      EXIT_CODES.STATION_RUNNING,
      `the audit trail at ${trail} is being written by ${lock.heldBy}: wait for it to finish. Nothing was asked or stored.`,
    );
  }
  try {
    // Checked after the lock is taken: a station starting now either is seen here or sees the lock.
    if (stationRunning(dataDir)) {
      throw new CliError(EXIT_CODES.STATION_RUNNING, `the station is running on ${dataDir}: close it first, then load the key. Nothing was asked or stored.`);
    }
    await loadComponents(args, deps, account, count, keyKcv, dataDir, trail);
  } finally {
    lock.release();
  }
}

async function loadComponents(
  args: ParsedArgs,
  deps: CliDeps,
  account: 'pin-key' | 'audit-key',
  count: 2 | 3,
  keyKcv: string,
  dataDir: string,
  trail: string,
): Promise<void> {
  // The policy's keychain.service and station.id beat config.json's, as when the station starts.
  const config = await readStationSettings(dataDir, deps, EXIT_CODES.USAGE, 'Nothing was stored.');
  if (args.seen.has('--service') && config.keychain.service !== args.service) {
    // Elsewhere the key would not be read, and the record would be signed with another service's audit-key.
    throw new CliError(
      EXIT_CODES.USAGE,
      `the station's configuration names keychain service "${config.keychain.service}", not the one given with --service. Nothing was stored.`,
    );
  }
  const service = config.keychain.service;
  const store = openStoreChecked(deps, service, EXIT_CODES.USAGE);
  const existed = (await store.get(account)) !== null;
  if (existed && !args.replace) {
    throw new CliError(EXIT_CODES.ENTRY_EXISTS, `${account} already exists in service "${service}". Use --replace to overwrite it. Nothing was stored.`);
  }
  const log = new AuditLog(trail, store, deps.now ? { now: deps.now } : {});
  const records = await checkTrail(log, trail, dataDir);
  if (account === 'audit-key' && records > 0) {
    throw new CliError(
      EXIT_CODES.AUDIT_UNAVAILABLE,
      `audit-key signs the audit trail at ${trail}, which already has records: with another key they could no longer be verified, ` +
        'and the key-load record could not join their chain. Load audit-key from components before the station writes its first record. Nothing was stored.',
    );
  }
  const auditKeyExisted = (await store.get('audit-key')) !== null;

  const input = deps.stdin.isTTY === true ? terminalInput(deps, account) : pipedInput(deps.stdin);
  const components: Uint8Array[] = [];
  let key: Uint8Array | null = null;
  let entry: AuditKeyLoadEntry;
  const verb = existed ? 'replaced' : 'stored';
  const where = `${account} in service "${service}"`;
  try {
    const custodians: string[] = [];
    const componentKcvs: string[] = [];
    for (let n = 1; n <= count; n++) {
      const name = checkCustodianName(await input.name(`Custodian ${n} of ${count}, your name (shown): `), n, custodians);
      custodians.push(name);
      const hiddenPrompt = `Custodian ${n} of ${count} (${name}), enter your component of ${account} (64 hex characters, input hidden), then press Enter: `;
      components.push(checkComponent(await input.hidden(hiddenPrompt), account, n, components));
      const values = checkComponentKcv(
        await input.kcv(`Custodian ${n} of ${count}, the KCV of your component (10 or 6 hex): `),
        components[n - 1] as Uint8Array,
        n,
      );
      componentKcvs.push(values.cmac);
      input.handOver(n < count ? `Custodian ${n} is done. Custodian ${n + 1} of ${count}, please take over.\n` : `Custodian ${n} is done.\n`);
      deps.stdout.write(`custodian ${n} (${name}): component ${n} matches its KCV; KCV (CMAC) ${values.cmac}, KCV (legacy) ${values.legacy}\n`);
    }
    key = combine(components);
    if (isAllZero(key))
      throw new CliError(EXIT_CODES.COMPONENT_REFUSED, `the ${count} components make an all-zero key; have new components made. Nothing was stored.`);
    if (!kcvMatches(key, keyKcv)) {
      throw new CliError(
        EXIT_CODES.KCV_MISMATCH,
        `the ${account} the ${count} components make does not match --kcv (checked against the CMAC and the legacy KCV), though each component matched its own KCV. ` +
          'Check --kcv and that these are the components of this key. Nothing was stored.',
      );
    }
    const values = kcv(key);
    await store.set(account, bytesToHex(key));
    deps.stdout.write(`${verb} ${where} from ${count} components; KCV (CMAC) ${values.cmac}, KCV (legacy) ${values.legacy}\n`);
    entry = {
      type: 'key-load',
      stationId: config.station.id,
      account,
      components: count,
      custodians,
      componentKcvs,
      keyKcv: values.cmac,
      keyKcvLegacy: values.legacy,
    };
  } finally {
    for (const component of components) component.fill(0);
    key?.fill(0);
    input.close();
  }

  let seq: number;
  try {
    seq = (await log.append(entry)).seq;
    await log.flush();
  } catch (error) {
    const why = error instanceof StationError ? ` (${error.code}: ${error.message})` : '';
    throw new CliError(
      EXIT_CODES.AUDIT_RECORD_FAILED,
      `${account} WAS ${verb.toUpperCase()} in service "${service}", but its key-load record could not be written to the audit trail at ${trail}${why}. ` +
        `The key is in the keychain WITHOUT its audit record. Repair the trail (npm run audit -- verify --data-dir ${dataDir}), then either delete the key ` +
        `(npm run keys -- delete ${account} --service ${service}) and load it again, or record this key load by hand with the names and KCVs printed above.`,
    );
  }
  if (!auditKeyExisted && account !== 'audit-key') {
    deps.stdout.write('note: audit-key did not exist; it was created for the audit trail, as the station does for its first record\n');
  }
  deps.stdout.write(`key-load record ${seq} written to the audit trail at ${trail}\n`);
}

async function runStatus(args: ParsedArgs, deps: CliDeps): Promise<void> {
  rejectOptions(args, 'status', ['--service']);
  if (args.positional.length > 1) throw new CliError(EXIT_CODES.USAGE, 'status takes no arguments.');
  const store = openStoreChecked(deps, args.service, EXIT_CODES.USAGE);
  const lines = [`service "${args.service}"`];
  const now = deps.now?.() ?? new Date();
  for (const account of KEY_ACCOUNTS) {
    const value = await store.get(account);
    lines.push(`${account}: ${value === null ? 'absent' : describeStored(account, value, now)}`);
    if (account === 'pin-public-key') lines.push(`pin-public-key (next): ${await describeNext(store, now)}`);
  }
  deps.stdout.write(`${lines.join('\n')}\n`);
}

async function describeNext(store: ReturnType<typeof openStoreChecked>, now: Date): Promise<string> {
  const value = await store.get(NEXT_PROCESSOR_KEY_ACCOUNT);
  if (value === null) return 'none staged';
  const check = checkPublicKey(value);
  if (!check.ok) return `present but malformed: ${check.reason}`;
  const key = check.value.key;
  const when = key.notBefore === null ? 'becomes current on "promote"' : `becomes current on ${key.notBefore.toISOString()}`;
  return `staged; RSA ${key.bits} bits, fingerprint KCV (SHA-256 of SPKI) ${key.kcv}${validityText(key, now)}; ${when}`;
}

/**
 * Without --service, the station's own service: the managed policy's keychain.service beats config.json's (in the
 * default data directory), as when the station starts, so a key never lands where the station does not look.
 */
async function withStationService(args: ParsedArgs, deps: CliDeps): Promise<ParsedArgs> {
  if (args.seen.has('--service')) return args;
  const dataDir = resolve(defaultDataDir(deps.platform ?? process.platform, deps.env ?? process.env, deps.homedir ?? homedir()));
  const settings = await readStationSettings(dataDir, deps, EXIT_CODES.USAGE, 'Nothing was changed.');
  return { ...args, service: settings.keychain.service };
}

/** `promote`: the staged next key becomes pin-public-key now, with its record in the station's audit trail. */
async function runPromote(args: ParsedArgs, deps: CliDeps): Promise<void> {
  rejectOptions(args, 'promote', ['--service', '--data-dir']);
  if (args.positional.length > 1) throw new CliError(EXIT_CODES.USAGE, 'promote takes no arguments.');
  const dataDir = resolve(args.dataDir ?? defaultDataDir(deps.platform ?? process.platform, deps.env ?? process.env, deps.homedir ?? homedir()));
  const trail = auditFilePath(dataDir);
  // The switch's record goes into the station's trail: one writer at a time, as for a key ceremony.
  const lock = takeAdminLock(trail, 'npm run keys -- promote');
  if ('heldBy' in lock) {
    throw new CliError(
      EXIT_CODES.STATION_RUNNING,
      `the audit trail at ${trail} is being written by ${lock.heldBy}: wait for it to finish. Nothing was changed.`,
    );
  }
  try {
    if (stationRunning(dataDir)) {
      throw new CliError(EXIT_CODES.STATION_RUNNING, `the station is running on ${dataDir}: close it first, then promote the key. Nothing was changed.`);
    }
    await promote(args, deps, dataDir, trail);
  } finally {
    lock.release();
  }
}

async function promote(args: ParsedArgs, deps: CliDeps, dataDir: string, trail: string): Promise<void> {
  // The policy's keychain.service and station.id beat config.json's, as when the station starts.
  const config = await readStationSettings(dataDir, deps, EXIT_CODES.USAGE, 'Nothing was changed.');
  if (args.seen.has('--service') && config.keychain.service !== args.service) {
    throw new CliError(
      EXIT_CODES.USAGE,
      `the station's configuration names keychain service "${config.keychain.service}", not the one given with --service. Nothing was changed.`,
    );
  }
  const service = config.keychain.service;
  const store = openStoreChecked(deps, service, EXIT_CODES.USAGE);
  const staged = await readNextProcessorKey(store).catch((error: unknown) => {
    throw new CliError(
      EXIT_CODES.MALFORMED_VALUE,
      `${error instanceof StationError ? error.message : 'the staged key could not be read.'} Nothing was changed.`,
    );
  });
  if (staged === null)
    throw new CliError(
      EXIT_CODES.NOTHING_STAGED,
      'no next pin-public-key is staged: import it with "import pin-public-key --next" first. Nothing was changed.',
    );
  const log = new AuditLog(trail, store, deps.now ? { now: deps.now } : {});
  try {
    await log.check();
  } catch (error) {
    if (error instanceof StationError && error.code === 'KEYCHAIN_UNAVAILABLE') throw error;
    throw new CliError(
      EXIT_CODES.AUDIT_UNAVAILABLE,
      `the audit trail at ${trail} cannot take the record of the switch (${error instanceof StationError ? error.code : 'unreadable'}). ` +
        `Check it with: npm run audit -- verify --data-dir ${dataDir}. Nothing was changed.`,
    );
  }
  const now = deps.now?.() ?? new Date();
  let seq = 0;
  const promoted = await promoteNextProcessorKey(store, 'promote', now, async (entry) => {
    seq = (
      await log.append({ ...entry, stationId: config.station.id, ...(config.processor.baseUrl === SANDBOX_BASE_URL ? { processor: 'sandbox' as const } : {}) })
    ).seq;
    await log.flush();
  });
  if (promoted === null) throw new CliError(EXIT_CODES.NOTHING_STAGED, 'no next pin-public-key is staged. Nothing was changed.');
  deps.stdout.write(
    `promoted the next pin-public-key in service "${service}": fingerprint KCV ${promoted.newKcv} is now current` +
      `${promoted.oldKcv ? ` (was ${promoted.oldKcv})` : ''}; record ${seq} written to the audit trail at ${trail}\n`,
  );
  const pins = config.processor.publicKeySha256;
  if (pins !== undefined && !(typeof pins === 'string' ? [pins] : pins).some((pin) => pin.toLowerCase() === staged.key.sha256)) {
    deps.stdout.write(
      `warning: the station's settings pin processor.publicKeySha256 to another key: the station will refuse to send until the pin is ${staged.key.sha256}\n`,
    );
  }
}

async function runDelete(args: ParsedArgs, deps: CliDeps): Promise<void> {
  rejectOptions(args, 'delete', ['--service']);
  const account = requireAccount(args.positional, 'delete');
  const store = openStoreChecked(deps, args.service, EXIT_CODES.USAGE);
  const existed = await store.delete(account);
  deps.stdout.write(
    existed ? `deleted ${account} from service "${args.service}"\n` : `${account} was not present in service "${args.service}"; nothing deleted\n`,
  );
}

/** Runs one CLI invocation and returns its exit code; all output goes to the injected streams. */
export function runKeysCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const commands = {
    import: async (args: ParsedArgs) => runImport(args.seen.has('--components') ? args : await withStationService(args, deps), deps),
    status: async (args: ParsedArgs) => runStatus(await withStationService(args, deps), deps),
    promote: (args: ParsedArgs) => runPromote(args, deps),
    delete: async (args: ParsedArgs) => runDelete(await withStationService(args, deps), deps),
  };
  return runCli({ name: 'keys', exitCodes: EXIT_CODES, parse: parseArgs, helpText, commands, describeError }, argv, deps);
}

/** For errors other than CliError. */
function describeError(error: unknown): { code: number; message: string } {
  if (error instanceof StationError) {
    // StationError messages are written, never interpolated from a secret.
    if (error.code === 'KEYCHAIN_UNAVAILABLE') return { code: EXIT_CODES.KEYCHAIN_UNAVAILABLE, message: `${error.message} Nothing was changed.` };
    return { code: EXIT_CODES.INTERNAL, message: error.message };
  }
  // Anything else may carry text from a library: its message is not shown.
  return { code: EXIT_CODES.INTERNAL, message: 'an unexpected internal error occurred. Nothing was stored.' };
}

export async function main(): Promise<void> {
  process.exitCode = await runKeysCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
}

if (isEntryPoint(import.meta.url)) void main();
