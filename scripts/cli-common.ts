/**
 * What the admin CLIs (scripts/keys.ts, scripts/audit.ts) share: the error
 * type, argument parsing on Node's parseArgs with secret-safe messages, the
 * keychain opener, the error-to-exit-code wrapper and the entry-point check.
 * Each CLI keeps its own EXIT_CODES; the codes needed here are parameters.
 */
import { DEFAULT_KEYCHAIN_SERVICE } from '../common/domain';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { StationError } from '../common/errors';
import type { KeyStore } from '../main/core/keystore';
import { KeytarKeyStore } from '../main/core/keytar-store';

export const DEFAULT_SERVICE = DEFAULT_KEYCHAIN_SERVICE;

export interface CliOutput {
  write(text: string): unknown;
}

/** What every CLI is given; each CLI's deps extend it. */
export interface CliBaseDeps {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** Opens the keychain for a service; KeytarKeyStore by default (it validates the name). */
  readonly openStore?: (service: string) => KeyStore;
}

/** An error whose message was written here and never contains a value. */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The "Exit codes:" section that ends --help: a line a code, right-aligned, two spaces, its meaning. */
export function exitCodesHelp<N extends string>(codes: Readonly<Record<N, number>>, help: Readonly<Record<N, string>>): string {
  const lines = (Object.keys(codes) as N[]).map((name) => `  ${String(codes[name]).padStart(3)}  ${help[name]}`);
  return `Exit codes:\n${lines.join('\n')}\n`;
}

// ------------------------------------------------------------------- parsing

/** Long option name (without "--") to its type; "help" (-h, --help) is always added. */
export type CliOptionTypes = Readonly<Record<string, 'string' | 'boolean'>>;

/** What every CLI's parsed arguments have. */
export interface CliArgs {
  readonly help: boolean;
  readonly positional: readonly string[];
}

export interface ParsedCliArgs<O extends CliOptionTypes> extends CliArgs {
  readonly values: { readonly [K in keyof O]?: O[K] extends 'string' ? string : boolean };
  /** "--name" of every option given, except --help. */
  readonly seen: ReadonlySet<string>;
}

type ParseArgsToken = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];

/**
 * ` "--name"` for the argument holding an unknown option, if its name looks
 * like an option name; anything else could be a mistyped secret. (A known
 * name here means a short group such as "-h=x": nothing useful to show.)
 */
function shownName(arg: string | undefined, known: Readonly<Record<string, unknown>>): string {
  const name = arg?.split('=', 1)[0] ?? '';
  const isKnown = name === '-h' || (name.startsWith('--') && Object.hasOwn(known, name.slice(2)));
  return /^--?[A-Za-z][A-Za-z0-9-]{0,30}$/.test(name) && !isKnown ? ` "${name}"` : '';
}

/**
 * Turns a parseArgs error into a usage message. parseArgs' own messages repeat
 * the offending argument, so they are never shown: the argument list is
 * tokenized again without the strict checks to find the option at fault.
 */
function usageMessage(error: unknown, argv: readonly string[], config: Record<string, { type: 'string' | 'boolean' }>): string | null {
  const code = typeof error === 'object' && error !== null ? (error as NodeJS.ErrnoException).code : undefined;
  if (code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && code !== 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && code !== 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return null;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return 'too many arguments. See --help.';
  const { tokens } = parseArgs({ args: [...argv], options: config, strict: false, allowPositionals: true, tokens: true });
  const options = tokens.filter((t): t is Extract<ParseArgsToken, { kind: 'option' }> => t.kind === 'option');
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const unknown = options.find((t) => !Object.hasOwn(config, t.name));
    return `unknown option${shownName(unknown && argv[unknown.index], config)}. See --help.`;
  }
  for (const t of options) {
    const type = config[t.name]?.type;
    if (type === 'boolean' && t.value !== undefined) return `--${t.name} takes no value.`;
    // Missing, or the next argument looks like an option ("--service --kcv ...").
    if (type === 'string' && (t.value === undefined || (!t.inlineValue && t.value.length > 1 && t.value.startsWith('-')))) return `--${t.name} needs a value.`;
  }
  return 'an option is missing its value. See --help.';
}

/**
 * Parses argv with node:util parseArgs (strict, positionals allowed) and maps
 * every parse error to a CliError(usageExitCode) whose message never repeats
 * an argument that could be a mistyped secret. Also rejects an option given
 * more than once (parseArgs would silently keep the last).
 */
export function parseCliArgs<O extends CliOptionTypes>(argv: readonly string[], types: O, usageExitCode: number): ParsedCliArgs<O> {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, type] of Object.entries(types)) config[name] = { type };
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: config, strict: true, allowPositionals: true, tokens: true });
  } catch (error) {
    const message = usageMessage(error, argv, config);
    if (message === null) throw error;
    throw new CliError(usageExitCode, message);
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || token.name === 'help') continue;
    const name = `--${token.name}`;
    if (seen.has(name)) throw new CliError(usageExitCode, `${name} was given more than once.`);
    seen.add(name);
  }
  const { help, ...values } = parsed.values;
  return { help: help === true, positional: parsed.positionals, values: values as ParsedCliArgs<O>['values'], seen };
}

// ------------------------------------------------------------------ running

/** Opens the keychain; an invalid --service name is a usage error. */
export function openStoreChecked(deps: CliBaseDeps, service: string, usageExitCode: number): KeyStore {
  try {
    return (deps.openStore ?? ((name: string) => new KeytarKeyStore(name)))(service);
  } catch (error) {
    if (error instanceof StationError && error.code === 'CONFIG_INVALID') {
      throw new CliError(usageExitCode, '--service must be 1-64 characters: letters, digits, ".", "_" or "-".');
    }
    throw error;
  }
}

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

/** Whether the module at `moduleUrl` (its import.meta.url) is the script node was started with. */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(resolve(script)) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
