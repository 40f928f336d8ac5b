/**
 * Audit trail CLI (docs/architecture.md, "The audit trail"; README, "Audit trail"): `npm run audit -- <command>`.
 *
 *   verify [file]   check every record's MAC, the chain and the head anchor;
 *                   name the first bad record
 *   seal [file]     move a torn final line (interrupted write) out of the way
 *                   under a seal record, then verify
 *   export [file]   verify, then write the records (all, or those matching
 *                   --from/--to/--operator/--card) as CSV or JSON for
 *                   auditors (main/core/audit/export.ts), to stdout or --out
 *   reset [file] --acknowledge
 *                   after records were lost (main/core/audit/reset.ts): keep
 *                   the old trail aside and start a new one whose first
 *                   record names the lost range
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
import { DATA_DIR_NAME } from '../../../common/domain';
import { closeSync, existsSync, fchmodSync, fsyncSync, openSync, realpathSync, unlinkSync, writeSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { StationError } from '../../../common/errors';
import {
  AuditError,
  AuditNothingToReset,
  auditFilePath,
  auditHeadPath,
  trailFileAgainstMark,
  openAttempts,
  readAuditKey,
  readAuditRecords,
  readMark,
  resetAuditTrail,
  sealAuditFile,
  verifyAuditFile,
} from '../../core/audit';
import type { AuditVerifyResult, HighWaterMark } from '../../core/audit';
import { AUDIT_EXPORT_FORMATS, AuditExportRefusedError, exportAuditTrail, parseAuditExportDate } from '../../core/audit/export';
import type { AuditExportFilter, AuditExportFormat } from '../../core/audit/export';
import type { KeyStore } from '../../core/keystore';
import { CliError, DEFAULT_SERVICE, defaultDataDir, exitCodesHelp, isEntryPoint, openStoreChecked, parseCliArgs, runCli, stationRunning } from '../cli';
import type { CliArgs, CliBaseDeps, CliOutput } from '../cli';

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
  OUT_EXISTS: 6,
  TRAIL_LOST: 7,
  KEYCHAIN_UNAVAILABLE: 8,
  NOTHING_TO_RESET: 9,
  STATION_RUNNING: 10,
} as const;
export type ExitCodeName = keyof typeof EXIT_CODES;

const EXIT_CODE_HELP: Record<ExitCodeName, string> = {
  OK: 'the trail verifies (after sealing, for seal; and was exported, for export)',
  INTERNAL: 'unexpected internal error (e.g. the file could not be read or written)',
  USAGE: 'usage error (bad command, option or date), or no audit trail at that path',
  VERIFY_FAILED: 'verification failed: a record was edited, deleted, reordered or cut off (export: nothing exported)',
  TORN_TAIL: 'the trail ends in a torn line from an interrupted write; run seal (export: nothing exported)',
  KEY_MISSING: 'audit-key is missing from the keychain or malformed',
  OUT_EXISTS: 'export: the --out file already exists; it is never overwritten, nothing was written',
  TRAIL_LOST:
    "records were lost: the trail is missing, shorter than the station's high-water mark (audit-mark in the keychain), or replaced; an admin may run reset --acknowledge",
  KEYCHAIN_UNAVAILABLE: 'the keychain could not be reached or is locked',
  STATION_RUNNING: 'seal, reset: the station is running on this data directory; close it first (nothing was changed)',
  NOTHING_TO_RESET: 'reset: nothing was lost (the trail verifies and matches its high-water mark), or only a torn line needs sealing; nothing was changed',
};

export const APP_DIR_NAME = DATA_DIR_NAME;

export interface AuditCliDeps extends CliBaseDeps {
  /** For the default data directory; process.env, process.platform and os.homedir() by default. */
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  readonly homedir?: string;
  readonly now?: () => Date;
  /** Who acknowledges a reset; the operating-system account by default. */
  readonly osUser?: string;
}

export function helpText(): string {
  return `Usage: npm run audit -- <command> [file] [options]

Commands:
  verify [file]   check the audit trail: every record's MAC, consecutive
                  record numbers, the chain, the head anchor (<file>.head)
                  and the station's high-water mark (audit-mark in the
                  keychain); names the first bad record, and lists attempts
                  without an outcome record
  seal [file]     seal a torn final line left by an interrupted write: its
                  bytes are copied to <file>.torn-<time> and replaced by a
                  seal record; then verify. Close the station first.
  export [file] --format csv|json [--from DATE] [--to DATE]
                [--operator NAME] [--card ID] [--out FILE]
                  verify the whole trail, then export its records (all, or
                  those matching every filter given) for auditors. Refused,
                  with nothing written, if the trail does not verify. The
                  export says in itself that the trail verified: in JSON the
                  "export" object, in CSV the row whose "row" column is
                  "export" (first after the header). CSV cells starting with
                  = + - @ or a tab get a leading ' so spreadsheets show them as
                  text. The export is not itself recorded in the trail.
  reset [file] --acknowledge
                  after records were lost (the trail was deleted, cut short,
                  or replaced): keep the old trail and its head anchor as
                  <file>.reset-<time>, and start a new trail whose record 1
                  is a reset record naming the lost range and the operating-
                  system account that acknowledged it. Refused when nothing
                  was lost. Close the station first.
  help            show this text

Without [file], the station's trail <data dir>/audit/audit.jsonl is used.

Options:
  --data-dir <dir>   the station's data directory (default: ~/.config/${APP_DIR_NAME}
                     on Linux, or $XDG_CONFIG_HOME/${APP_DIR_NAME})
  --service <name>   keychain service holding audit-key (default "${DEFAULT_SERVICE}")
  -h, --help         show this text

Export options:
  --format csv|json  required
  --from DATE        records at or after DATE
  --to DATE          records before DATE; a bare YYYY-MM-DD includes that
                     whole day. DATE is YYYY-MM-DD (UTC) or an ISO 8601 time
                     with a zone, e.g. 2025-01-31T09:30:00Z
  --operator NAME    card records by this operator, staff records of this
                     user name (exact match)
  --card ID          records of this card ID (exact match)
  --out FILE         write FILE (created with mode 0600; an existing file is
                     never overwritten) instead of standard output

${exitCodesHelp(EXIT_CODES, EXIT_CODE_HELP)}`;
}

const OPTION_TYPES = {
  service: 'string',
  'data-dir': 'string',
  format: 'string',
  from: 'string',
  to: 'string',
  operator: 'string',
  card: 'string',
  out: 'string',
  acknowledge: 'boolean',
} as const;
type OptionName = keyof typeof OPTION_TYPES;
/** Options every command takes; the others are checked per command (rejectOptions). */
const COMMON_OPTIONS: readonly string[] = ['--service', '--data-dir'];

interface ParsedArgs extends CliArgs {
  readonly service: string;
  readonly dataDir: string | undefined;
  readonly seen: ReadonlySet<string>;
  readonly format: string | undefined;
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly operator: string | undefined;
  readonly card: string | undefined;
  readonly out: string | undefined;
  readonly acknowledge: boolean;
}

/** Parsed by parseCliArgs (node:util parseArgs); no message repeats an argument that could be a mistyped secret. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const { help, positional, values, seen } = parseCliArgs(argv, OPTION_TYPES, EXIT_CODES.USAGE);
  for (const name of seen) {
    if (values[name.slice(2) as OptionName] === '') throw new CliError(EXIT_CODES.USAGE, `${name} needs a value.`);
  }
  const acknowledge = values.acknowledge === true;
  return {
    help,
    positional,
    seen,
    service: values.service ?? DEFAULT_SERVICE,
    dataDir: values['data-dir'],
    format: values.format,
    from: values.from,
    to: values.to,
    operator: values.operator,
    card: values.card,
    out: values.out,
    acknowledge,
  };
}

function rejectOptions(args: ParsedArgs, command: string, allowed: readonly string[] = []): void {
  for (const name of args.seen) {
    if (!COMMON_OPTIONS.includes(name) && !allowed.includes(name)) throw new CliError(EXIT_CODES.USAGE, `${name} does not apply to "${command}".`);
  }
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

/**
 * The keychain's high-water mark belongs to the station's own trail (`--data-dir`, or the default data
 * directory). A file given by path is that trail only if it is the same file; a copy or a kept trail is
 * checked on its own, and seal never moves the station's mark for it.
 */
function isStationTrail(path: string, args: ParsedArgs, deps: AuditCliDeps): boolean {
  if (args.positional[1] === undefined) return true;
  const dataDir = args.dataDir ?? defaultDataDir(deps.platform ?? process.platform, deps.env ?? process.env, deps.homedir ?? homedir());
  const station = auditFilePath(resolve(dataDir));
  const real = (file: string): string => {
    try {
      return realpathSync(file);
    } catch {
      return resolve(file);
    }
  };
  return real(path) === real(station);
}

async function runVerify(args: ParsedArgs, deps: AuditCliDeps): Promise<number> {
  rejectOptions(args, 'verify');
  const path = trailPath(args, deps);
  const store = openStoreChecked(deps, args.service, EXIT_CODES.USAGE);
  const stationTrail = isStationTrail(path, args, deps);
  const mark: HighWaterMark | null = stationTrail ? await readMark(store) : null;
  // With a mark, a trail that is gone is a loss to report, not a wrong path.
  if (mark === null) requireTrail(path);
  const { verify: result, loss } = await withKey(store, (key) => trailFileAgainstMark(path, key, mark));
  const records = existsSync(path) ? readAuditRecords(path) : [];
  // The mark before a torn line: after lost records, "run seal" would be the wrong advice. Records cut off (or a
  // forged line put first to hide that) are the loss to report, not just the first line that fails.
  if (loss && (result.ok || result.sealable || loss.cause !== 'trail-replaced')) {
    deps.stdout.write(`FAILED: ${path}\n${loss.detail}\n`);
    if (!result.ok && !result.sealable) deps.stdout.write(describeFailure(result));
    return EXIT_CODES.TRAIL_LOST;
  }
  if (!result.ok) {
    deps.stdout.write(`FAILED: ${path}\n${describeFailure(result)}`);
    if (result.sealable) {
      deps.stdout.write(
        `${result.records} record${result.records === 1 ? '' : 's'} before it verified. Close the station and run "npm run audit -- seal" to seal the torn line.\n`,
      );
      return EXIT_CODES.TORN_TAIL;
    }
    return EXIT_CODES.VERIFY_FAILED;
  }
  deps.stdout.write(`ok: ${result.records} record${result.records === 1 ? '' : 's'} verified: ${path}\n`);
  if (mark) {
    deps.stdout.write(
      `high-water mark (keychain): record ${mark.seq}, matches${mark.seq < result.records ? ' (it lags the trail, which a stop between a record and its mark leaves)' : ''}\n`,
    );
  } else if (stationTrail) {
    deps.stdout.write('high-water mark (keychain): none yet; the station sets it with its next record\n');
  } else {
    deps.stdout.write("high-water mark (keychain): not compared; this file is not the data directory's trail\n");
  }
  for (const attempt of openAttempts(records)) {
    // Not a failure: the request may still be in flight, or the station stopped during it; its next start closes it.
    deps.stdout.write(
      `attempt without an outcome: record ${attempt.seq} (${attempt.time}, card ${attempt.cardId}, operator ${attempt.operator}, attempt ${attempt.attemptId}) — the station stopped during the request, or is sending it now; its next start records the outcome as unknown\n`,
    );
  }
  return EXIT_CODES.OK;
}

/** seal and reset write the station's trail, which has one writer at a time. */
function refuseWhileRunning(args: ParsedArgs, deps: AuditCliDeps, command: string): void {
  const dataDir = resolve(args.dataDir ?? defaultDataDir(deps.platform ?? process.platform, deps.env ?? process.env, deps.homedir ?? homedir()));
  if (stationRunning(dataDir))
    throw new CliError(EXIT_CODES.STATION_RUNNING, `the station is running on ${dataDir}: close it first, then run ${command} again. Nothing was changed.`);
}

async function runReset(args: ParsedArgs, deps: AuditCliDeps): Promise<number> {
  rejectOptions(args, 'reset', ['--acknowledge']);
  if (!args.acknowledge) {
    throw new CliError(
      EXIT_CODES.USAGE,
      'reset starts a new audit trail and cannot be undone: give --acknowledge to confirm that the lost records are accounted for. Close the station first.',
    );
  }
  const path = trailPath(args, deps);
  if (!isStationTrail(path, args, deps)) {
    throw new CliError(
      EXIT_CODES.USAGE,
      `reset works on the station's own trail only (its high-water mark is the station's): give --data-dir, or no file. ${path} is not the trail of the data directory.`,
    );
  }
  refuseWhileRunning(args, deps, 'reset');
  const store = openStoreChecked(deps, args.service, EXIT_CODES.USAGE);
  let result;
  try {
    result = await resetAuditTrail(path, store, { acknowledgedBy: deps.osUser ?? userInfo().username, ...(deps.now ? { now: deps.now } : {}) });
  } catch (error) {
    if (error instanceof AuditNothingToReset) {
      deps.stdout.write(`${error.message}\nNothing was changed.\n`);
      return EXIT_CODES.NOTHING_TO_RESET;
    }
    throw error;
  }
  const { loss, record, keptAs, markWritten } = result;
  const range =
    loss.lostFrom === null
      ? 'an unknown range'
      : loss.lostTo === null
        ? `records ${loss.lostFrom} onwards`
        : loss.lostFrom === loss.lostTo
          ? `record ${loss.lostFrom}`
          : `records ${loss.lostFrom} to ${loss.lostTo}`;
  deps.stdout.write(`${loss.detail.replace(/ An admin may acknowledge.*$/, '')}\n`);
  deps.stdout.write(
    `reset: a new trail was started at ${path}; its record 1 (${record.time}) names ${range} as lost (${loss.cause}), acknowledged by ${record.acknowledgedBy}.\n`,
  );
  if (keptAs) deps.stdout.write(`the old trail was kept as ${keptAs} (verify it with: npm run audit -- verify ${keptAs})\n`);
  if (!markWritten) {
    deps.stdout.write(
      "note: the keychain's high-water mark could not be updated now; the station accepts the new trail anyway (its reset record names the mark it acknowledged) and updates the mark at its next record.\n",
    );
  }
  return EXIT_CODES.OK;
}

async function runSeal(args: ParsedArgs, deps: AuditCliDeps): Promise<number> {
  rejectOptions(args, 'seal');
  const path = trailPath(args, deps);
  requireTrail(path);
  if (isStationTrail(path, args, deps)) refuseWhileRunning(args, deps, 'seal');
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
  const sealed = await sealAuditFile(path, store, { stationTrail: isStationTrail(path, args, deps), ...(deps.now ? { now: deps.now } : {}) });
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

/** --from/--to as a filter bound; a bad date is a usage error that does not repeat it. */
function exportDate(text: string | undefined, bound: 'from' | 'to'): Date | undefined {
  if (text === undefined) return undefined;
  const date = parseAuditExportDate(text, bound);
  if (date === null) {
    throw new CliError(
      EXIT_CODES.USAGE,
      `--${bound} is not a date: give YYYY-MM-DD (a whole UTC day) or an ISO 8601 time with a zone, e.g. 2025-01-31T09:30:00Z.`,
    );
  }
  return date;
}

function exportFilter(args: ParsedArgs): AuditExportFilter {
  const from = exportDate(args.from, 'from');
  const to = exportDate(args.to, 'to');
  if (from && to && from.getTime() >= to.getTime()) throw new CliError(EXIT_CODES.USAGE, '--from must be before --to.');
  const filter: AuditExportFilter = {};
  if (from) filter.from = from;
  if (to) filter.to = to;
  if (args.operator !== undefined) filter.operator = args.operator;
  if (args.card !== undefined) filter.cardId = args.card;
  return filter;
}

/** Creates `path` (never an existing file) with mode 0600 and writes `text` durably; a partial file is removed. */
function writeNewFile(path: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CliError(EXIT_CODES.OUT_EXISTS, `${path} already exists; the export never overwrites a file. Nothing was written.`);
    }
    throw error;
  }
  try {
    fchmodSync(fd, 0o600); // exactly 0600, whatever the umask
    const data = Buffer.from(text, 'utf8');
    for (let offset = 0; offset < data.length;) offset += writeSync(fd, data, offset, data.length - offset);
    fsyncSync(fd);
    closeSync(fd);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    unlinkSync(path);
    throw error;
  }
}

async function runExport(args: ParsedArgs, deps: AuditCliDeps): Promise<number> {
  rejectOptions(args, 'export', ['--format', '--from', '--to', '--operator', '--card', '--out']);
  if (args.format === undefined) throw new CliError(EXIT_CODES.USAGE, '--format is required: csv or json.');
  if (!(AUDIT_EXPORT_FORMATS as readonly string[]).includes(args.format)) throw new CliError(EXIT_CODES.USAGE, '--format must be csv or json.');
  const format = args.format as AuditExportFormat;
  const filter = exportFilter(args);
  const path = trailPath(args, deps);
  requireTrail(path);
  const out = args.out === undefined ? undefined : resolve(args.out);
  if (out !== undefined && existsSync(out)) {
    throw new CliError(EXIT_CODES.OUT_EXISTS, `${out} already exists; the export never overwrites a file. Nothing was written.`);
  }
  const store = openStoreChecked(deps, args.service, EXIT_CODES.USAGE);
  let result;
  try {
    result = await withKey(store, (key) => exportAuditTrail(path, key, { format, filter, ...(deps.now ? { now: deps.now } : {}) }));
  } catch (error) {
    if (!(error instanceof AuditExportRefusedError)) throw error;
    const code = error.failure.sealable ? EXIT_CODES.TORN_TAIL : EXIT_CODES.VERIFY_FAILED;
    // Not on stdout: that may be the export's destination. Nothing was written anywhere.
    deps.stderr.write(`FAILED: ${path}\n${describeFailure(error.failure)}`);
    throw new CliError(code, 'the trail does not verify, so nothing was exported.');
  }
  if (out === undefined) {
    deps.stdout.write(result.text);
    return EXIT_CODES.OK;
  }
  writeNewFile(out, result.text);
  deps.stdout.write(
    `ok: ${result.verifiedRecords} record${result.verifiedRecords === 1 ? '' : 's'} verified; ${result.records} exported as ${format} to ${out}\n`,
  );
  return EXIT_CODES.OK;
}

/** Runs one CLI invocation and returns its exit code; all output goes to the injected streams. */
export function runAuditCli(argv: readonly string[], deps: AuditCliDeps): Promise<number> {
  const commands = {
    verify: (args: ParsedArgs) => runVerify(args, deps),
    seal: (args: ParsedArgs) => runSeal(args, deps),
    export: (args: ParsedArgs) => runExport(args, deps),
    reset: (args: ParsedArgs) => runReset(args, deps),
  };
  return runCli({ name: 'audit', exitCodes: EXIT_CODES, parse: parseArgs, helpText, commands, describeError }, argv, deps);
}

/** For errors other than CliError. */
function describeError(error: unknown): { code: number; message: string } {
  if (error instanceof AuditError) {
    const code =
      error.code === 'AUDIT_WRITE_FAILED' ? EXIT_CODES.INTERNAL : error.code === 'AUDIT_TRAIL_LOST' ? EXIT_CODES.TRAIL_LOST : EXIT_CODES.VERIFY_FAILED;
    return { code, message: error.message };
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
