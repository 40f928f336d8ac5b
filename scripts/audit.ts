/**
 * Audit trail CLI (docs/architecture.md, "The audit trail"; README, "Audit trail"): `npm run audit -- <command>`.
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
import { DATA_DIR_NAME } from '../common/domain';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { StationError } from '../common/errors';
import { AuditError, auditFilePath, auditHeadPath, readAuditKey, sealAuditFile, verifyAuditFile } from '../main/core/audit';
import type { AuditVerifyResult } from '../main/core/audit';
import type { KeyStore } from '../main/core/keystore';
import { CliError, DEFAULT_SERVICE, defaultDataDir, exitCodesHelp, isEntryPoint, openStoreChecked, parseCliArgs, runCli } from './cli-common';
import type { CliArgs, CliBaseDeps, CliOutput } from './cli-common';

export { CliError, DEFAULT_SERVICE, defaultDataDir };
export type { CliOutput };

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

export const APP_DIR_NAME = DATA_DIR_NAME;

export interface AuditCliDeps extends CliBaseDeps {
  /** For the default data directory; process.env, process.platform and os.homedir() by default. */
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  readonly homedir?: string;
  readonly now?: () => Date;
}

export function helpText(): string {
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

${exitCodesHelp(EXIT_CODES, EXIT_CODE_HELP)}`;
}

interface ParsedArgs extends CliArgs {
  readonly service: string;
  readonly dataDir: string | undefined;
}

/** Parsed by parseCliArgs (node:util parseArgs); no message repeats an argument that could be a mistyped secret. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const { help, positional, values, seen } = parseCliArgs(argv, { service: 'string', 'data-dir': 'string' }, EXIT_CODES.USAGE);
  for (const name of seen) {
    if (values[name.slice(2) as 'service' | 'data-dir'] === '') throw new CliError(EXIT_CODES.USAGE, `${name} needs a value.`);
  }
  return { help, positional, service: values.service ?? DEFAULT_SERVICE, dataDir: values['data-dir'] };
}

function trailPath(args: ParsedArgs, deps: AuditCliDeps): string {
  const file = args.positional[1];
  if (args.positional.length > 2) throw new CliError(EXIT_CODES.USAGE, 'too many arguments. See --help.');
  if (file !== undefined && args.dataDir !== undefined) throw new CliError(EXIT_CODES.USAGE, 'give either a file or --data-dir, not both.');
  if (file !== undefined) return resolve(file);
  const dataDir = args.dataDir ?? defaultDataDir(deps.platform ?? process.platform, deps.env ?? process.env, deps.homedir ?? homedir());
  return auditFilePath(resolve(dataDir));
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
  const store = openStoreChecked(deps, args.service, EXIT_CODES.USAGE);
  const result = await withKey(store, (key) => verifyAuditFile(path, key));
  if (result.ok) {
    deps.stdout.write(`ok: ${result.records} record${result.records === 1 ? '' : 's'} verified: ${path}\n`);
    return EXIT_CODES.OK;
  }
  deps.stdout.write(`FAILED: ${path}\n${describeFailure(result)}`);
  if (result.sealable) {
    deps.stdout.write(
      `${result.records} record${result.records === 1 ? '' : 's'} before it verified. Close the station and run "npm run audit -- seal" to seal the torn line.\n`,
    );
    return EXIT_CODES.TORN_TAIL;
  }
  return EXIT_CODES.VERIFY_FAILED;
}

async function runSeal(args: ParsedArgs, deps: AuditCliDeps): Promise<number> {
  const path = trailPath(args, deps);
  requireTrail(path);
  const store = openStoreChecked(deps, args.service, EXIT_CODES.USAGE);
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
export function runAuditCli(argv: readonly string[], deps: AuditCliDeps): Promise<number> {
  const commands = { verify: (args: ParsedArgs) => runVerify(args, deps), seal: (args: ParsedArgs) => runSeal(args, deps) };
  return runCli({ name: 'audit', exitCodes: EXIT_CODES, parse: parseArgs, helpText, commands, describeError }, argv, deps);
}

/** For errors other than CliError. */
function describeError(error: unknown): { code: number; message: string } {
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

if (isEntryPoint(import.meta.url)) void main();
