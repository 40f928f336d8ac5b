/**
 * The local staff accounts CLI (main/admin/staff/cli.ts) against a real Secret
 * Service and a temporary data directory. Runs only inside
 * scripts/with-test-keyring.sh (private D-Bus + gnome-keyring + temporary
 * HOME), so it can never touch a developer's keychain.
 */
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KeytarKeyStore } from '../../main/core/keytar-store';
import { auditFilePath, readAuditKey, verifyAuditFile } from '../../main/core/audit';
import { symlink } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { LocalAccountStore, staffFilePath } from '../../main/core/staff/accounts';
import { EXIT_CODES, runStaffCli } from '../../main/admin/staff/cli';
import type { CliInput } from '../../main/admin/staff/cli';
import { runInPty } from '../helpers/pty';
import type { PtyResult } from '../helpers/pty';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const POLICY = { maxFailures: 10, minutes: 30 } as const;
const PASSWORD = 'correct horse battery';
const OTHER_PASSWORD = 'another long passphrase';

beforeAll(() => {
  if (process.env.PIN_STATION_TEST_KEYRING !== '1') {
    throw new Error('integration tests must run inside scripts/with-test-keyring.sh (private Secret Service)');
  }
});

let service: string;
let dataDir: string;
let keyStore: KeytarKeyStore;

beforeEach(async () => {
  service = `pin-station-staff-it-${randomBytes(4).toString('hex')}`;
  keyStore = new KeytarKeyStore(service);
  dataDir = await mkdtemp(join(tmpdir(), 'pin-station-staff-cli-'));
  // The station this data directory belongs to: its keychain service signs the staff-admin records.
  await writeFile(join(dataDir, 'config.json'), JSON.stringify({ station: { id: 'desk-9' }, keychain: { service } }));
});
afterEach(async () => {
  for (const entry of ['staff-key', 'staff-generation', 'staff-mfa-key', 'audit-key', 'audit-mark'] as const) await keyStore.delete(entry);
  await rm(dataDir, { recursive: true, force: true });
});

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function collector(onWrite?: (text: string) => void): { write(text: string): boolean; text(): string } {
  let out = '';
  return {
    write(text: string): boolean {
      out += text;
      onWrite?.(text);
      return true;
    },
    text: () => out,
  };
}

/** Runs the CLI in-process on the test's service and data directory; `input` is piped on stdin (not a TTY). */
async function run(argv: readonly string[], input: string | CliInput = ''): Promise<Result> {
  const stdout = collector();
  const stderr = collector();
  const stdin = typeof input === 'string' ? Readable.from(input.length > 0 ? [Buffer.from(input, 'utf8')] : []) : input;
  const code = await runStaffCli([...argv, '--service', service, '--data-dir', dataDir], { stdin, stdout, stderr });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** Runs the CLI with a terminal that types `answers[i]` (then Enter) when the i-th prompt appears. */
async function runTty(argv: readonly string[], answers: readonly string[]): Promise<Result & { prompts: string[] }> {
  const stream = new PassThrough();
  const rawModes: boolean[] = [];
  const stdin: CliInput = Object.assign(stream, { isTTY: true, setRawMode: (mode: boolean) => rawModes.push(mode) });
  const prompts: string[] = [];
  const stdout = collector();
  const stderr = collector((text) => {
    if (!text.endsWith(': ')) return;
    prompts.push(text);
    const answer = answers[prompts.length - 1];
    if (answer !== undefined) setImmediate(() => stream.write(`${answer}\r`));
  });
  const code = await runStaffCli([...argv, '--service', service, '--data-dir', dataDir], { stdin, stdout, stderr });
  expect(rawModes.every((mode, i) => mode === (i % 2 === 0))).toBe(true);
  return { code, stdout: stdout.text(), stderr: stderr.text(), prompts };
}

/** Runs the real entry point: `npx tsx main/admin/staff/cli.ts ...` with `input` piped to its stdin. */
function spawnCli(args: readonly string[], input: string): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('npx', ['tsx', 'main/admin/staff/cli.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, npm_config_update_notifier: 'false' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdin.on('error', () => undefined); // EPIPE if the CLI exits before reading its input
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

function accounts(): LocalAccountStore {
  return new LocalAccountStore(staffFilePath(dataDir), keyStore);
}

function expectNoPassword(result: Result, ...passwords: string[]): void {
  for (const password of passwords) expect(`${result.stdout}\n${result.stderr}`).not.toContain(password);
}

async function addAnna(): Promise<void> {
  const added = await run(['add', 'anna.k', '--roles', 'operator,supervisor', '--name', 'Anna Kowalska'], `${PASSWORD}\n`);
  expect(added).toMatchObject({ code: EXIT_CODES.OK, stderr: '' });
}

describe('npm run staff -- add / list', () => {
  it('adds an account with the password from stdin; list shows it with its roles; the file holds only a hash', async () => {
    const added = await run(['add', 'Anna.K', '--roles', 'supervisor, operator', '--name', 'Anna Kowalska'], `${PASSWORD}\n`);
    expect(added.code).toBe(EXIT_CODES.OK);
    expect(added.stdout).toContain('added anna.k (operator, supervisor)');
    expectNoPassword(added, PASSWORD);

    const listed = await run(['list']);
    expect(listed.code).toBe(EXIT_CODES.OK);
    const line = listed.stdout.split('\n').find((text) => text.startsWith('anna.k '));
    expect(line).toMatch(/^anna\.k +operator,supervisor +Anna Kowalska +active$/);
    expect(listed.stdout).not.toContain('$argon2');

    const json = await run(['list', '--json']);
    expect(json.code).toBe(EXIT_CODES.OK);
    const view = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(view).toEqual([expect.objectContaining({ username: 'anna.k', displayName: 'Anna Kowalska', roles: ['operator', 'supervisor'], disabled: false })]);
    expect(json.stdout).not.toContain('argon2');
    expect(json.stdout).not.toContain('passwordHash');

    const file = await readFile(staffFilePath(dataDir), 'utf8');
    expect(file).not.toContain(PASSWORD);
    expect(file).toContain('$argon2id$');
    expect(await accounts().checkPassword('anna.k', PASSWORD, POLICY)).toMatchObject({ ok: true, account: { username: 'anna.k' } });
    expect(await accounts().checkPassword('anna.k', OTHER_PASSWORD, POLICY)).toMatchObject({ ok: false, code: 'SIGN_IN_FAILED' });
  });

  it('reads one line from a pipe that stays open: the repeat is not asked for', async () => {
    const stdin = new PassThrough();
    stdin.write(`${PASSWORD}\r\n`);
    const added = await run(['add', 'bo', '--roles', 'operator'], stdin);
    expect(added).toMatchObject({ code: EXIT_CODES.OK, stderr: '' });
    expect(await accounts().checkPassword('bo', PASSWORD, POLICY)).toMatchObject({ ok: true });
  });

  it('refuses a short password and stores nothing', async () => {
    const short = await run(['add', 'anna.k', '--roles', 'operator'], 'short-pw\n');
    expect(short.code).toBe(EXIT_CODES.PASSWORD_REJECTED);
    expect(short.stderr).toMatch(/at least 12 characters/);
    expectNoPassword(short, 'short-pw');
    expect(existsSync(staffFilePath(dataDir))).toBe(false);

    const empty = await run(['add', 'anna.k', '--roles', 'operator'], '');
    expect(empty.code).toBe(EXIT_CODES.PASSWORD_REJECTED);
    expect((await run(['list', '--json'])).stdout.trim()).toBe('[]');
  });

  it('refuses a second account with the same user name and keeps the first', async () => {
    await addAnna();
    const again = await run(['add', 'ANNA.K', '--roles', 'admin'], `${OTHER_PASSWORD}\n`);
    expect(again.code).toBe(EXIT_CODES.ACCOUNT_EXISTS);
    expect(again.stderr).toMatch(/already exists/);
    expect(await accounts().list()).toEqual([expect.objectContaining({ username: 'anna.k', roles: ['operator', 'supervisor'] })]);
    expect(await accounts().checkPassword('anna.k', PASSWORD, POLICY)).toMatchObject({ ok: true });
  });

  it('asks twice at a hidden prompt on a terminal and refuses two different entries', async () => {
    const differ = await runTty(['add', 'anna.k', '--roles', 'operator'], [PASSWORD, OTHER_PASSWORD]);
    expect(differ.code).toBe(EXIT_CODES.PASSWORD_REJECTED);
    expect(differ.prompts).toEqual(['New password for anna.k: ', 'Repeat it: ']);
    expect(differ.stderr).toMatch(/differ/);
    expectNoPassword(differ, PASSWORD, OTHER_PASSWORD);
    expect(await accounts().list()).toEqual([]);

    const same = await runTty(['add', 'anna.k', '--roles', 'operator'], [PASSWORD, PASSWORD]);
    expect(same.code).toBe(EXIT_CODES.OK);
    expectNoPassword(same, PASSWORD);
    expect(await accounts().checkPassword('anna.k', PASSWORD, POLICY)).toMatchObject({ ok: true });
  });

  it('refuses a password given as an argument without repeating it, and stores nothing', async () => {
    const result = await run(['add', 'bob', '--roles', 'operator', 'hunter2hunter2'], `${PASSWORD}\n`);
    expect(result.code).toBe(EXIT_CODES.USAGE);
    expectNoPassword(result, 'hunter2hunter2');
    const asOption = await run(['add', 'bob', '--roles', 'operator', '--password=hunter2hunter2']);
    expect(asOption.code).toBe(EXIT_CODES.USAGE);
    expectNoPassword(asOption, 'hunter2hunter2');
    expect(existsSync(staffFilePath(dataDir))).toBe(false);
  });

  it('names an unknown account and a bad role as errors', async () => {
    await addAnna();
    expect((await run(['passwd', 'nobody'], `${PASSWORD}\n`)).code).toBe(EXIT_CODES.UNKNOWN_ACCOUNT);
    expect((await run(['disable', 'nobody'])).code).toBe(EXIT_CODES.UNKNOWN_ACCOUNT);
    expect((await run(['add', 'carl', '--roles', 'operator,boss'], `${PASSWORD}\n`)).code).toBe(EXIT_CODES.USAGE);
  });

  it('prints usage with the exit codes', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(EXIT_CODES.OK);
    expect(help.stdout).toMatch(/^Usage: npm run staff -- <command>/);
    expect(help.stdout).toContain('Exit codes:');
  });
});

describe('npm run staff -- passwd / disable / enable / unlock', () => {
  it('passwd replaces the password: the old one fails, the new one works', async () => {
    await addAnna();
    const changed = await run(['passwd', 'anna.k'], `${OTHER_PASSWORD}\n`);
    expect(changed.code).toBe(EXIT_CODES.OK);
    expectNoPassword(changed, OTHER_PASSWORD);
    expect(await accounts().checkPassword('anna.k', PASSWORD, POLICY)).toMatchObject({ ok: false, code: 'SIGN_IN_FAILED' });
    expect(await accounts().checkPassword('anna.k', OTHER_PASSWORD, POLICY)).toMatchObject({ ok: true });
  });

  it('disable refuses the right password with ACCOUNT_DISABLED; enable restores the sign-in', async () => {
    await addAnna();
    expect((await run(['disable', 'anna.k'])).code).toBe(EXIT_CODES.OK);
    expect(await accounts().checkPassword('anna.k', PASSWORD, POLICY)).toMatchObject({ ok: false, code: 'ACCOUNT_DISABLED' });
    expect((await run(['list'])).stdout).toMatch(/^anna\.k .* disabled$/m);
    expect((await run(['enable', 'anna.k'])).code).toBe(EXIT_CODES.OK);
    expect(await accounts().checkPassword('anna.k', PASSWORD, POLICY)).toMatchObject({ ok: true });
  });

  it('after 10 wrong passwords the account is locked; list shows until when; unlock clears it', async () => {
    await addAnna();
    const store = accounts();
    for (let i = 0; i < 9; i++) expect(await store.checkPassword('anna.k', `wrong password ${i}`, POLICY)).toMatchObject({ code: 'SIGN_IN_FAILED' });
    expect((await run(['list'])).stdout).toMatch(/^anna\.k .* 9 failed attempts$/m);
    const tenth = await store.checkPassword('anna.k', 'wrong password 9', POLICY);
    expect(tenth).toMatchObject({ ok: false, code: 'ACCOUNT_LOCKED_OUT', lockedNow: true });
    const lockedUntil = tenth.ok ? null : tenth.lockedUntil;
    expect(lockedUntil).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(await store.checkPassword('anna.k', PASSWORD, POLICY)).toMatchObject({ ok: false, code: 'ACCOUNT_LOCKED_OUT', lockedUntil });

    const listed = await run(['list']);
    expect(listed.stdout).toContain(`locked until ${lockedUntil}`);
    const unlocked = await run(['unlock', 'anna.k']);
    expect(unlocked.code).toBe(EXIT_CODES.OK);
    expect((await run(['list'])).stdout).toMatch(/^anna\.k .* active$/m);
    expect(await accounts().checkPassword('anna.k', PASSWORD, POLICY)).toMatchObject({ ok: true });
  });

  it('passwd also ends a lockout', async () => {
    await addAnna();
    const store = accounts();
    for (let i = 0; i < 10; i++) await store.checkPassword('anna.k', `wrong password ${i}`, POLICY);
    expect(await store.checkPassword('anna.k', PASSWORD, POLICY)).toMatchObject({ code: 'ACCOUNT_LOCKED_OUT' });
    expect((await run(['passwd', 'anna.k'], `${OTHER_PASSWORD}\n`)).code).toBe(EXIT_CODES.OK);
    expect(await accounts().checkPassword('anna.k', OTHER_PASSWORD, POLICY)).toMatchObject({ ok: true });
  });
});

describe('npm run staff: a damaged accounts file', () => {
  it('refuses a file edited to add a role, saying it was edited', async () => {
    await addAnna();
    const path = staffFilePath(dataDir);
    const file = JSON.parse(await readFile(path, 'utf8')) as { accounts: { roles: string[] }[] };
    file.accounts[0]?.roles.push('admin');
    await writeFile(path, `${JSON.stringify(file, null, 2)}\n`);

    const listed = await run(['list']);
    expect(listed.code).toBe(EXIT_CODES.STORE_INVALID);
    expect(listed.stderr).toMatch(/edited/);
    expect(listed.stdout).toBe('');
    expect((await run(['unlock', 'anna.k'])).code).toBe(EXIT_CODES.STORE_INVALID);
  });
});

describe('npm run staff (entry point)', () => {
  it('adds an account through `npx tsx main/admin/staff/cli.ts` with the password piped on stdin', async () => {
    const result = await spawnCli(['add', 'carol', '--roles', 'auditor', '--service', service, '--data-dir', dataDir], `${PASSWORD}\n`);
    expect(result.stderr).not.toMatch(/error/);
    expect(result.code).toBe(EXIT_CODES.OK);
    expect(result.stdout).toContain('added carol (auditor)');
    expectNoPassword(result, PASSWORD);
    expect(await accounts().checkPassword('carol', PASSWORD, POLICY)).toMatchObject({ ok: true, account: { roles: ['auditor'] } });
  });
});

describe('npm run staff: every change is a staff-admin record in the trail', () => {
  function trail(): Record<string, unknown>[] {
    const path = auditFilePath(dataDir);
    if (!existsSync(path)) return [];
    return readFileSyncUtf8(path)
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it('add, passwd, disable, enable, unlock and roles each append one record naming the account, its roles and who ran it', async () => {
    const me = userInfo().username;
    await addAnna();
    expect((await run(['passwd', 'anna.k'], `${OTHER_PASSWORD}\n`)).code).toBe(EXIT_CODES.OK);
    expect((await run(['disable', 'anna.k'])).code).toBe(EXIT_CODES.OK);
    expect((await run(['enable', 'anna.k'])).code).toBe(EXIT_CODES.OK);
    for (let i = 0; i < 2; i++) await accounts().checkPassword('anna.k', `wrong password ${i}`, POLICY);
    expect((await run(['unlock', 'anna.k'])).code).toBe(EXIT_CODES.OK);
    const changed = await run(['roles', 'anna.k', '--roles', 'supervisor,admin']);
    expect(changed).toMatchObject({ code: EXIT_CODES.OK, stdout: 'roles of anna.k: operator, supervisor -> supervisor, admin\n' });
    expect(await accounts().list()).toEqual([expect.objectContaining({ username: 'anna.k', roles: ['supervisor', 'admin'] })]);
    // No change, no record.
    expect((await run(['enable', 'anna.k'])).stdout).toMatch(/already enabled; nothing changed/);
    expect((await run(['list'])).code).toBe(EXIT_CODES.OK);

    const both = ['operator', 'supervisor'];
    expect(trail()).toEqual([
      expect.objectContaining({
        seq: 1,
        type: 'staff-admin',
        stationId: 'desk-9',
        action: 'add',
        username: 'anna.k',
        rolesBefore: null,
        rolesAfter: both,
        osUser: me,
      }),
      expect.objectContaining({ seq: 2, action: 'passwd', username: 'anna.k', rolesBefore: both, rolesAfter: both, osUser: me }),
      expect.objectContaining({ seq: 3, action: 'disable', rolesBefore: both, rolesAfter: both }),
      expect.objectContaining({ seq: 4, action: 'enable' }),
      expect.objectContaining({ seq: 5, action: 'unlock' }),
      expect.objectContaining({ seq: 6, action: 'roles', rolesBefore: both, rolesAfter: ['supervisor', 'admin'] }),
    ]);
    const text = readFileSyncUtf8(auditFilePath(dataDir));
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(OTHER_PASSWORD);
    expect(text).not.toContain('argon2');
    const key = await readAuditKey(keyStore);
    const verified = verifyAuditFile(auditFilePath(dataDir), key);
    expect(verified).toMatchObject({ ok: true, records: 6 });
  });

  it('a trail that cannot take the record: refused before the password is asked, and nothing changes', async () => {
    await addAnna();
    // A torn final line: the trail takes nothing more until it is sealed.
    await writeFile(auditFilePath(dataDir), `${readFileSyncUtf8(auditFilePath(dataDir))}{"seq":2,"ti`);
    const refused = await run(['passwd', 'anna.k'], `${OTHER_PASSWORD}\n`);
    expect(refused.code).toBe(EXIT_CODES.AUDIT_UNAVAILABLE);
    expect(refused.stderr).toMatch(/cannot take the record of this change \(AUDIT_TORN_TAIL\).*Nothing was asked or changed/);
    expect(await accounts().checkPassword('anna.k', PASSWORD, POLICY)).toMatchObject({ ok: true });
    expect((await run(['disable', 'anna.k'])).code).toBe(EXIT_CODES.AUDIT_UNAVAILABLE);
    expect(await accounts().list()).toEqual([expect.objectContaining({ disabled: false })]);
  });

  it('refused while the station runs on the data directory (one writer per trail)', async () => {
    await addAnna();
    // The station's single-instance lock, as Chromium makes it: a symlink naming this host and a live process.
    await symlink(`${hostname()}-${process.pid}`, join(dataDir, 'SingletonLock'));
    const refused = await run(['roles', 'anna.k', '--roles', 'admin']);
    expect(refused.code).toBe(EXIT_CODES.STATION_RUNNING);
    expect(refused.stderr).toMatch(/the station is running/);
    expect(await accounts().list()).toEqual([expect.objectContaining({ roles: ['operator', 'supervisor'] })]);
    expect(trail()).toHaveLength(1);
  });

  it("refused when --service is not the station's keychain service: the record would not join its trail", async () => {
    await writeFile(join(dataDir, 'config.json'), JSON.stringify({ keychain: { service: 'another-service' } }));
    const refused = await run(['add', 'bo', '--roles', 'operator'], `${PASSWORD}\n`);
    expect(refused.code).toBe(EXIT_CODES.USAGE);
    expect(refused.stderr).toMatch(/names keychain service "another-service"/);
    expect(existsSync(staffFilePath(dataDir))).toBe(false);
  });
});

function readFileSyncUtf8(path: string): string {
  return readFileSync(path, 'utf8');
}

describe('npm run staff -- mfa enroll / reset', () => {
  /** RFC 6238 TOTP with HMAC-SHA-1, written here from the RFC and independent of the product's library. */
  function rfc6238(key: Buffer, unixSeconds: number, digits: number): string {
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
    const mac = createHmac('sha1', key).update(counter).digest();
    const offset = (mac[mac.length - 1] as number) & 0x0f;
    const binary = mac.readUInt32BE(offset) & 0x7fffffff;
    return String(binary % 10 ** digits).padStart(digits, '0');
  }
  function base32Decode(text: string): Buffer {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    let bits = '';
    for (const char of text.replace(/=+$/, '')) bits += alphabet.indexOf(char).toString(2).padStart(5, '0');
    const bytes: number[] = [];
    for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
    return Buffer.from(bytes);
  }

  it('the independent implementation gives RFC 6238 appendix B (SHA-1)', () => {
    const key = Buffer.from('12345678901234567890', 'ascii');
    const vectors: [number, string][] = [
      [59, '94287082'],
      [1111111109, '07081804'],
      [1111111111, '14050471'],
      [1234567890, '89005924'],
      [2000000000, '69279037'],
      [20000000000, '65353130'],
    ];
    for (const [time, code] of vectors) expect(rfc6238(key, time, 8)).toBe(code);
    expect(base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ').toString('ascii')).toBe('12345678901234567890');
  });

  /** `npm run staff -- mfa enroll anna.k` on a real terminal; `answer` gets what the terminal showed and returns the code to type. */
  async function enrolInPty(answer: (shown: string) => string): Promise<{ run: PtyResult; shown: string }> {
    const transcript = join(dataDir, 'pty-transcript');
    const codeFile = join(dataDir, 'pty-code');
    const prompt = 'Current 6-digit code shown by the app for anna.k: ';
    const running = runInPty(
      [process.execPath, '--import', 'tsx', 'main/admin/staff/cli.ts', 'mfa', 'enroll', 'anna.k', '--service', service, '--data-dir', dataDir],
      [{ waitFor: prompt, send: '', sendFile: codeFile, hidden: true }],
      { cwd: ROOT, transcript, timeoutMs: 150_000 },
    );
    let shown = '';
    for (let i = 0; i < 3000 && !shown.includes(prompt); i++) {
      await new Promise((resolvePromise) => setTimeout(resolvePromise, 50));
      shown = existsSync(transcript) ? readFileSync(transcript, 'utf8') : '';
    }
    await writeFile(codeFile, `${answer(shown)}\r`);
    return { run: await running, shown };
  }
  const secretIn = (shown: string): string => /otpauth:\/\/totp\/[^\s?]+\?secret=([A-Z2-7]+)/.exec(shown)?.[1] ?? '';

  it('shows the URI and a QR code once, stores the secret only after a right code, and the secret works with RFC 6238', async () => {
    await addAnna();
    const { run, shown } = await enrolInPty((text) => rfc6238(base32Decode(secretIn(text)), Date.now() / 1000, 6));
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(EXIT_CODES.OK);
    expect(run.echoWhenTyped).toEqual([false]);
    const secret = secretIn(shown);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    // The URI and the QR code (half-block characters), each once; the secret nowhere else.
    expect(run.output.split('otpauth://totp/').length - 1).toBe(1);
    expect(run.output).toMatch(/otpauth:\/\/totp\/PIN%20Station:anna\.k%40desk-9\?secret=[A-Z2-7]{32}&/);
    expect(run.output.split(secret).length - 1).toBe(1);
    expect(run.output).toMatch(/[▀▄█]{10}/);
    expect(run.output).toContain('second factor enrolled for anna.k');
    // Stored sealed: not in the file in clear.
    const file = await readFile(staffFilePath(dataDir), 'utf8');
    expect(file).not.toContain(secret);
    expect(await accounts().list()).toEqual([expect.objectContaining({ username: 'anna.k', mfaEnrolled: true })]);

    // The product accepts a code from the independent implementation for the next step (the confirmation used this one)...
    const next = rfc6238(base32Decode(secret), Date.now() / 1000 + 30, 6);
    expect(await accounts().checkSignIn('anna.k', PASSWORD, next, POLICY, 'required')).toMatchObject({ ok: true, factor: 'totp' });
    // ...once only.
    expect(await accounts().checkSignIn('anna.k', PASSWORD, next, POLICY, 'required')).toMatchObject({ ok: false, recorded: 'MFA_CODE_INVALID' });

    const records = readFileSync(auditFilePath(dataDir), 'utf8');
    expect(records).toContain('"action":"mfa-enroll","username":"anna.k"');
    expect(records).not.toContain(secret);
  });

  it('a wrong confirmation code stores nothing', async () => {
    await addAnna();
    const { run, shown } = await enrolInPty((text) => {
      const right = rfc6238(base32Decode(secretIn(text)), Date.now() / 1000, 6);
      return String((Number(right) + 500_000) % 1_000_000).padStart(6, '0');
    });
    expect(secretIn(shown)).not.toBe('');
    expect(run.code).toBe(EXIT_CODES.MFA_CODE_REJECTED);
    expect(run.output).toContain('Nothing was stored');
    expect(await accounts().list()).toEqual([expect.objectContaining({ username: 'anna.k', mfaEnrolled: false })]);
    expect(readFileSync(auditFilePath(dataDir), 'utf8')).not.toContain('mfa-enroll');
  });

  it('mfa enroll refuses a pipe (the secret is shown once, to a person), and takes no secret or code as an argument', async () => {
    await addAnna();
    expect((await run(['mfa', 'enroll', 'anna.k'], '123456\n')).code).toBe(EXIT_CODES.USAGE);
    const extra = await run(['mfa', 'enroll', 'anna.k', '123456']);
    expect(extra.code).toBe(EXIT_CODES.USAGE);
    expect(extra.stderr).not.toContain('123456');
    expect(await accounts().list()).toEqual([expect.objectContaining({ mfaEnrolled: false })]);
  });

  it('mfa reset removes the second factor, on record; the account then cannot sign in with a code', async () => {
    await addAnna();
    await accounts().enrolTotp('anna.k', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', null);
    const reset = await run(['mfa', 'reset', 'anna.k']);
    expect(reset).toMatchObject({ code: EXIT_CODES.OK });
    expect(reset.stdout).toContain('second factor removed for anna.k');
    expect(await accounts().checkSignIn('anna.k', PASSWORD, '123456', POLICY, 'required')).toMatchObject({ ok: false, code: 'MFA_NOT_ENROLLED' });
    expect((await run(['mfa', 'reset', 'anna.k'])).stdout).toContain('has no second factor; nothing changed');
    expect(readFileSync(auditFilePath(dataDir), 'utf8')).toMatch(/"action":"mfa-reset","username":"anna\.k","rolesBefore":\["operator","supervisor"\]/);
  });
});
