/**
 * Audit trail CLI (docs/architecture.md, "The audit trail"; docs/admin-guide.md, "Audit trail"): `npm run audit -- <command>`.
 * The commands, options and exit codes are in args.ts; each command has its own file.
 */
import { StationError } from '../../../common/errors';
import { AuditError } from '../../core/audit';
import { CliError, DEFAULT_SERVICE, defaultDataDir, isEntryPoint, runCli } from '../cli';
import type { CliOutput } from '../cli';
import { EXIT_CODES, helpText, parseArgs } from './args';
import type { AuditCliDeps, ParsedArgs } from './args';
import { runExport } from './export';
import { runReset } from './reset';
import { runSeal } from './seal';
import { runVerify } from './verify';

export { CliError, DEFAULT_SERVICE, defaultDataDir, EXIT_CODES, helpText, parseArgs };
export { APP_DIR_NAME } from './args';
export { describeFailure } from './trail';
export type { AuditCliDeps, CliOutput };

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
