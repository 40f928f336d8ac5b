/**
 * Audit trail CLI (DESIGN.md sections 3 and 4): `npm run audit -- <command>`.
 *
 *   verify [file]   check every record's MAC, the chain and the head anchor;
 *                   name the first bad record
 *   seal [file]     move a torn final line (interrupted write) out of the way
 *                   under a seal record, then verify
 *
 * Without a file, the station's trail is used: `<data dir>/audit/audit.jsonl`,
 * where the data directory is Electron's userData for "pin-station"
 * (`$XDG_CONFIG_HOME/pin-station` or `~/.config/pin-station` on Linux) or
 * `--data-dir <dir>`. The key is `audit-key` in the keychain service
 * (`--service`, default "pin-station"); it is never printed.
 *
 * The logic lives in runAuditCli() with injected streams and keychain so
 * tests can drive it; main() is the thin process entry.
 */
import { existsSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StationError } from '../common/errors';
import { AuditError, auditFilePath, auditHeadPath, readAuditKey, sealAuditFile, verifyAuditFile } from '../main/core/audit';
import type { AuditVerifyResult } from '../main/core/audit';
import type { KeyStore } from '../main/core/keystore';
import { KeytarKeyStore } from '../main/core/keytar-store';

/** Every exit code of the CLI, in one place (also listed by --help). */
export const EXIT_CODES = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  VERIFY_FAILED: 3,
  TORN_TAIL: 4,
  KEY_MISSING: 5,
  KEYCHAIN_UNAVAILABLE: 8,
} as const;
export type ExitCodeName = keyof typeof EXIT_CODES;

const EXIT_CODE_HELP: Record<ExitCodeName, string> = {
  OK: 'the trail verifies (after sealing, for seal)',
  INTERNAL: 'unexpected internal error (e.g. the file could not be read or written)',
  USAGE: 'usage error, or no audit trail at that path',
  VERIFY_FAILED: 'verification failed: a record was edited, deleted, reordered or cut off',
  TORN_TAIL: 'the trail ends in a torn line from an interrupted write; run seal',
  KEY_MISSING: 'audit-key is missing from the keychain or malformed',
  KEYCHAIN_UNAVAILABLE: 'the keychain could not be reached or is locked',
};

export const DEFAULT_SERVICE = 'pin-station';
export const APP_DIR_NAME = 'pin-station';

export interface CliOutput {
  write(text: string): unknown;
}
export interface AuditCliDeps {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** Opens the keychain for a service; KeytarKeyStore by default (it validates the name). */
  readonly openStore?: (service: string) => KeyStore;
  /** For the default data directory; process.env, process.platform and os.homedir() by default. */
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  readonly homedir?: string;
  readonly now?: () => Date;
}

export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Electron's userData for the app on each platform (app.getPath('userData')). */
export function defaultDataDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_DIR_NAME);
  return join(env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.length > 0 ? env.XDG_CONFIG_HOME : join(home, '.config'), APP_DIR_NAME);
}

export function helpText(): string {
  const codes = (Object.keys(EXIT_CODES) as ExitCodeName[])
    .map((name) => `  ${String(EXIT_CODES[name]).padStart(3)}  ${EXIT_CODE_HELP[name]}`)
    .join('\n');
  return `Usage: npm run audit -- <command> [file] [options]

Commands:
  verify [file]   check the audit trail: every record's MAC, consecutive
                  record numbers, the chain, and the head anchor (<file>.head);
                  names the first bad record
  seal [file]     seal a torn final line left by an interrupted write: its
                  bytes are copied to <file>.torn-<time> and replaced by a
                  seal record; then verify. Close the station first.
  help            show this text

Without [file], the station's trail <data dir>/audit/audit.jsonl is used.

Options:
  --data-dir <dir>   the station's data directory (default: ~/.config/${APP_DIR_NAME}
                     on Linux, or $XDG_CONFIG_HOME/${APP_DIR_NAME})
  --service <name>   keychain service holding audit-key (default "${DEFAULT_SERVICE}")
  -h, --help         show this text

Exit codes:
${codes}
`;
}

interface ParsedArgs {
  readonly help: boolean;
  readonly positional: readonly string[];
  readonly service: string;
  readonly dataDir: string | undefined;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const seen = new Set<string>();
  let service: string | undefined;
  let dataDir: string | undefined;
  let help = false;
  let optionsEnded = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (optionsEnded || !arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    if (arg === '--') {
      optionsEnded = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    if (name === '-h' || name === '--help') {
      help = true;
      continue;
    }
    if (name !== '--service' && name !== '--data-dir') {
      const shown = /^--?[A-Za-z][A-Za-z0-9-]{0,30}$/.test(name) ? ` "${name}"` : '';
      throw new CliError(EXIT_CODES.USAGE, `unknown option${shown}. See --help.`);
    }
    if (seen.has(name)) throw new CliError(EXIT_CODES.USAGE, `${name} was given more than once.`);
    seen.add(name);
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new CliError(EXIT_CODES.USAGE, `${name} needs a value.`);
      value = next;
      i++;
    }
    if (value.length === 0) throw new CliError(EXIT_CODES.USAGE, `${name} needs a value.`);
    if (name === '--service') service = value;
    else dataDir = value;
  }
  return { help, positional, service: service ?? DEFAULT_SERVICE, dataDir };
}

function trailPath(args: ParsedArgs, deps: AuditCliDeps): string {
  const file = args.positional[1];
  if (args.positional.length > 2) throw new CliError(EXIT_CODES.USAGE, 'too many arguments. See --help.');
  if (file !== undefined && args.dataDir !== undefined) throw new CliError(EXIT_CODES.USAGE, 'give either a file or --data-dir, not both.');
  if (file !== undefined) return resolve(file);
  const dataDir = args.dataDir ?? defaultDataDir(deps.platform ?? process.platform, deps.env ?? process.env, deps.homedir ?? homedir());
  return auditFilePath(resolve(dataDir));
}

function openStoreChecked(deps: AuditCliDeps, service: string): KeyStore {
  try {
    return (deps.openStore ?? ((name: string) => new KeytarKeyStore(name)))(service);
  } catch (error) {
    if (error instanceof StationError && error.code === 'CONFIG_INVALID') {
      throw new CliError(EXIT_CODES.USAGE, '--service must be 1-64 characters: letters, digits, ".", "_" or "-".');
    }
    throw error;
  }
}

function requireTrail(path: string): void {
  if (!existsSync(path) && !existsSync(auditHeadPath(path))) {
    throw new CliError(EXIT_CODES.USAGE, `no audit trail at ${path} (neither the file nor its head anchor exists). Give the file, or --data-dir.`);
  }
}

/** "record 7 (line 7): mac does not match — the record was edited" */
export function describeFailure(result: Extract<AuditVerifyResult, { ok: false }>): string {
  const { line, seq, reason } = result.firstBad;
  const where = seq === null ? `line ${line}` : `record ${seq} (line ${line})`;
  let text = `${where}: ${reason}\n`;
  if (line === 1 && reason.startsWith('mac does not match')) {
    text += 'note: if the first record fails, the key may not be the one that wrote this trail (check --service).\n';
  }
  if (result.tornTail && !result.sealable) text += 'note: the file also ends in a torn line; it cannot be sealed until the problem above is understood.\n';
  return text;
}

async function withKey<T>(store: KeyStore, use: (key: Buffer) => T | Promise<T>): Promise<T> {
  const key = await readAuditKey(store);
  try {
    return await use(key);
  } finally {
    key.fill(0);
  }
}

async function runVerify(args: ParsedArgs, deps: AuditCliDeps): Promise<number> {
  const path = trailPath(args, deps);
  requireTrail(path);
  const store = openStoreChecked(deps, args.service);
  const result = await withKey(store, (key) => verifyAuditFile(path, key));
  if (result.ok) {
    deps.stdout.write(`ok: ${result.records} record${result.records === 1 ? '' : 's'} verified: ${path}\n`);
    return EXIT_CODES.OK;
  }
  deps.stdout.write(`FAILED: ${path}\n${describeFailure(result)}`);
  if (result.sealable) {
    deps.stdout.write(`${result.records} record${result.records === 1 ? '' : 's'} before it verified. Close the station and run "npm run audit -- seal" to seal the torn line.\n`);
    return EXIT_CODES.TORN_TAIL;
  }
  return EXIT_CODES.VERIFY_FAILED;
}

async function runSeal(args: ParsedArgs, deps: AuditCliDeps): Promise<number> {
  const path = trailPath(args, deps);
  requireTrail(path);
  const store = openStoreChecked(deps, args.service);
  const before = await withKey(store, (key) => verifyAuditFile(path, key));
  if (before.ok) {
    deps.stdout.write(`nothing to seal: ${before.records} record${before.records === 1 ? '' : 's'} verified: ${path}\n`);
    return EXIT_CODES.OK;
  }
  if (!before.sealable) {
    deps.stdout.write(`FAILED: ${path}\n${describeFailure(before)}seal only repairs a torn final line from an interrupted write; nothing was changed.\n`);
    return EXIT_CODES.VERIFY_FAILED;
  }
  const sealed = await sealAuditFile(path, store, deps.now ? { now: deps.now } : {});
  if (sealed.sealed && sealed.record) {
    deps.stdout.write(
      `sealed: ${sealed.tornBytes} torn byte${sealed.tornBytes === 1 ? '' : 's'} copied to ${sealed.tornFile} and replaced by seal record ${sealed.record.seq} (sha256 ${sealed.record.tornSha256})\n`,
    );
  }
  const after = await withKey(store, (key) => verifyAuditFile(path, key));
  if (after.ok) {
    deps.stdout.write(`ok: ${after.records} record${after.records === 1 ? '' : 's'} verified: ${path}\n`);
    return EXIT_CODES.OK;
  }
  deps.stdout.write(`FAILED after sealing: ${path}\n${describeFailure(after)}`);
  return after.sealable ? EXIT_CODES.TORN_TAIL : EXIT_CODES.VERIFY_FAILED;
}

/** Runs one CLI invocation and returns its exit code; all output goes to the injected streams. */
export async function runAuditCli(argv: readonly string[], deps: AuditCliDeps): Promise<number> {
  try {
    const args = parseArgs(argv);
    const command = args.positional[0];
    if (args.help || command === 'help') {
      deps.stdout.write(helpText());
      return EXIT_CODES.OK;
    }
    switch (command) {
      case 'verify':
        return await runVerify(args, deps);
      case 'seal':
        return await runSeal(args, deps);
      case undefined:
        throw new CliError(EXIT_CODES.USAGE, 'a command is required: verify, seal or help. See --help.');
      default:
        throw new CliError(EXIT_CODES.USAGE, 'unknown command; expected verify, seal or help. See --help.');
    }
  } catch (error) {
    const { code, message } = describeError(error);
    deps.stderr.write(`audit: error: ${message}\n`);
    return code;
  }
}

function describeError(error: unknown): { code: number; message: string } {
  if (error instanceof CliError) return { code: error.exitCode, message: error.message };
  if (error instanceof AuditError) {
    return { code: error.code === 'AUDIT_WRITE_FAILED' ? EXIT_CODES.INTERNAL : EXIT_CODES.VERIFY_FAILED, message: error.message };
  }
  if (error instanceof StationError) {
    // StationError messages are written, never interpolated from a secret.
    if (error.code === 'KEYCHAIN_UNAVAILABLE') return { code: EXIT_CODES.KEYCHAIN_UNAVAILABLE, message: error.message };
    if (error.code === 'KEYCHAIN_ENTRY_MISSING' || error.code === 'KEYCHAIN_ENTRY_MALFORMED') return { code: EXIT_CODES.KEY_MISSING, message: error.message };
    return { code: EXIT_CODES.INTERNAL, message: error.message };
  }
  const errno = typeof error === 'object' && error !== null ? (error as NodeJS.ErrnoException).code : undefined;
  if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) return { code: EXIT_CODES.INTERNAL, message: `the file could not be read or written (${errno}).` };
  return { code: EXIT_CODES.INTERNAL, message: 'an unexpected internal error occurred.' };
}

export async function main(): Promise<void> {
  process.exitCode = await runAuditCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(resolve(script)) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) void main();
