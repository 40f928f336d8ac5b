/**
 * Key provisioning CLI (docs/architecture.md, "Keys and profiles"; docs/admin-guide.md, "Keys"): `npm run keys -- <command>`.
 * The commands, options and exit codes are in args.ts; each command has its own file.
 */
import { StationError } from '../../../common/errors';
import { CliError, DEFAULT_SERVICE, isEntryPoint, runCli } from '../cli';
import type { CliInput, CliOutput } from '../cli';
import { EXIT_CODES, helpText, parseArgs } from './args';
import type { CliDeps, ParsedArgs } from './args';
import { runComponentImport } from './components';
import { runDelete } from './delete';
import { runImport } from './import';
import { runPromote } from './promote';
import { withStationService } from './station';
import { runStatus } from './status';

export { CliError, DEFAULT_SERVICE, EXIT_CODES, helpText, parseArgs };
export type { CliDeps, CliInput, CliOutput };

/** Runs one CLI invocation and returns its exit code; all output goes to the injected streams. */
export function runKeysCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const commands = {
    // --components loads into the station's own service and checks --service against it (components.ts).
    import: async (args: ParsedArgs) =>
      args.seen.has('--components') ? runComponentImport(args, deps) : runImport(await withStationService(args, deps), deps),
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
