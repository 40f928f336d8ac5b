/**
 * Key provisioning CLI (docs/architecture.md, "Keys and profiles"; README, "Keys"): `npm run keys -- <command>`.
 *
 *   import <account>   read a value without echo (or from a pipe), check its
 *                      format and the custodian's KCV, store it, print the KCV
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
 * ("PUBLIC KEY") or a PKCS#1 ("RSA PUBLIC KEY") PEM.
 */
import { AES256_KEY_HEX, PRINTABLE_TOKEN } from '../common/domain';
import { createHash, createPublicKey } from 'node:crypto';
import forge from 'node-forge';
import { StationError } from '../common/errors';
import { isKeyAccount, KEY_ACCOUNTS } from '../main/core/keystore';
import type { ProvisionedAccount as KeyAccount } from '../main/core/keystore';
import { kcv, kcvMatches, parseAes256KeyHex, parseRsaPublicKey, RSA_MIN_BITS } from '../main/crypto';
import { CliError, DEFAULT_SERVICE, exitCodesHelp, isEntryPoint, openStoreChecked, parseCliArgs, readHidden, runCli } from './cli-common';
import type { CliArgs, CliBaseDeps, CliInput, CliOutput, HiddenReadOptions } from './cli-common';

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
  CANCELLED: 130,
} as const;
export type ExitCodeName = keyof typeof EXIT_CODES;

const EXIT_CODE_HELP: Record<ExitCodeName, string> = {
  OK: 'success',
  INTERNAL: 'unexpected internal error',
  USAGE: 'usage error (bad command, option, --service or --kcv format)',
  UNKNOWN_ACCOUNT: 'unknown account',
  MALFORMED_VALUE: 'malformed or empty value (wrong length, not hex, not a 2048+ bit RSA public key, bad token)',
  KCV_REQUIRED: '--kcv missing for an AES key',
  KCV_MISMATCH: 'the value does not match --kcv',
  ENTRY_EXISTS: 'the entry already exists and --replace was not given',
  KEYCHAIN_UNAVAILABLE: 'the keychain could not be reached or is locked',
  CANCELLED: 'input cancelled with Ctrl-C',
};

/** Upper bound on what is read for one value (a PEM for RSA-8192 is under 2 KiB). */
export const MAX_INPUT_BYTES = 64 * 1024;
export const API_TOKEN_MIN = 16;
export const API_TOKEN_MAX = 4096;
const AES_ACCOUNTS: readonly KeyAccount[] = ['pin-key', 'audit-key'];

export interface CliDeps extends CliBaseDeps {
  readonly stdin: CliInput;
}

export function helpText(): string {
  return `Usage: npm run keys -- <command> [options]

Commands:
  import <account>   store a value read without echo from the terminal, or from
                     stdin when piped (one trailing newline is removed)
  status             show every account: absent, present with its KCV(s), or malformed
  delete <account>   delete an entry
  help               show this text

Accounts:
  pin-key, audit-key  AES-256 key, exactly 64 hex characters; --kcv is required
  pin-public-key      PEM RSA public key of at least ${RSA_MIN_BITS} bits; --kcv optional
  api-token           printable ASCII without spaces, ${API_TOKEN_MIN} to ${API_TOKEN_MAX} characters

Options:
  --service <name>   keychain service (default "${DEFAULT_SERVICE}")
  --kcv <value>      key check value from the key custodian:
                       AES keys: CMAC KCV (10 hex) or legacy AES-ECB KCV (6 hex)
                       pin-public-key: fingerprint KCV, the first 10 hex characters
                       of SHA-256 over the DER SubjectPublicKeyInfo
  --replace          overwrite an existing entry (import only)
  -h, --help         show this text

The value is never accepted as an argument and is never printed.

${exitCodesHelp(EXIT_CODES, EXIT_CODE_HELP)}`;
}

interface ParsedArgs extends CliArgs {
  readonly service: string;
  readonly kcv: string | undefined;
  readonly replace: boolean;
  readonly seen: ReadonlySet<string>;
}

/** Parsed by parseCliArgs (node:util parseArgs); no message repeats an argument that could be a mistyped secret. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const { help, positional, values, seen } = parseCliArgs(argv, { service: 'string', kcv: 'string', replace: 'boolean' }, EXIT_CODES.USAGE);
  return { help, positional, service: values.service ?? DEFAULT_SERVICE, kcv: values.kcv, replace: values.replace === true, seen };
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
  /** The key re-encoded as an SPKI PEM, which is what gets stored. */
  readonly pem: string;
}

/** Checks a 64-hex AES-256 key and computes both KCVs; with `givenKcv`, also whether it matches. */
function checkAesKey(value: string, account: KeyAccount, givenKcv?: string): Check<AesInfo & { matches: boolean }> {
  if (value.length !== 64) {
    return { ok: false, reason: `must be exactly 64 hexadecimal characters (AES-256), but ${value.length} were given` };
  }
  if (!AES256_KEY_HEX.test(value)) {
    return { ok: false, reason: 'must contain only hexadecimal characters (0-9, a-f, A-F), but it contains other characters' };
  }
  const key = parseAes256KeyHex(value, account);
  try {
    const values = kcv(key);
    const matches = givenKcv !== undefined && kcvMatches(key, givenKcv);
    return { ok: true, value: { cmac: values.cmac, legacy: values.legacy, matches } };
  } finally {
    key.fill(0);
  }
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
  let rsa: forge.pki.rsa.PublicKey;
  try {
    rsa = parseRsaPublicKey(pem);
  } catch {
    const bits = rsaBitsIfReadable(pem);
    return {
      ok: false,
      reason:
        bits !== null
          ? `is an RSA public key of ${bits} bits; at least ${RSA_MIN_BITS} bits are required`
          : `is not a PEM RSA public key ("PUBLIC KEY" or "RSA PUBLIC KEY") of at least ${RSA_MIN_BITS} bits`,
    };
  }
  const der = Buffer.from(forge.asn1.toDer(forge.pki.publicKeyToAsn1(rsa)).getBytes(), 'binary');
  const spkiPem = createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
  return { ok: true, value: { bits: rsa.n.bitLength(), fingerprint: publicKeyFingerprint(der), pem: spkiPem } };
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
function describeStored(account: KeyAccount, value: string): string {
  if (AES_ACCOUNTS.includes(account)) {
    const check = checkAesKey(value, account);
    return check.ok ? `present; KCV (CMAC) ${check.value.cmac}, KCV (legacy) ${check.value.legacy}` : `present but malformed: ${check.reason}`;
  }
  if (account === 'pin-public-key') {
    const check = checkPublicKey(value);
    return check.ok
      ? `present; RSA ${check.value.bits} bits, fingerprint KCV (SHA-256 of SPKI) ${check.value.fingerprint}`
      : `present but malformed: ${check.reason}`;
  }
  const check = checkApiToken(value);
  return check.ok ? `present (${value.length} characters)` : `present but malformed: ${check.reason}`;
}

function normalizeKcv(given: string, account: KeyAccount): string {
  const normalized = given.replace(/\s+/g, '').toUpperCase();
  if (AES_ACCOUNTS.includes(account)) {
    if (!/^[0-9A-F]{6}$|^[0-9A-F]{10}$/.test(normalized)) {
      throw new CliError(EXIT_CODES.USAGE, `--kcv for ${account} must be 10 hex characters (CMAC KCV) or 6 (legacy KCV).`);
    }
  } else if (account === 'pin-public-key') {
    if (!/^[0-9A-F]{10}$/.test(normalized)) {
      throw new CliError(EXIT_CODES.USAGE, '--kcv for pin-public-key must be 10 hex characters (SHA-256 fingerprint of the SubjectPublicKeyInfo).');
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

/** The terminal prompt (scripts/cli-common.ts): a PEM takes several lines. */
function hiddenOptions(account: KeyAccount): HiddenReadOptions {
  return {
    multiline: account === 'pin-public-key',
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

async function runImport(args: ParsedArgs, deps: CliDeps): Promise<void> {
  rejectOptions(args, 'import', ['--service', '--kcv', '--replace']);
  const account = requireAccount(args.positional, 'import');
  const isAes = AES_ACCOUNTS.includes(account);
  if (isAes && args.kcv === undefined) {
    throw new CliError(
      EXIT_CODES.KCV_REQUIRED,
      `--kcv is required for ${account}: give the key check value from the key custodian (CMAC, 10 hex, or legacy, 6 hex). Nothing was stored.`,
    );
  }
  const givenKcv = args.kcv === undefined ? undefined : normalizeKcv(args.kcv, account);
  const store = openStoreChecked(deps, args.service, EXIT_CODES.USAGE);
  const existed = (await store.get(account)) !== null;
  if (existed && !args.replace) {
    throw new CliError(EXIT_CODES.ENTRY_EXISTS, `${account} already exists in service "${args.service}". Use --replace to overwrite it. Nothing was stored.`);
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
    await store.set(account, check.value.pem);
    deps.stdout.write(`${verb} ${where}; RSA ${check.value.bits} bits, fingerprint KCV (SHA-256 of SPKI) ${check.value.fingerprint}\n`);
    return;
  }
  const check = checkApiToken(value);
  if (!check.ok) throw new CliError(EXIT_CODES.MALFORMED_VALUE, `${account} ${check.reason}. Nothing was stored.`);
  await store.set(account, value);
  deps.stdout.write(`${verb} ${where} (${check.value.length} characters)\n`);
}

async function runStatus(args: ParsedArgs, deps: CliDeps): Promise<void> {
  rejectOptions(args, 'status', ['--service']);
  if (args.positional.length > 1) throw new CliError(EXIT_CODES.USAGE, 'status takes no arguments.');
  const store = openStoreChecked(deps, args.service, EXIT_CODES.USAGE);
  const lines = [`service "${args.service}"`];
  for (const account of KEY_ACCOUNTS) {
    const value = await store.get(account);
    lines.push(`${account}: ${value === null ? 'absent' : describeStored(account, value)}`);
  }
  deps.stdout.write(`${lines.join('\n')}\n`);
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
    import: (args: ParsedArgs) => runImport(args, deps),
    status: (args: ParsedArgs) => runStatus(args, deps),
    delete: (args: ParsedArgs) => runDelete(args, deps),
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
