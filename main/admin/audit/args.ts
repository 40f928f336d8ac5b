/**
 * Audit trail CLI (docs/architecture.md, "The audit trail"; docs/admin-guide.md, "Audit trail"): `npm run audit -- <command>`.
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
 * The logic lives in runAuditCli() (cli.ts) with injected streams and
 * keychain so tests can drive it. This file is its command line: exit codes,
 * help, options and their checks.
 */
import { DATA_DIR_NAME } from '../../../common/domain';
import { BASE_EXIT_CODES, COMMON_OPTIONS, commonOptions, DEFAULT_SERVICE, exitCodesHelp, rejectOptionsExcept } from '../cli';
import type { CommonArgs, CliBaseDeps, DataDirDeps } from '../cli';

/** Every exit code of the CLI, in one place (also listed by --help). */
export const EXIT_CODES = {
  ...BASE_EXIT_CODES,
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

export interface AuditCliDeps extends CliBaseDeps, DataDirDeps {
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

export interface ParsedArgs extends CommonArgs {
  readonly service: string;
  readonly format: string | undefined;
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly operator: string | undefined;
  readonly card: string | undefined;
  readonly out: string | undefined;
  readonly acknowledge: boolean;
}

/** Parsed by commonOptions (node:util parseArgs); no message repeats an argument that could be a mistyped secret. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const { values, ...common } = commonOptions(
    argv,
    { format: 'string', from: 'string', to: 'string', operator: 'string', card: 'string', out: 'string', acknowledge: 'boolean' },
    EXIT_CODES.USAGE,
    'all',
  );
  return {
    ...common,
    service: common.service ?? DEFAULT_SERVICE,
    format: values.format,
    from: values.from,
    to: values.to,
    operator: values.operator,
    card: values.card,
    out: values.out,
    acknowledge: values.acknowledge === true,
  };
}

/** Options other than --service and --data-dir that a command takes. */
export function rejectOptions(args: ParsedArgs, command: string, allowed: readonly string[] = []): void {
  rejectOptionsExcept(args.seen, command, [...COMMON_OPTIONS, ...allowed], EXIT_CODES.USAGE);
}
