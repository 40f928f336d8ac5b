/** How one admin command runs: from its arguments to its exit code, and whether it is the script node started. */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from './args';
import type { CliArgs } from './args';
import type { CliBaseDeps } from './station';

/** One CLI: its commands and how it parses, describes errors and exits. */
export interface CliProgram<A extends CliArgs> {
  /** Prefix of error lines: "<name>: error: ...". */
  readonly name: string;
  /** The CLI's own exit codes; only these two are used here. */
  readonly exitCodes: { readonly OK: number; readonly USAGE: number };
  readonly parse: (argv: readonly string[]) => A;
  readonly helpText: () => string;
  /** By name, in the order listed in messages; a command that returns nothing exits with OK. */
  readonly commands: Readonly<Record<string, (args: A) => Promise<number | void>>>;
  /** For errors other than CliError; must not show text that could come from a secret. */
  readonly describeError: (error: unknown) => { code: number; message: string };
}

/**
 * Runs one CLI invocation and returns its exit code: -h/--help or "help"
 * prints the help text, otherwise the command named by the first positional
 * runs. A CliError prints its own message and exit code; anything else goes
 * through describeError.
 */
export async function runCli<A extends CliArgs>(program: CliProgram<A>, argv: readonly string[], io: Pick<CliBaseDeps, 'stdout' | 'stderr'>): Promise<number> {
  const { OK, USAGE } = program.exitCodes;
  try {
    const args = program.parse(argv);
    const command = args.positional[0];
    if (args.help || command === 'help') {
      io.stdout.write(program.helpText());
      return OK;
    }
    const list = `${Object.keys(program.commands).join(', ')} or help`;
    if (command === undefined) throw new CliError(USAGE, `a command is required: ${list}. See --help.`);
    const run = Object.hasOwn(program.commands, command) ? program.commands[command] : undefined;
    if (run === undefined) throw new CliError(USAGE, `unknown command; expected ${list}. See --help.`);
    return (await run(args)) ?? OK;
  } catch (error) {
    const { code, message } = error instanceof CliError ? { code: error.exitCode, message: error.message } : program.describeError(error);
    io.stderr.write(`${program.name}: error: ${message}\n`);
    return code;
  }
}

/**
 * Whether the module at `moduleUrl` (its import.meta.url) is the script node was started with. Never inside
 * Electron: there the CLIs are bundled into the app's main process (main/admin/entry.ts), where
 * import.meta.url is the bundle's own, and `electron out/main/index.js` would otherwise start every CLI.
 */
export function isEntryPoint(moduleUrl: string): boolean {
  if (process.versions.electron !== undefined) return false;
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(resolve(script)) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
