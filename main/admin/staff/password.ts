/** A new password (or a TOTP code): read at a hidden prompt on a terminal, or as one piped line; never echoed. */
import { StationError } from '../../../common/errors';
import { PASSWORD_MAX_LENGTH } from '../../../common/staff';
import { checkNewPassword } from '../../core/staff/passwords';
import { CliError, pipedLines, readHidden } from '../cli';
import type { CliInput, HiddenReadOptions } from '../cli';
import { EXIT_CODES, MAX_PIPED_BYTES } from './args';
import type { StaffCliDeps } from './args';

export const HIDDEN: HiddenReadOptions = {
  multiline: false,
  maxChars: PASSWORD_MAX_LENGTH * 4,
  exitCodes: { usage: EXIT_CODES.USAGE, cancelled: EXIT_CODES.CANCELLED, tooLong: EXIT_CODES.PASSWORD_REJECTED, internal: EXIT_CODES.INTERNAL },
};

/**
 * The first line of piped stdin (without its line ending). Reading stops at
 * the first newline, so a writer that keeps the pipe open is not waited for;
 * anything after that line is ignored.
 */
async function readPipedLine(stdin: CliInput): Promise<string> {
  const lines = pipedLines(stdin, MAX_PIPED_BYTES, {
    tooLong: () => new CliError(EXIT_CODES.PASSWORD_REJECTED, `the first line of the input is longer than ${MAX_PIPED_BYTES} characters. Nothing was stored.`),
    unreadable: () => new CliError(EXIT_CODES.INTERNAL, 'stdin could not be read. Nothing was stored.'),
  });
  try {
    return (await lines.next()) ?? '';
  } finally {
    lines.close();
  }
}

/** The password rule of the store, as a CLI error; its messages never contain the password. */
function checkPassword(password: string): void {
  if (password.length === 0) throw new CliError(EXIT_CODES.PASSWORD_REJECTED, 'no password was read (empty input). Nothing was stored.');
  try {
    checkNewPassword(password);
  } catch (error) {
    if (error instanceof StationError) throw new CliError(EXIT_CODES.PASSWORD_REJECTED, `${error.message} Nothing was stored.`);
    throw error;
  }
}

/** A new password: twice at a hidden prompt on a terminal, once (one line) from a pipe. */
export async function readNewPassword(deps: StaffCliDeps, username: string): Promise<string> {
  if (deps.stdin.isTTY !== true) {
    const password = await readPipedLine(deps.stdin);
    checkPassword(password);
    return password;
  }
  const password = await readHidden(deps.stdin, deps.stderr, `New password for ${username}: `, HIDDEN);
  checkPassword(password);
  const repeated = await readHidden(deps.stdin, deps.stderr, 'Repeat it: ', HIDDEN);
  if (repeated !== password) throw new CliError(EXIT_CODES.PASSWORD_REJECTED, 'the two passwords differ. Nothing was stored.');
  return password;
}
