/**
 * An admin command run by this process (main/index.ts, `pin-station --admin
 * …`): the process's own streams, a last-resort handler so that nothing ends
 * in Electron's error dialog, and output flushed before the caller exits.
 * No Electron here, so a Node child process in the tests runs the very same
 * path through a real terminal.
 */
import { openSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import type { CliInput } from './cli';
import { ADMIN_EXIT_CODES, adminInvocation, runAdmin } from './entry';

export interface AdminProcessOptions {
  /** The station's data directory: app.getPath('userData'). */
  readonly dataDir: string;
  readonly platform?: NodeJS.Platform;
  /** Opens the console's input on Windows (an fd); `\\.\CONIN$` by default. */
  readonly openConsoleInput?: () => number;
}

/**
 * stdin for the admin commands. On Windows, Electron's main process has no
 * stdin: a GUI-subsystem program is given no console input, and Electron
 * replaces process.stdin with a stream that ends at once. It does attach to
 * the console it was started from (unless ELECTRON_NO_ATTACH_CONSOLE is set,
 * or its output is redirected), so that console's input is opened directly,
 * read-write: raw mode (no echo) needs SetConsoleMode, which needs both.
 * Elsewhere, or when no console can be opened, process.stdin.
 */
export function adminStdin(platform: NodeJS.Platform, openConsoleInput: () => number = () => openSync('\\\\.\\CONIN$', 'r+')): CliInput {
  if (platform !== 'win32' || process.stdin.isTTY === true) return process.stdin;
  try {
    const consoleInput = new ReadStream(openConsoleInput());
    if (consoleInput.isTTY) return consoleInput;
    consoleInput.destroy();
  } catch {
    // No console to read: a value is then read from process.stdin, which has none.
  }
  return process.stdin;
}

/** Resolves once what was written to `stream` before has been handed to the OS (a pipe may still hold some); at most 2 s. */
export function flushed(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2_000);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    try {
      stream.write('', done);
    } catch {
      done();
    }
  });
}

/** Runs `argv` (what followed `--admin`) on this process's streams; resolves with the exit code once the output is out. */
export async function runAdminProcess(argv: readonly string[], options: AdminProcessOptions): Promise<number> {
  const platform = options.platform ?? process.platform;
  const stdin = adminStdin(platform, options.openConsoleInput);
  let failed: (code: number) => void = () => undefined;
  const failure = new Promise<number>((resolve) => (failed = resolve));
  // A write to a closed pipe (`… | head`) or a bug: one line on stderr and exit 1, never a dialog or a stack trace.
  const onUncaught = (error: unknown): void => {
    const kind = error instanceof Error ? error.name : typeof error;
    process.stderr.write(`admin: error: an unexpected internal error occurred (${kind}).\n`);
    failed(ADMIN_EXIT_CODES.INTERNAL);
  };
  process.on('uncaughtException', onUncaught);
  process.stdout.on('error', onUncaught);
  try {
    const code = await Promise.race([
      runAdmin(argv, { stdin, stdout: process.stdout, stderr: process.stderr, dataDir: options.dataDir, invokedAs: adminInvocation(platform) }),
      failure,
    ]);
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
    return code;
  } finally {
    process.off('uncaughtException', onUncaught);
    process.stdout.off('error', onUncaught);
    if (stdin !== process.stdin) (stdin as ReadStream).destroy();
  }
}
