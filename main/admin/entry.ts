/**
 * `pin-station --admin <keys|audit|staff> <args…>`: the admin commands of a
 * source checkout (`npm run keys|audit|staff|policy`) run by the installed
 * app, which has no npm and, with its runAsNode fuse off, cannot run as plain
 * Node. The very same run*Cli functions run here, so the commands, their
 * hidden prompts, messages and exit codes are the same. No Electron: the
 * caller (main/index.ts, through main/admin/process.ts) passes in the streams
 * and the station's data directory, and exits with the code returned.
 */
import { runAuditCli } from './audit/cli';
import { BASE_EXIT_CODES, withDataDir } from './cli';
import type { CliInput, CliOutput } from './cli';
import { runKeysCli } from './keys/cli';
import { runPolicyCli } from './policy/cli';
import { runStaffCli } from './staff/cli';
import type { KeyStore } from '../core/keystore';

export const ADMIN_FLAG = '--admin';
export const ADMIN_COMMANDS = ['keys', 'audit', 'staff', 'policy'] as const;
export type AdminCommand = (typeof ADMIN_COMMANDS)[number];

/** Codes of the dispatcher itself: the base every command shares (each adds its own, listed by its --help). */
export const ADMIN_EXIT_CODES = BASE_EXIT_CODES;

export interface AdminDeps {
  readonly stdin: CliInput;
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** The station's data directory (the installed app's app.getPath('userData')): every command's default --data-dir. */
  readonly dataDir: string;
  /** Opens the keychain for a service; the commands' own default (keytar) when absent. */
  readonly openStore?: (service: string) => KeyStore;
  /** What the admin types to reach these commands, for the help: "pin-station --admin" unless given. */
  readonly invokedAs?: string;
}

/**
 * The arguments after `--admin` in a process's argv, or null when this is
 * not an admin run. argv[0] is the executable; anything before `--admin` is
 * Electron's or Chromium's (the app path of `electron .`, --no-sandbox,
 * --ozone-platform=…, macOS's -psn_…) and is skipped; everything after it
 * belongs to the command. `--admin=<command>` is taken as `--admin <command>`.
 * After a bare `--` (the end of Chromium's switches) nothing is a switch.
 */
export function adminArgs(processArgv: readonly string[]): string[] | null {
  for (let i = 1; i < processArgv.length; i++) {
    const arg = processArgv[i] as string;
    if (arg === '--') return null;
    if (arg === ADMIN_FLAG) return processArgv.slice(i + 1);
    if (arg.startsWith(`${ADMIN_FLAG}=`)) return [arg.slice(ADMIN_FLAG.length + 1), ...processArgv.slice(i + 1)];
  }
  return null;
}

/** How an admin reaches these commands on each platform's installed station. */
export function adminInvocation(platform: NodeJS.Platform): string {
  if (platform === 'win32') return 'pin-station-admin.cmd';
  if (platform === 'darwin') return '"/Applications/PIN Station.app/Contents/MacOS/PIN Station" --admin';
  return 'pin-station --admin';
}

export function adminHelpText(invokedAs: string, dataDir: string): string {
  return `Usage: ${invokedAs} <command> [arguments]

The station's admin commands, run by the installed app in this terminal; no
window opens. The station may keep running, except for audit seal, audit
reset and keys import --components, which write its audit trail: they refuse
while it runs.

Commands:
  keys    keychain entries: import (at a hidden prompt), status, promote, delete
  audit   the audit trail: verify, seal, export, reset
  staff   local staff accounts: add, passwd, disable, enable, unlock, roles,
          mfa (enroll, reset), list
  policy  report: every setting, its value, and whether the organisation's
          policy, config.json or the default set it
  help    show this text

Each command has its own help, with its options and exit codes:
  ${invokedAs} keys --help      (likewise audit, staff)
Its help and messages show the form of a source checkout, "npm run <command> --";
here, type "${invokedAs} <command>" instead.

Data directory (the default of --data-dir; --data-dir given wins):
  ${dataDir}
Run as the operating-system account the station runs as: the keychain and the
data directory belong to that account.

Exit codes: each command's own (see its --help); ${ADMIN_EXIT_CODES.USAGE} for a missing or unknown command.
`;
}

function isAdminCommand(name: string): name is AdminCommand {
  return (ADMIN_COMMANDS as readonly string[]).includes(name);
}

/**
 * Runs one admin invocation: `argv` is what followed `--admin` (see
 * adminArgs). Returns the exit code; all output goes to the injected streams.
 * The command line is never repeated in a message: a secret typed in the
 * wrong place stays off the screen.
 */
export async function runAdmin(argv: readonly string[], deps: AdminDeps): Promise<number> {
  const invokedAs = deps.invokedAs ?? adminInvocation('linux');
  const [command, ...rest] = argv;
  if (command === undefined) {
    deps.stderr.write(`admin: error: a command is required.\n\n${adminHelpText(invokedAs, deps.dataDir)}`);
    return ADMIN_EXIT_CODES.USAGE;
  }
  if (command === 'help' || command === '--help' || command === '-h') {
    deps.stdout.write(adminHelpText(invokedAs, deps.dataDir));
    return ADMIN_EXIT_CODES.OK;
  }
  if (!isAdminCommand(command)) {
    deps.stderr.write(`admin: error: unknown command; expected ${ADMIN_COMMANDS.join(', ')} or help. See ${invokedAs} help.\n`);
    return ADMIN_EXIT_CODES.USAGE;
  }
  const { stdin, stdout, stderr, openStore } = deps;
  const io = openStore ? { stdout, stderr, openStore } : { stdout, stderr };
  try {
    return await withDataDir(deps.dataDir, () => {
      switch (command) {
        case 'keys':
          return runKeysCli(rest, { ...io, stdin });
        case 'audit':
          return runAuditCli(rest, io);
        case 'staff':
          return runStaffCli(rest, { ...io, stdin });
        case 'policy':
          return runPolicyCli(rest, { stdout, stderr });
      }
    });
  } catch (error) {
    // The commands report their own errors; this is only a last resort, and says nothing that could come from input.
    deps.stderr.write(`admin: error: an unexpected internal error occurred (${error instanceof Error ? error.name : typeof error}).\n`);
    return ADMIN_EXIT_CODES.INTERNAL;
  }
}
