/**
 * Local staff accounts CLI (docs/architecture.md, "Staff sign-in"): `npm run staff -- <command>`. The commands,
 * options and exit codes are in args.ts; the account changes in changes.ts, mfa and list in their own files.
 */
import { StationError } from '../../../common/errors';
import { CliError, DEFAULT_SERVICE, isEntryPoint, runCli } from '../cli';
import type { CliInput, CliOutput } from '../cli';
import { EXIT_CODES, helpText, parseArgs } from './args';
import type { ParsedArgs, StaffCliDeps } from './args';
import { runAdd, runPasswd, runRoles, runSetDisabled, runUnlock } from './changes';
import { runList } from './list';
import { runMfa } from './mfa';
import type { RunState } from './store';

export { CliError, DEFAULT_SERVICE, EXIT_CODES, helpText, parseArgs };
export { describeState } from './list';
export type { CliInput, CliOutput, StaffCliDeps };

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
