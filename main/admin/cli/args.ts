/**
 * How the admin commands read their command line and end: the error that carries an exit code, the exit codes
 * every command shares, the "Exit codes:" help section and argument parsing on node:util parseArgs with
 * messages that never repeat an argument (it could be a mistyped secret).
 */
import { parseArgs } from 'node:util';

/**
 * The exit codes every admin command shares (and the dispatcher, main/admin/entry.ts, uses alone); each command
 * adds its own from 3 up, and CANCELLED for Ctrl-C at a prompt (128 + SIGINT, as a shell reports it).
 */
export const BASE_EXIT_CODES = { OK: 0, INTERNAL: 1, USAGE: 2 } as const;
export const CANCELLED_EXIT_CODE = 130;

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

/** The options every admin command takes, beside its own. */
const COMMON_OPTION_TYPES = { service: 'string', 'data-dir': 'string' } as const;
export const COMMON_OPTIONS: readonly string[] = ['--service', '--data-dir'];

/** What every admin command's parsed arguments have: --service and --data-dir as given, and the options seen. */
export interface CommonArgs extends CliArgs {
  /** As given with --service; each command says what its absence means. */
  readonly service: string | undefined;
  readonly dataDir: string | undefined;
  /** "--name" of every option given, except --help. */
  readonly seen: ReadonlySet<string>;
}

/**
 * Parses argv (parseCliArgs) with --service and --data-dir beside the command's own `types`, whose values it
 * returns for the command to map. An empty value is a usage error for each option in `mustHaveValue`, checked in
 * that order, or for every option given, in command-line order ('all').
 */
export function commonOptions<O extends CliOptionTypes>(
  argv: readonly string[],
  types: O,
  usageExitCode: number,
  mustHaveValue: readonly string[] | 'all',
): CommonArgs & { readonly values: ParsedCliArgs<O & typeof COMMON_OPTION_TYPES>['values'] } {
  // The common types come last, so a command's own cannot redefine them.
  const { help, positional, values, seen } = parseCliArgs(argv, { ...types, ...COMMON_OPTION_TYPES }, usageExitCode);
  const given = values as Readonly<Record<string, string | boolean | undefined>>;
  for (const name of mustHaveValue === 'all' ? seen : mustHaveValue) {
    if (given[name.slice(2)] === '') throw new CliError(usageExitCode, `${name} needs a value.`);
  }
  const common = values as ParsedCliArgs<typeof COMMON_OPTION_TYPES>['values'];
  return { help, positional, seen, values, service: common.service, dataDir: common['data-dir'] };
}

/** Refuses any option given (`seen`, "--name") that `command` does not take. */
export function rejectOptionsExcept(seen: ReadonlySet<string>, command: string, allowed: readonly string[], usageExitCode: number): void {
  for (const name of seen) {
    if (!allowed.includes(name)) throw new CliError(usageExitCode, `${name} does not apply to "${command}".`);
  }
}
