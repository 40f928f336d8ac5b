/**
 * `pin-station --admin …` (main/admin/entry.ts, main/admin/process.ts): the
 * admin commands as the installed app runs them, tested in Node. runAdmin
 * gets argv and streams and returns the exit code, as main/index.ts calls it
 * with the process's own; adminArgs finds `--admin` in Electron-style argv.
 * The hidden prompts run through a real pseudo-terminal (test/helpers/pty.ts)
 * in a child process that takes the same path as the app. Keychains are
 * in-memory, or the private test keyring of scripts/with-test-keyring.sh.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Readable } from 'node:stream';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_EXIT_CODES, adminArgs, runAdmin } from '../../main/admin/entry';
import type { AdminDeps } from '../../main/admin/entry';
import { AuditLog, auditFilePath } from '../../main/core/audit';
import { MemoryKeyStore } from '../../main/core/keystore';
import { KeytarKeyStore } from '../../main/core/keytar-store';
import { LocalAccountStore, staffFilePath } from '../../main/core/staff/accounts';
import { EXIT_CODES as AUDIT_EXIT_CODES, runAuditCli } from '../../main/admin/audit/cli';
import { defaultDataDir, isEntryPoint, withDataDir } from '../../main/admin/cli';
import { EXIT_CODES as KEYS_EXIT_CODES, runKeysCli } from '../../main/admin/keys/cli';
import { EXIT_CODES as STAFF_EXIT_CODES, runStaffCli } from '../../main/admin/staff/cli';
import { runInPty } from '../helpers/pty';

const ROOT = resolve(import.meta.dirname, '..', '..');
const AUDIT_KEY = randomBytes(32).toString('hex').toUpperCase();
const POLICY = { maxFailures: 10, minutes: 30 } as const;

beforeAll(() => {
  if (process.env.PIN_STATION_TEST_KEYRING !== '1') {
    throw new Error('integration tests must run inside scripts/with-test-keyring.sh (private Secret Service)');
  }
});

let dataDir: string;
let store: MemoryKeyStore;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pin-station-admin-'));
  store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY, 'api-token': `tok-${randomBytes(12).toString('hex')}` });
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function streams(input = ''): { deps: Pick<AdminDeps, 'stdin' | 'stdout' | 'stderr'>; result: (code: number) => Run } {
  let stdout = '';
  let stderr = '';
  const deps = {
    stdin: Readable.from(input.length > 0 ? [Buffer.from(input, 'utf8')] : []),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  };
  return { deps, result: (code) => ({ code, stdout, stderr }) };
}

/** `pin-station --admin <argv…>` in-process, on the test's data directory and in-memory keychain. */
async function admin(argv: readonly string[], input = ''): Promise<Run> {
  const io = streams(input);
  return io.result(await runAdmin(argv, { ...io.deps, dataDir, openStore: () => store }));
}

/** The same command as `npm run <cli> -- <argv…>` (the scripts' own function), on the same keychain. */
async function npmRun(cli: (argv: readonly string[], deps: never) => Promise<number>, argv: readonly string[], input = ''): Promise<Run> {
  const io = streams(input);
  return io.result(await cli(argv, { ...io.deps, openStore: () => store } as never));
}

async function writeTrail(records: number): Promise<string> {
  const log = new AuditLog(auditFilePath(dataDir), store);
  for (let i = 1; i <= records; i++) {
    await log.append({
      stationId: 'admin-test',
      operator: 'op.one',
      cardId: `ADMIN-${i}`,
      mode: 'customer',
      profile: 'gcm',
      outcome: 'pin-set',
      requestStatus: `REQ-${i}`,
      errorCode: null,
    });
  }
  return auditFilePath(dataDir);
}

describe('adminArgs: --admin in Electron-style argv', () => {
  it('takes what follows --admin on an installed station (Linux path with a space, Windows, macOS)', () => {
    expect(adminArgs(['/opt/PIN Station/pin-station', '--admin', 'keys', 'status'])).toEqual(['keys', 'status']);
    expect(adminArgs(['C:\\Program Files\\PIN Station\\PIN Station.exe', '--admin', 'audit', 'verify'])).toEqual(['audit', 'verify']);
    expect(adminArgs(['/Applications/PIN Station.app/Contents/MacOS/PIN Station', '--admin', 'staff', 'list'])).toEqual(['staff', 'list']);
  });

  it('skips Chromium switches and the app path of a development run before --admin', () => {
    expect(adminArgs(['/opt/PIN Station/pin-station', '--no-sandbox', '--admin', 'keys', 'status'])).toEqual(['keys', 'status']);
    expect(adminArgs(['/usr/bin/electron', '.', '--ozone-platform=headless', '--admin', 'staff', 'list', '--json'])).toEqual(['staff', 'list', '--json']);
    expect(adminArgs(['/Applications/PIN Station.app/Contents/MacOS/PIN Station', '-psn_0_12345', '--admin', 'help'])).toEqual(['help']);
  });

  it('hands everything after --admin to the command, switches included; --admin=<command> is the same', () => {
    expect(adminArgs(['pin-station', '--admin', 'audit', 'export', '--format', 'csv', '--no-sandbox'])).toEqual([
      'audit',
      'export',
      '--format',
      'csv',
      '--no-sandbox',
    ]);
    expect(adminArgs(['pin-station', '--admin=keys', 'status'])).toEqual(['keys', 'status']);
    expect(adminArgs(['pin-station', '--admin'])).toEqual([]);
  });

  it('is null without --admin, for a lookalike, as argv[0], or after "--"', () => {
    expect(adminArgs(['/opt/PIN Station/pin-station'])).toBeNull();
    expect(adminArgs(['/opt/PIN Station/pin-station', '--no-sandbox'])).toBeNull();
    expect(adminArgs(['/opt/PIN Station/pin-station', '--administrator', 'keys'])).toBeNull();
    expect(adminArgs(['--admin'])).toBeNull();
    expect(adminArgs(['/opt/PIN Station/pin-station', '--', '--admin', 'keys'])).toBeNull();
    expect(adminArgs([])).toBeNull();
  });
});

describe('runAdmin: each command, as npm run runs it', () => {
  it('keys status: the same output and exit code as npm run keys', async () => {
    const viaAdmin = await admin(['keys', 'status', '--service', 'pin-station-admin-test']);
    expect(viaAdmin.code).toBe(KEYS_EXIT_CODES.OK);
    expect(viaAdmin.stdout).toContain('service "pin-station-admin-test"');
    expect(viaAdmin.stdout).toMatch(/^api-token: present \(\d+ characters\)$/m);
    expect(viaAdmin.stdout).toMatch(/^pin-key: absent$/m);
    expect(viaAdmin).toEqual(await npmRun(runKeysCli, ['status', '--service', 'pin-station-admin-test']));
    // Never a value.
    expect(viaAdmin.stdout).not.toContain((await store.get('api-token')) as string);
  });

  it("audit verify: the station's trail in the app's data directory by default; --data-dir given wins", async () => {
    const trail = await writeTrail(2);
    const viaAdmin = await admin(['audit', 'verify']);
    expect(viaAdmin.code).toBe(AUDIT_EXIT_CODES.OK);
    expect(viaAdmin.stdout.split('\n')[0]).toBe(`ok: 2 records verified: ${trail}`);
    expect(viaAdmin.stdout).not.toMatch(new RegExp(AUDIT_KEY, 'i'));

    // Another directory given: its trail is looked at (there is none, so the keychain's mark makes it a loss), as with npm run.
    const elsewhere = join(dataDir, 'elsewhere');
    const explicit = await admin(['audit', 'verify', '--data-dir', elsewhere]);
    expect(explicit.code).not.toBe(AUDIT_EXIT_CODES.OK);
    expect(`${explicit.stdout}${explicit.stderr}`).toContain(auditFilePath(elsewhere));
    expect(explicit).toEqual(await npmRun(runAuditCli, ['verify', '--data-dir', elsewhere]));
  });

  it('audit verify names a tampered trail with the same exit code as npm run audit', async () => {
    await writeTrail(3);
    const file = auditFilePath(dataDir);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"cardId":"ADMIN-2"', '"cardId":"ADMIN-X"'));
    const viaAdmin = await admin(['audit', 'verify']);
    expect(viaAdmin.code).toBe(AUDIT_EXIT_CODES.VERIFY_FAILED);
    expect(viaAdmin.stdout).toContain('record 2 (line 2): mac does not match');
    expect(viaAdmin.code).toBe((await npmRun(runAuditCli, ['verify', '--data-dir', dataDir])).code);
  });

  it("staff list: the accounts in the app's data directory by default", async () => {
    await new LocalAccountStore(staffFilePath(dataDir), store).add({
      username: 'anna.k',
      roles: ['operator'],
      displayName: 'Anna K',
      password: 'correct horse battery',
    });
    const viaAdmin = await admin(['staff', 'list']);
    expect(viaAdmin.code).toBe(STAFF_EXIT_CODES.OK);
    expect(viaAdmin.stdout).toMatch(/^anna\.k +operator +Anna K +active$/m);
    expect(viaAdmin).toEqual(await npmRun(runStaffCli, ['list', '--data-dir', dataDir]));
    // Another directory given: not this one's accounts (the keychain's generation does not match an absent file there).
    const other = await admin(['staff', 'list', '--data-dir', join(dataDir, 'none')]);
    expect(other.stdout).not.toContain('anna.k');
    expect(other).toEqual(await npmRun(runStaffCli, ['list', '--data-dir', join(dataDir, 'none')]));
  });

  it("policy report: every setting with its source, config.json from the app's data directory", async () => {
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ pin: { maxLength: 8 } }));
    const report = await admin(['policy', 'report']);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain(`config: ${join(dataDir, 'config.json')}\n`);
    expect(report.stdout).toMatch(/^pin\.maxLength +config +8$/m);
    expect(report.stdout).toMatch(/^pin\.minLength +default +4$/m);
  });

  it('staff add with the password piped: stored, never printed, and it signs in', async () => {
    const added = await admin(['staff', 'add', 'bo', '--roles', 'supervisor'], 'a long piped passphrase\n');
    expect(added).toMatchObject({ code: STAFF_EXIT_CODES.OK, stderr: '' });
    expect(`${added.stdout}${added.stderr}`).not.toContain('a long piped passphrase');
    const accounts = new LocalAccountStore(staffFilePath(dataDir), store);
    expect(await accounts.checkPassword('bo', 'a long piped passphrase', POLICY)).toMatchObject({ ok: true });
  });

  it("a command's own usage errors and --help come through unchanged", async () => {
    const unknown = await admin(['staff', 'frobnicate']);
    expect(unknown.code).toBe(STAFF_EXIT_CODES.USAGE);
    expect(unknown).toEqual(await npmRun(runStaffCli, ['frobnicate']));
    const help = await admin(['keys', '--help']);
    expect(help.code).toBe(KEYS_EXIT_CODES.OK);
    expect(help.stdout).toMatch(/^Usage: npm run keys -- <command>/);
    expect(help.stdout).toContain('Exit codes:');
  });
});

describe('runAdmin: the dispatcher itself', () => {
  it('help (and --help, -h) lists the three commands and points to their own --help', async () => {
    for (const word of ['help', '--help', '-h']) {
      const help = await admin([word]);
      expect(help.code).toBe(ADMIN_EXIT_CODES.OK);
      expect(help.stderr).toBe('');
      expect(help.stdout).toMatch(/^Usage: pin-station --admin <command>/);
      for (const command of ['keys', 'audit', 'staff', 'policy']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
      expect(help.stdout).toContain('pin-station --admin keys --help');
      expect(help.stdout).toContain(dataDir);
    }
  });

  it('no command: the help on stderr and the usage exit code', async () => {
    const none = await admin([]);
    expect(none.code).toBe(ADMIN_EXIT_CODES.USAGE);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^admin: error: a command is required\.\n\nUsage: pin-station --admin <command>/);
  });

  it('an unknown command: the usage exit code, and the word typed is not repeated (it could be a secret)', async () => {
    const secretish = `k${randomBytes(16).toString('hex')}`;
    const unknown = await admin([secretish, 'status']);
    expect(unknown.code).toBe(ADMIN_EXIT_CODES.USAGE);
    expect(unknown.stderr).toBe('admin: error: unknown command; expected keys, audit, staff, policy or help. See pin-station --admin help.\n');
    expect(unknown.stdout).toBe('');
  });

  it("the app's data directory is every CLI's default only within one run (keys reads it the same way, for --components)", async () => {
    const inside = await withDataDir('/var/lib/station-a', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return defaultDataDir('linux', {}, '/home/op');
    });
    expect(inside).toBe('/var/lib/station-a');
    const [a, b] = await Promise.all([
      withDataDir('/a', async () => defaultDataDir('win32', {}, 'C:\\Users\\op')),
      withDataDir('/b', async () => defaultDataDir('darwin', {}, '/Users/op')),
    ]);
    expect([a, b]).toEqual(['/a', '/b']);
    expect(defaultDataDir('linux', {}, '/home/op')).toBe('/home/op/.config/pin-station');
  });

  it('the usage code is the one all three commands use', () => {
    expect([KEYS_EXIT_CODES.USAGE, AUDIT_EXIT_CODES.USAGE, STAFF_EXIT_CODES.USAGE]).toEqual([
      ADMIN_EXIT_CODES.USAGE,
      ADMIN_EXIT_CODES.USAGE,
      ADMIN_EXIT_CODES.USAGE,
    ]);
  });
});

describe('the CLIs bundled into the app do not start themselves', () => {
  it('isEntryPoint: true for the script node started, never inside Electron', () => {
    const started = pathToFileURL(process.argv[1] as string).href;
    expect(isEntryPoint(started)).toBe(true);
    expect(isEntryPoint(pathToFileURL(join(ROOT, 'main', 'admin', 'keys', 'cli.ts')).href)).toBe(false);
    Object.defineProperty(process.versions, 'electron', { value: '41.10.0', configurable: true, enumerable: true });
    try {
      expect(isEntryPoint(started)).toBe(false);
    } finally {
      delete (process.versions as Record<string, string | undefined>).electron;
    }
    expect(isEntryPoint(started)).toBe(true);
  });
});

describe('hidden prompts through a real terminal', () => {
  const entry = join(ROOT, 'test', 'helpers', 'admin-pty-entry.ts');
  let service: string;
  let keychain: KeytarKeyStore;
  beforeEach(() => {
    service = `pin-station-admin-pty-${randomBytes(4).toString('hex')}`;
    keychain = new KeytarKeyStore(service);
    // The station's service, so staff changes can be recorded in its trail.
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ keychain: { service } }));
  });
  afterEach(async () => {
    for (const account of ['api-token', 'staff-key', 'staff-generation', 'audit-key', 'audit-mark'] as const) await keychain.delete(account);
  });

  /** `pin-station --admin <argv…>` as the app runs it, with Node for Electron, on a new terminal. */
  function adminInPty(argv: readonly string[], steps: Parameters<typeof runInPty>[1], env: NodeJS.ProcessEnv = {}) {
    return runInPty([process.execPath, '--import', 'tsx', entry, '--admin', ...argv], steps, {
      cwd: ROOT,
      env: { ...process.env, ADMIN_PTY_DATA_DIR: dataDir, ...env },
    });
  }

  it('staff add asks twice without echo; the account is in the data directory and signs in', async () => {
    const password = `pty-${randomBytes(12).toString('base64url')}`;
    const run = await adminInPty(
      ['staff', 'add', 'pat.q', '--roles', 'operator', '--service', service],
      [
        { waitFor: 'New password for pat.q: ', send: `${password}\r`, hidden: true },
        { waitFor: 'Repeat it: ', send: `${password}\r`, hidden: true },
      ],
    );
    expect(run.timedOut).toBe(false);
    expect(run.echoWhenTyped).toEqual([false, false]);
    expect(run.output).not.toContain(password);
    expect(run.output).toContain(`added pat.q (operator) to ${staffFilePath(dataDir)}`);
    expect(run.code).toBe(STAFF_EXIT_CODES.OK);
    const accounts = new LocalAccountStore(staffFilePath(dataDir), keychain);
    expect(await accounts.checkPassword('pat.q', password, POLICY)).toMatchObject({ ok: true, account: { username: 'pat.q' } });
  });

  it('Ctrl-C at the prompt cancels with 130 and stores nothing', async () => {
    const run = await adminInPty(
      ['staff', 'add', 'pat.q', '--roles', 'operator', '--service', service],
      [{ waitFor: 'New password for pat.q: ', send: 'half-typed\u0003', hidden: true }],
    );
    expect(run.code).toBe(STAFF_EXIT_CODES.CANCELLED);
    expect(run.output).toContain('staff: error: cancelled. Nothing was stored.');
    expect(run.output).not.toContain('half-typed');
    expect(existsSync(staffFilePath(dataDir))).toBe(false);
  });

  it('the Windows path: stdin ends at once (as Electron makes it there), the console is opened directly', async () => {
    const token = `tok_${randomBytes(18).toString('base64url')}`;
    const run = await adminInPty(['keys', 'import', 'api-token', '--service', service], [{ waitFor: 'Enter api-token', send: `${token}\r`, hidden: true }], {
      ADMIN_PTY_AS_WINDOWS: '1',
    });
    expect(run.timedOut).toBe(false);
    expect(run.echoWhenTyped).toEqual([false]);
    expect(run.output).not.toContain(token);
    expect(run.output).toContain(`stored api-token in service "${service}" (${token.length} characters)`);
    expect(run.code).toBe(KEYS_EXIT_CODES.OK);
    expect(await keychain.get('api-token')).toBe(token);
  });

  it('the check can fail: a program that leaves echo on shows what was typed', async () => {
    const run = await runInPty(
      [process.execPath, '-e', "process.stdout.write('Secret: '); process.stdin.once('data', () => process.exit(0));"],
      [{ waitFor: 'Secret: ', send: 'visible-secret\r', hidden: true }],
      { cwd: ROOT },
    );
    expect(run.code).toBe(0);
    expect(run.echoWhenTyped).toEqual([true]);
    expect(run.output).toContain('visible-secret');
  });
});
