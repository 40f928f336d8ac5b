/**
 * What the admin CLIs (main/admin/{keys,audit,staff,policy}/cli.ts)
 * share: the error type, argument parsing on Node's parseArgs with
 * secret-safe messages, the keychain opener, the station's default data
 * directory, the hidden terminal prompt, the error-to-exit-code wrapper and
 * the entry-point check. Each CLI keeps its own EXIT_CODES; the codes needed
 * here are parameters.
 */
import { DATA_DIR_NAME, DEFAULT_KEYCHAIN_SERVICE } from '../../../common/domain';
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { StationError } from '../../../common/errors';
import type { StationConfig } from '../../core/config';
import type { KeyStore } from '../../core/keystore';
import { KeytarKeyStore } from '../../core/keytar-store';
import { resolveSettings } from '../../core/policy/resolve';
import { osPolicySource } from '../../core/policy/sources';
import type { PolicySource } from '../../core/policy/sources';

export const DEFAULT_SERVICE = DEFAULT_KEYCHAIN_SERVICE;

export interface CliOutput {
  write(text: string): unknown;
}

/** stdin as the CLIs need it: process.stdin satisfies this, and so does any Readable. */
export interface CliInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

/** What every CLI is given; each CLI's deps extend it. */
export interface CliBaseDeps {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** Opens the keychain for a service; KeytarKeyStore by default (it validates the name). */
  readonly openStore?: (service: string) => KeyStore;
  /** The managed policy, read with config.json for the station's settings: the OS's own (osPolicySource) by default; null for none. */
  readonly policy?: PolicySource | null;
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

// ------------------------------------------------------------- data dir

/**
 * The installed app's data directory while `pin-station --admin` runs a CLI (main/admin/entry.ts): it is
 * Electron's own app.getPath('userData'), so it wins over the guess below. Scoped to that one run (async
 * context, not a global), so a test or a second run in the same process never sees another run's directory.
 */
const installedDataDir = new AsyncLocalStorage<string>();

/** Runs `run` with `dir` as every CLI's default data directory (what --data-dir, when given, still overrides). */
export function withDataDir<T>(dir: string, run: () => Promise<T>): Promise<T> {
  return installedDataDir.run(dir, run);
}

/**
 * Electron's userData for the app on each platform (app.getPath('userData')): the station's data directory.
 * Inside withDataDir (the installed app's admin commands), the directory the app itself gave.
 */
export function defaultDataDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  const installed = installedDataDir.getStore();
  if (installed !== undefined) return installed;
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), DATA_DIR_NAME);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', DATA_DIR_NAME);
  return join(env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.length > 0 ? env.XDG_CONFIG_HOME : join(home, '.config'), DATA_DIR_NAME);
}

// --------------------------------------------------------------------- input
//
// The one terminal reader and the one piped-line reader of the admin CLIs. Nothing else reads stdin line by line.

/** This many hex digits in a row (spaces, ":" or "-" between them allowed) look like key material: never echoed. */
export const KEY_MATERIAL_HEX_DIGITS = 16;

const HEX_DIGIT = /^[0-9A-Fa-f]$/;
const HEX_SEPARATOR = /^[\s:-]$/;

/**
 * Which characters of `chars` are hex digits of a run that looks like key material: one of at least
 * KEY_MATERIAL_HEX_DIGITS digits, or, while the input is `open`, a run at its end that could still grow into one.
 */
function keyMaterialMask(chars: readonly string[], open: boolean): boolean[] {
  const masked = chars.map(() => false);
  for (let i = 0; i < chars.length;) {
    if (!HEX_DIGIT.test(chars[i] as string)) {
      i++;
      continue;
    }
    let last = i;
    let digits = 1;
    let k = i + 1;
    for (; k < chars.length; k++) {
      if (HEX_DIGIT.test(chars[k] as string)) {
        digits++;
        last = k;
      } else if (!HEX_SEPARATOR.test(chars[k] as string)) break;
    }
    if (digits >= KEY_MATERIAL_HEX_DIGITS || (open && k === chars.length)) {
      for (let m = i; m <= last; m++) if (HEX_DIGIT.test(chars[m] as string)) masked[m] = true;
    }
    i = last + 1;
  }
  return masked;
}

/** Whether `text` holds a run of hex digits that looks like key material (a component typed at the wrong prompt). */
export function looksLikeKeyMaterial(text: string): boolean {
  return keyMaterialMask([...text], false).some(Boolean);
}

/**
 * What a visible prompt shows of `chars`: at most `maxShown` characters, and "*" for every hex digit of a run
 * that looks like key material or, while typing goes on, could still become one. Such a run is shown once the
 * input ends (or a letter follows it) with fewer than KEY_MATERIAL_HEX_DIGITS digits.
 */
export function visibleEcho(chars: readonly string[], open: boolean, maxShown: number): string {
  const masked = keyMaterialMask(chars, open);
  return chars
    .slice(0, maxShown)
    .map((ch, index) => (masked[index] ? '*' : ch))
    .join('');
}

/** The terminal sequences that take `from` on screen to `to`: back over where they differ, then rewrite. */
function redraw(from: string, to: string): string {
  const a = [...from];
  const b = [...to];
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  const pad = Math.max(0, a.length - b.length);
  return '\b'.repeat(a.length - common) + b.slice(common).join('') + ' '.repeat(pad) + '\b'.repeat(pad);
}

export interface TerminalReadOptions {
  /**
   * "hidden": nothing is echoed. Otherwise what is typed is echoed (visibleEcho): at most `maxShown` characters,
   * and never a run of hex digits that looks like key material.
   */
  readonly echo: 'hidden' | { readonly maxShown: number };
  /** A PEM: Enter adds a line, input ends after its "-----END ...-----" line (or Ctrl-D). Otherwise Enter ends it. */
  readonly multiline: boolean;
  /** More characters than this is an error (exitCodes.tooLong). */
  readonly maxChars: number;
  /**
   * Leave the terminal in raw mode afterwards (the caller switches it back): between the prompts of a ceremony
   * the terminal must not echo what someone types ahead.
   */
  readonly stayRaw?: boolean;
  readonly exitCodes: {
    /** The terminal cannot switch off echo. */
    readonly usage: number;
    /** Ctrl-C. */
    readonly cancelled: number;
    readonly tooLong: number;
    /** The terminal could not be read. */
    readonly internal: number;
  };
}

/** The hidden prompt's options (readHidden). */
export type HiddenReadOptions = Omit<TerminalReadOptions, 'echo'>;

/**
 * Reads one answer from a terminal in raw mode: the terminal itself echoes nothing, and this echoes only what
 * `options.echo` allows. Enter ends a one-line answer; a PEM ends after its "-----END ...-----" line (or Ctrl-D).
 * Backspace and Ctrl-U edit, Ctrl-C cancels. The prompt, the echo and the closing newline go to `stderr`; what was
 * typed after the ending key in the same chunk is dropped. A whole chunk (a paste) is taken before anything is
 * echoed, so a pasted component never flashes on screen. Null when the input ends (Ctrl-D, end of stream) before
 * anything was typed.
 */
export function readTerminal(stdin: CliInput, stderr: CliOutput, prompt: string, options: TerminalReadOptions): Promise<string | null> {
  const { echo, multiline, maxChars, exitCodes } = options;
  const setRawMode = stdin.setRawMode?.bind(stdin);
  if (!setRawMode) {
    return Promise.reject(new CliError(exitCodes.usage, 'the terminal cannot switch off echo; pipe the value to stdin instead.'));
  }
  const maxShown = echo === 'hidden' ? 0 : echo.maxShown;
  return new Promise<string | null>((resolvePromise, rejectPromise) => {
    const chars: string[] = [];
    const decoder = new StringDecoder('utf8');
    let shown = '';
    let done = false;
    const show = (open: boolean): void => {
      if (maxShown === 0) return;
      const next = visibleEcho(chars, open, maxShown);
      const change = redraw(shown, next);
      shown = next;
      if (change !== '') stderr.write(change);
    };
    const finish = (outcome: { error: Error } | { ended: boolean }): void => {
      if (done) return;
      done = true;
      stdin.removeListener('data', onData);
      stdin.removeListener('end', onEnd);
      stdin.removeListener('error', onError);
      if (options.stayRaw !== true) setRawMode(false);
      stdin.pause();
      if (!('error' in outcome)) show(false);
      shown = '';
      stderr.write('\n');
      const value = chars.join('');
      chars.length = 0;
      if ('error' in outcome) rejectPromise(outcome.error);
      else resolvePromise(outcome.ended && value.length === 0 ? null : value);
    };
    const lastLine = (): string => {
      const text = chars.join('');
      const cut = text.lastIndexOf('\n', text.length - 2);
      return text.slice(cut + 1);
    };
    const onData = (chunk: string | Buffer): void => {
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      for (const ch of text) {
        if (done) return;
        if (ch === '\u0003') return finish({ error: new CliError(exitCodes.cancelled, 'cancelled. Nothing was stored.') });
        if (ch === '\u0004') return finish({ ended: true });
        if (ch === '\r' || ch === '\n') {
          if (!multiline) return finish({ ended: false });
          if (chars.length > 0 && chars[chars.length - 1] !== '\n') {
            chars.push('\n');
            if (/^-----END [A-Z0-9 ]+-----\n$/.test(lastLine())) return finish({ ended: false });
          }
          continue;
        }
        if (ch === '\u007f' || ch === '\b') {
          chars.pop();
          continue;
        }
        if (ch === '\u0015') {
          chars.length = 0;
          continue;
        }
        if (ch < ' ') continue;
        chars.push(ch);
        if (chars.length > maxChars) {
          return finish({ error: new CliError(exitCodes.tooLong, `the input is longer than ${maxChars} characters. Nothing was stored.`) });
        }
      }
      show(true);
    };
    const onEnd = (): void => finish({ ended: true });
    const onError = (): void => finish({ error: new CliError(exitCodes.internal, 'the terminal could not be read. Nothing was stored.') });
    // Raw first: what is typed as soon as the prompt shows must not be echoed by the terminal itself.
    setRawMode(true);
    stderr.write(prompt);
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.once('error', onError);
    stdin.resume();
  });
}

/** readTerminal with nothing echoed; the empty string when nothing was typed. */
export async function readHidden(stdin: CliInput, stderr: CliOutput, prompt: string, options: HiddenReadOptions): Promise<string> {
  return (await readTerminal(stdin, stderr, prompt, { ...options, echo: 'hidden' })) ?? '';
}

/**
 * Clears the terminal (the screen and, where the terminal keeps one, its scrollback) before the next person
 * sits down: nothing the last one typed or was shown stays for them.
 */
export function clearTerminal(stderr: CliOutput): void {
  stderr.write('\u001b[H\u001b[2J\u001b[3J');
}

/** Piped stdin, one line at a time (LF or CRLF); no prompt and no echo. */
export interface PipedLines {
  /** The next line without its line ending; null once the input has ended. */
  next(): Promise<string | null>;
  /** Stops reading: lines not read yet are never read, and the stream is released. */
  close(): void;
}

/**
 * Reads piped stdin line by line. A line is handed over as soon as it has arrived, so a writer that keeps the
 * pipe open is not waited for. Chunks are wiped once decoded. `errors` makes the CLI's own errors for a line
 * longer than `maxChars` and for a stream that cannot be read.
 */
export function pipedLines(stdin: CliInput, maxChars: number, errors: { readonly tooLong: () => CliError; readonly unreadable: () => CliError }): PipedLines {
  const chunks = stdin[Symbol.asyncIterator]();
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let ended = false;
  const take = (end: number, skip: number): string => {
    const line = pending.slice(0, end);
    pending = pending.slice(end + skip);
    return line.endsWith('\r') ? line.slice(0, -1) : line;
  };
  return {
    async next() {
      for (;;) {
        const newline = pending.indexOf('\n');
        if (newline >= 0) {
          if (newline > maxChars) throw errors.tooLong();
          return take(newline, 1);
        }
        if (pending.length > maxChars) throw errors.tooLong();
        if (ended) return pending.length > 0 ? take(pending.length, 0) : null;
        let next: IteratorResult<string | Buffer>;
        try {
          next = await chunks.next();
        } catch {
          throw errors.unreadable();
        }
        if (next.done === true) {
          pending += decoder.end();
          ended = true;
        } else if (typeof next.value === 'string') {
          pending += next.value;
        } else {
          pending += decoder.write(next.value);
          next.value.fill(0);
        }
      }
    },
    close() {
      // Returning the iterator releases (destroys) the stream: nothing after the last line asked for is read.
      void chunks.return?.()?.catch(() => undefined);
    },
  };
}

// ------------------------------------------------------------------ settings

/**
 * The station's settings as it would start with them now: the managed policy over `<dataDir>/config.json` over
 * the defaults (main/core/policy/resolve.ts), so that `keychain.service` and `station.id` are the station's even
 * when the policy sets them. A missing config.json is the defaults. Any problem is a CliError(usageExitCode)
 * naming the file or the policy, with `nothingDone` ("Nothing was stored.") after it.
 */
export async function readStationSettings(
  dataDir: string,
  deps: Pick<CliBaseDeps, 'policy'>,
  usageExitCode: number,
  nothingDone: string,
): Promise<StationConfig> {
  const path = join(dataDir, 'config.json');
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new CliError(usageExitCode, `the station's configuration ${path} could not be read. ${nothingDone}`);
  }
  const source = deps.policy === undefined ? osPolicySource() : deps.policy;
  try {
    const policy = source ? await source.read() : null;
    return resolveSettings(text, policy, source?.location ?? null).config;
  } catch (error) {
    if (!(error instanceof StationError)) throw error;
    // The messages name the file or the policy's location and the setting; neither holds a secret.
    if (error.code === 'POLICY_INVALID') throw new CliError(usageExitCode, `the managed policy cannot be used. ${error.message} ${nothingDone}`);
    throw new CliError(usageExitCode, `the station's configuration ${path} cannot be used. ${error.message} Fix it first. ${nothingDone}`);
  }
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

/**
 * Whether a station is running on this data directory: Electron's single-instance lock there
 * (`SingletonLock`, a symbolic link to "<host>-<pid>" on Linux and macOS) names a live process of this computer.
 * The commands that write the trail refuse then: the trail has one writer at a time. Windows keeps its lock
 * differently and is not checked (the commands say to close the station first).
 */
export function stationRunning(dataDir: string): boolean {
  let target: string;
  try {
    target = readlinkSync(join(dataDir, 'SingletonLock'));
  } catch {
    return false;
  }
  const match = /^(.*)-(\d+)$/.exec(target);
  if (!match || match[1] !== hostname()) return false;
  try {
    process.kill(Number(match[2]), 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
