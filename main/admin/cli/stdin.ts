/**
 * The one stdin reader of the admin commands: a terminal in raw mode (readTerminal: hidden, or an echo that never
 * shows key material) and piped input (pipedLines, pipedText). Nothing else reads stdin.
 */
import { StringDecoder } from 'node:string_decoder';
import { CliError } from './args';

export interface CliOutput {
  write(text: string): unknown;
}

/** stdin as the CLIs need it: process.stdin satisfies this, and so does any Readable. */
export interface CliInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

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

/**
 * All of piped stdin as one value (a PEM has several lines), read by pipedLines: lines joined with "\n", so
 * one trailing line ending (LF or CRLF) is dropped and CRLF inside becomes LF. More than `maxChars` in all is
 * errors.tooLong().
 */
export async function pipedText(
  stdin: CliInput,
  maxChars: number,
  errors: { readonly tooLong: () => CliError; readonly unreadable: () => CliError },
): Promise<string> {
  const lines = pipedLines(stdin, maxChars, errors);
  const read: string[] = [];
  let total = 0;
  try {
    for (let line = await lines.next(); line !== null; line = await lines.next()) {
      total += line.length + (read.length > 0 ? 1 : 0);
      if (total > maxChars) throw errors.tooLong();
      read.push(line);
    }
    return read.join('\n');
  } finally {
    read.length = 0;
    lines.close();
  }
}
