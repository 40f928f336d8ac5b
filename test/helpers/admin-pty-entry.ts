/**
 * Child process for test/integration/admin-entry.test.ts, run on a pseudo-terminal: what main/index.ts does for
 * `pin-station --admin …` (adminArgs, then runAdminProcess, then exit with its code), with Node in place of
 * Electron. ADMIN_PTY_DATA_DIR stands for app.getPath('userData').
 *
 * With ADMIN_PTY_AS_WINDOWS=1 it takes the Windows path: process.stdin is replaced by a stream that ends at once,
 * as Electron's is on Windows, and the console is opened directly, with /dev/tty standing in for \\.\CONIN$.
 */
import { openSync } from 'node:fs';
import { Readable } from 'node:stream';
import { adminArgs } from '../../main/admin/entry';
import { runAdminProcess } from '../../main/admin/process';

const argv = adminArgs(process.argv);
const dataDir = process.env.ADMIN_PTY_DATA_DIR;
if (argv === null || dataDir === undefined || dataDir === '') {
  process.stderr.write('admin-pty-entry: --admin and ADMIN_PTY_DATA_DIR are required\n');
  process.exit(64);
}
let code: number;
if (process.env.ADMIN_PTY_AS_WINDOWS === '1') {
  const ended = new Readable({ read: () => undefined });
  ended.push(null);
  Object.defineProperty(process, 'stdin', { configurable: true, enumerable: true, get: () => ended });
  code = await runAdminProcess(argv, { dataDir, platform: 'win32', openConsoleInput: () => openSync('/dev/tty', 'r+') });
} else {
  code = await runAdminProcess(argv, { dataDir });
}
process.exit(code);
