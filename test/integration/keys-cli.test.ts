/**
 * The key provisioning CLI (main/admin/keys/cli.ts) against a real Secret Service.
 * Runs only inside scripts/with-test-keyring.sh (private D-Bus + gnome-keyring
 * + temporary HOME), so it can never touch a developer's keychain.
 */
import { spawn } from 'node:child_process';
import { createCipheriv, createHash, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { KEY_ACCOUNTS, STATION_ACCOUNTS } from '../../main/core/keystore';
import type { KeyAccount } from '../../main/core/keystore';
import { KeytarKeyStore } from '../../main/core/keytar-store';
import { EXIT_CODES, runKeysCli } from '../../main/admin/keys/cli';
import type { CliInput } from '../../main/admin/keys/cli';
import { runInPty } from '../helpers/pty';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

beforeAll(() => {
  if (process.env.PIN_STATION_TEST_KEYRING !== '1') {
    throw new Error('integration tests must run inside scripts/with-test-keyring.sh (private Secret Service)');
  }
});

const service = `pin-station-keys-it-${randomBytes(4).toString('hex')}`;
const store = new KeytarKeyStore(service);
const spawnedService = `${service}-spawned`;

async function clear(target: KeytarKeyStore): Promise<void> {
  for (const account of KEY_ACCOUNTS) await target.delete(account);
}
afterEach(() => clear(store));
afterAll(() => clear(new KeytarKeyStore(spawnedService)));

// AES-256 key of NIST SP 800-38B / RFC 4493; its CMAC KCV (CMAC of a zero block, 5 bytes) is published.
const KEY = '603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4';
const KEY_CMAC_KCV = '1A0B2DF267';
/** Legacy KCV computed here, independently of the product code: AES-ECB of a zero block, 3 bytes. */
function legacyKcv(hex: string): string {
  const cipher = createCipheriv('aes-256-ecb', Buffer.from(hex, 'hex'), null);
  cipher.setAutoPadding(false);
  return cipher.update(Buffer.alloc(16)).subarray(0, 3).toString('hex').toUpperCase();
}
const KEY_LEGACY_KCV = legacyKcv(KEY);
const OTHER_KEY = randomBytes(32).toString('hex');

function rsaPublicKey(bits: number): { spkiPem: string; pkcs1Pem: string; fingerprint: string } {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return {
    spkiPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    pkcs1Pem: publicKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    fingerprint: createHash('sha256').update(der).digest('hex').slice(0, 10).toUpperCase(),
  };
}
const RSA_2048 = rsaPublicKey(2048);
const RSA_1024 = rsaPublicKey(1024);

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function collector(): { write(text: string): boolean; text(): string } {
  let out = '';
  return {
    write(text: string): boolean {
      out += text;
      return true;
    },
    text: () => out,
  };
}

/** Runs the CLI in-process with the value piped on stdin (not a TTY). */
async function run(argv: readonly string[], input = ''): Promise<Result> {
  const stdout = collector();
  const stderr = collector();
  const stdin = Readable.from(input.length > 0 ? [Buffer.from(input, 'utf8')] : []);
  const code = await runKeysCli(argv, { stdin, stdout, stderr });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** Runs the real entry point: `npx tsx main/admin/keys/cli.ts ...` with `input` piped to its stdin. */
function spawnCli(args: readonly string[], input: string, env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('npx', ['tsx', 'main/admin/keys/cli.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, npm_config_update_notifier: 'false', ...env },
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

/** Neither the value nor any 10-character run of it (ignoring case, PEM armour and whitespace) appears. */
function expectNoLeak(result: Result, secret: string): void {
  const output = `${result.stdout}\n${result.stderr}`.toLowerCase();
  const material = secret
    .replace(/-----[^-]+-----/g, '')
    .replace(/\s+/g, '')
    .toLowerCase();
  expect(material.length).toBeGreaterThan(0);
  const window = Math.min(10, material.length);
  for (let i = 0; i + window <= material.length; i++) {
    const part = material.slice(i, i + window);
    if (output.includes(part)) throw new Error(`output contains part of the value at offset ${i}`);
  }
}

async function snapshot(): Promise<Record<KeyAccount, string | null>> {
  const entries = {} as Record<KeyAccount, string | null>;
  for (const account of KEY_ACCOUNTS) entries[account] = await store.get(account);
  return entries;
}

describe('keys import (piped input)', () => {
  it('stores a pin-key whose CMAC KCV matches, prints both KCVs, and status shows them', async () => {
    const result = await run(['import', 'pin-key', '--service', service, '--kcv', KEY_CMAC_KCV], `${KEY}\n`);
    expect(result.code).toBe(EXIT_CODES.OK);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`stored pin-key in service "${service}"; KCV (CMAC) ${KEY_CMAC_KCV}, KCV (legacy) ${KEY_LEGACY_KCV}\n`);
    expectNoLeak(result, KEY);
    expect((await store.get('pin-key'))?.toLowerCase()).toBe(KEY);

    const status = await run(['status', '--service', service]);
    expect(status.code).toBe(EXIT_CODES.OK);
    expect(status.stdout).toContain(`pin-key: present; KCV (CMAC) ${KEY_CMAC_KCV}, KCV (legacy) ${KEY_LEGACY_KCV}\n`);
    expect(status.stdout).toContain('pin-public-key: absent\n');
    expect(status.stdout).toContain('api-token: absent\n');
    expect(status.stdout).toContain('audit-key: absent\n');
    expectNoLeak(status, KEY);
  });

  it('stores a pin-key whose legacy KCV matches (any case, CRLF line end), and status shows the KCVs', async () => {
    const result = await run(['import', 'pin-key', `--service=${service}`, `--kcv=${KEY_LEGACY_KCV.toLowerCase()}`], `${KEY.toUpperCase()}\r\n`);
    expect(result.code).toBe(EXIT_CODES.OK);
    expect(result.stdout).toContain(`KCV (CMAC) ${KEY_CMAC_KCV}, KCV (legacy) ${KEY_LEGACY_KCV}`);
    expectNoLeak(result, KEY);
    expect((await store.get('pin-key'))?.toLowerCase()).toBe(KEY);
    const status = await run(['status', '--service', service]);
    expect(status.stdout).toContain(`pin-key: present; KCV (CMAC) ${KEY_CMAC_KCV}, KCV (legacy) ${KEY_LEGACY_KCV}`);
  });

  it('replaces an existing entry only with --replace', async () => {
    await store.set('audit-key', OTHER_KEY);
    const result = await run(['import', 'audit-key', '--service', service, '--kcv', KEY_CMAC_KCV, '--replace'], KEY);
    expect(result.code).toBe(EXIT_CODES.OK);
    expect(result.stdout).toMatch(/^replaced audit-key in service ".*"; KCV \(CMAC\) 1A0B2DF267/);
    expect((await store.get('audit-key'))?.toLowerCase()).toBe(KEY);
  });

  it('stores a valid RSA 2048 public key, checks its fingerprint KCV, and status shows bits and fingerprint', async () => {
    const result = await run(['import', 'pin-public-key', '--service', service, '--kcv', RSA_2048.fingerprint], RSA_2048.spkiPem);
    expect(result.code).toBe(EXIT_CODES.OK);
    expect(result.stdout).toBe(`stored pin-public-key in service "${service}"; RSA 2048 bits, fingerprint KCV (SHA-256 of SPKI) ${RSA_2048.fingerprint}\n`);
    const stored = await store.get('pin-public-key');
    expect(stored).not.toBeNull();
    const storedDer = createPublicKey(stored as string).export({ type: 'spki', format: 'der' });
    expect(createHash('sha256').update(storedDer).digest('hex').slice(0, 10).toUpperCase()).toBe(RSA_2048.fingerprint);

    const status = await run(['status', '--service', service]);
    expect(status.stdout).toContain(`pin-public-key: present; RSA 2048 bits, fingerprint KCV (SHA-256 of SPKI) ${RSA_2048.fingerprint}; no expiry known\n`);
  });

  it('gives a PKCS#1 "RSA PUBLIC KEY" PEM the same fingerprint and stores it as SPKI', async () => {
    const result = await run(['import', 'pin-public-key', '--service', service], RSA_2048.pkcs1Pem);
    expect(result.code).toBe(EXIT_CODES.OK);
    expect(result.stdout).toContain(`fingerprint KCV (SHA-256 of SPKI) ${RSA_2048.fingerprint}`);
    expect(await store.get('pin-public-key')).toBe(RSA_2048.spkiPem);
  });

  it('stores an api-token and status reports only its length', async () => {
    const token = `tok_${randomBytes(18).toString('base64url')}`;
    const result = await run(['import', 'api-token', '--service', service], `${token}\n`);
    expect(result.code).toBe(EXIT_CODES.OK);
    expect(result.stdout).toBe(`stored api-token in service "${service}" (${token.length} characters)\n`);
    expectNoLeak(result, token);
    expect(await store.get('api-token')).toBe(token);
    const status = await run(['status', '--service', service]);
    expect(status.stdout).toContain(`api-token: present (${token.length} characters)\n`);
    expectNoLeak(status, token);
  });
});

interface Rejection {
  readonly name: string;
  readonly argv: (svc: string) => string[];
  readonly input: string;
  readonly code: number;
  readonly message: RegExp;
  readonly existing?: Partial<Record<KeyAccount, string>>;
  /** Further values that must not appear in the output (e.g. a key typed as an argument). */
  readonly secrets?: readonly string[];
}

const NOT_HEX = `${KEY.slice(0, 30)}zz${KEY.slice(32)}`;
const SPACED_TOKEN = 'abcdefgh12345678 ijklmnop87654321';
const rejections: Rejection[] = [
  {
    name: 'a pin-key of the wrong length',
    argv: (svc) => ['import', 'pin-key', '--service', svc, '--kcv', KEY_CMAC_KCV],
    input: `${KEY.slice(0, 62)}\n`,
    code: EXIT_CODES.MALFORMED_VALUE,
    message: /pin-key must be exactly 64 hexadecimal characters \(AES-256\), but 62 were given\. Nothing was stored\./,
  },
  {
    name: 'a pin-key that is not hex',
    argv: (svc) => ['import', 'pin-key', '--service', svc, '--kcv', KEY_CMAC_KCV],
    input: `${NOT_HEX}\n`,
    code: EXIT_CODES.MALFORMED_VALUE,
    message: /pin-key must contain only hexadecimal characters .*Nothing was stored\./,
  },
  {
    name: 'a pin-key whose KCV does not match',
    argv: (svc) => ['import', 'pin-key', '--service', svc, '--kcv', '0123456789'],
    input: `${KEY}\n`,
    code: EXIT_CODES.KCV_MISMATCH,
    message: /the pin-key value does not match --kcv .*Nothing was stored\./,
  },
  {
    name: 'a pin-key without --kcv',
    argv: (svc) => ['import', 'pin-key', '--service', svc],
    input: `${KEY}\n`,
    code: EXIT_CODES.KCV_REQUIRED,
    message: /--kcv is required for pin-key.*Nothing was stored\./,
  },
  {
    name: 'a pin-key that already exists, without --replace',
    argv: (svc) => ['import', 'pin-key', '--service', svc, '--kcv', KEY_CMAC_KCV],
    input: `${KEY}\n`,
    code: EXIT_CODES.ENTRY_EXISTS,
    message: /pin-key already exists in service ".*"\. Use --replace to overwrite it\. Nothing was stored\./,
    existing: { 'pin-key': OTHER_KEY },
  },
  {
    name: 'a 1024-bit RSA public key',
    argv: (svc) => ['import', 'pin-public-key', '--service', svc],
    input: RSA_1024.spkiPem,
    code: EXIT_CODES.MALFORMED_VALUE,
    message: /pin-public-key is an RSA public key of 1024 bits; at least 2048 bits are required\. Nothing was stored\./,
  },
  {
    name: 'a public key whose fingerprint KCV does not match',
    argv: (svc) => ['import', 'pin-public-key', '--service', svc, '--kcv', RSA_1024.fingerprint],
    input: RSA_2048.spkiPem,
    code: EXIT_CODES.KCV_MISMATCH,
    message: /the pin-public-key does not match --kcv/,
  },
  {
    name: 'a private key offered as pin-public-key',
    argv: (svc) => ['import', 'pin-public-key', '--service', svc],
    input: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    code: EXIT_CODES.MALFORMED_VALUE,
    message: /pin-public-key is a private key/,
  },
  {
    name: 'an api-token with a space',
    argv: (svc) => ['import', 'api-token', '--service', svc],
    input: `${SPACED_TOKEN}\n`,
    code: EXIT_CODES.MALFORMED_VALUE,
    message: /api-token must not contain spaces or other whitespace\. Nothing was stored\./,
  },
  {
    name: 'empty input',
    argv: (svc) => ['import', 'api-token', '--service', svc],
    input: '',
    code: EXIT_CODES.MALFORMED_VALUE,
    message: /no value was read for api-token \(empty input\)\. Nothing was stored\./,
  },
  {
    name: 'input that is only a newline',
    argv: (svc) => ['import', 'pin-key', '--service', svc, '--kcv', KEY_CMAC_KCV],
    input: '\n',
    code: EXIT_CODES.MALFORMED_VALUE,
    message: /no value was read for pin-key \(empty input\)/,
  },
  {
    name: 'an unknown account',
    argv: (svc) => ['import', 'pin-keys', '--service', svc, '--kcv', KEY_CMAC_KCV],
    input: `${KEY}\n`,
    code: EXIT_CODES.UNKNOWN_ACCOUNT,
    message: /unknown account; expected one of: pin-key, pin-public-key, api-token, audit-key, ship-key\./,
  },
  {
    name: 'a key given on the command line',
    argv: (svc) => ['import', 'pin-key', KEY, '--service', svc, '--kcv', KEY_CMAC_KCV],
    input: `${KEY}\n`,
    code: EXIT_CODES.USAGE,
    message: /too many arguments\. A value is never given on the command line/,
    secrets: [KEY],
  },
  {
    name: 'a key given in place of the account',
    argv: (svc) => ['import', KEY, '--service', svc],
    input: '',
    code: EXIT_CODES.UNKNOWN_ACCOUNT,
    message: /unknown account/,
    secrets: [KEY],
  },
  {
    name: 'a --kcv of the wrong format',
    argv: (svc) => ['import', 'pin-key', '--service', svc, '--kcv', '1A0B2'],
    input: `${KEY}\n`,
    code: EXIT_CODES.USAGE,
    message: /--kcv for pin-key must be 10 hex characters \(CMAC KCV\) or 6 \(legacy KCV\)\./,
  },
  {
    name: 'an invalid --service',
    argv: () => ['import', 'pin-key', '--service', 'pin station; rm', '--kcv', KEY_CMAC_KCV],
    input: `${KEY}\n`,
    code: EXIT_CODES.USAGE,
    message: /--service must be 1-64 characters/,
  },
  {
    name: 'an unknown option',
    argv: (svc) => ['import', 'pin-key', '--service', svc, '--kvc', KEY_CMAC_KCV],
    input: `${KEY}\n`,
    code: EXIT_CODES.USAGE,
    message: /unknown option "--kvc"/,
  },
];

describe('keys import rejects bad input with its own exit code and stores nothing', () => {
  it.each(rejections)('$name', async (c) => {
    for (const [account, value] of Object.entries(c.existing ?? {})) await store.set(account as KeyAccount, value);
    const before = await snapshot();
    const result = await run(c.argv(service), c.input);
    expect(result.code).toBe(c.code);
    expect(result.stderr).toMatch(/^keys: error: /);
    expect(result.stderr).toMatch(c.message);
    expect(result.stdout).toBe('');
    const secrets = [c.input, ...Object.values(c.existing ?? {}), ...(c.secrets ?? [])].filter((s) => s.trim().length > 0);
    for (const secret of secrets) expectNoLeak(result, secret);
    expect(await snapshot()).toEqual(before);
  });
});

describe('keys status and delete', () => {
  it('reports a malformed entry without showing it', async () => {
    const bad = 'not-a-hex-key-0123456789';
    await store.set('pin-key', bad);
    await store.set('pin-public-key', RSA_1024.spkiPem);
    await store.set('api-token', 'short tok');
    const status = await run(['status', '--service', service]);
    expect(status.code).toBe(EXIT_CODES.OK);
    expect(status.stdout).toContain('pin-key: present but malformed: must be exactly 64 hexadecimal characters (AES-256), but 24 were given\n');
    expect(status.stdout).toContain('pin-public-key: present but malformed: is an RSA public key of 1024 bits; at least 2048 bits are required\n');
    expect(status.stdout).toContain('api-token: present but malformed: must be 16 to 4096 characters, but 9 were given\n');
    expect(status.stdout).toContain('audit-key: absent\n');
    expectNoLeak(status, bad);
    expectNoLeak(status, RSA_1024.spkiPem);
  });

  it('deletes an entry and reports whether it existed', async () => {
    await store.set('api-token', 'tok_abcdefghijklmnop');
    const first = await run(['delete', 'api-token', '--service', service]);
    expect(first.code).toBe(EXIT_CODES.OK);
    expect(first.stdout).toBe(`deleted api-token from service "${service}"\n`);
    expect(await store.get('api-token')).toBeNull();
    const second = await run(['delete', 'api-token', '--service', service]);
    expect(second.code).toBe(EXIT_CODES.OK);
    expect(second.stdout).toBe(`api-token was not present in service "${service}"; nothing deleted\n`);
    const unknown = await run(['delete', 'pin-keys', '--service', service]);
    expect(unknown.code).toBe(EXIT_CODES.UNKNOWN_ACCOUNT);
  });

  it('--help lists every exit code; no command is a usage error', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(EXIT_CODES.OK);
    for (const code of Object.values(EXIT_CODES)) expect(help.stdout).toMatch(new RegExp(`^ +${code}  \\S`, 'm'));
    const none = await run([]);
    expect(none.code).toBe(EXIT_CODES.USAGE);
    expect(none.stderr).toMatch(/a command is required/);
  });
});

describe('keys import from a terminal', () => {
  function fakeTty(keys: string): { stdin: CliInput; setRawMode: ReturnType<typeof vi.fn> } {
    const stream = new PassThrough();
    const setRawMode = vi.fn();
    stream.end(keys);
    return { stdin: Object.assign(stream, { isTTY: true, setRawMode }), setRawMode };
  }

  it('reads without echo in raw mode, prompts on stderr and never prints the value', async () => {
    // A typo fixed with backspace, then Enter; the text after Enter is not read.
    const { stdin, setRawMode } = fakeTty(`${KEY.slice(0, 10)}x\u007f${KEY.slice(10)}\rignored`);
    const stdout = collector();
    const stderr = collector();
    const code = await runKeysCli(['import', 'pin-key', '--service', service, '--kcv', KEY_CMAC_KCV], { stdin, stdout, stderr });
    expect(code).toBe(EXIT_CODES.OK);
    expect(setRawMode.mock.calls).toEqual([[true], [false]]);
    expect(stderr.text()).toMatch(/^Enter pin-key \(64 hex characters, input hidden\), then press Enter: \n$/);
    expectNoLeak({ code, stdout: stdout.text(), stderr: stderr.text() }, KEY);
    expect((await store.get('pin-key'))?.toLowerCase()).toBe(KEY);
  });

  it('reads a pasted PEM up to its END line', async () => {
    const pasted = RSA_2048.spkiPem.replace(/\n/g, '\r');
    const { stdin } = fakeTty(pasted);
    const stdout = collector();
    const code = await runKeysCli(['import', 'pin-public-key', '--service', service], { stdin, stdout, stderr: collector() });
    expect(code).toBe(EXIT_CODES.OK);
    expect(stdout.text()).toContain(RSA_2048.fingerprint);
  });

  it('Ctrl-C cancels and stores nothing', async () => {
    const { stdin, setRawMode } = fakeTty(`${KEY.slice(0, 20)}\u0003`);
    const stderr = collector();
    const code = await runKeysCli(['import', 'pin-key', '--service', service, '--kcv', KEY_CMAC_KCV], { stdin, stdout: collector(), stderr });
    expect(code).toBe(EXIT_CODES.CANCELLED);
    expect(setRawMode.mock.calls).toEqual([[true], [false]]);
    expect(stderr.text()).toMatch(/keys: error: cancelled\. Nothing was stored\./);
    expect(await store.get('pin-key')).toBeNull();
  });
});

describe('the real command (npx tsx main/admin/keys/cli.ts)', () => {
  it('imports a piped pin-key end to end', async () => {
    const result = await spawnCli(['import', 'pin-key', '--service', spawnedService, '--kcv', KEY_CMAC_KCV], `${KEY}\n`);
    expect(result.code, result.stderr).toBe(EXIT_CODES.OK);
    expect(result.stdout).toBe(`stored pin-key in service "${spawnedService}"; KCV (CMAC) ${KEY_CMAC_KCV}, KCV (legacy) ${KEY_LEGACY_KCV}\n`);
    expectNoLeak(result, KEY);
    expect((await new KeytarKeyStore(spawnedService).get('pin-key'))?.toLowerCase()).toBe(KEY);
  });

  it('exits 8 with the keychain message when the Secret Service cannot be reached', async () => {
    const env = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent' };
    const status = await spawnCli(['status', '--service', service], '', env);
    expect(status.code).toBe(EXIT_CODES.KEYCHAIN_UNAVAILABLE);
    expect(status.stdout).toBe('');
    expect(status.stderr).toMatch(/keys: error: The keychain could not be reached or is locked\. Check that the keychain service is running and unlocked\./);

    const imported = await spawnCli(['import', 'pin-key', '--service', service, '--kcv', KEY_CMAC_KCV], `${KEY}\n`, env);
    expect(imported.code).toBe(EXIT_CODES.KEYCHAIN_UNAVAILABLE);
    expect(imported.stderr).toMatch(/The keychain could not be reached or is locked/);
    expectNoLeak(imported, KEY);
    expect(await store.get('pin-key')).toBeNull();
  });
});

describe('the key ceremony on a real terminal (npx tsx main/admin/keys/cli.ts in a pseudo-terminal)', () => {
  const ptyService = `${service}-pty`;
  const ptyStore = new KeytarKeyStore(ptyService);
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'pin-station-keys-pty-'));
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ station: { id: 'pty-07' }, keychain: { service: ptyService } }));
  });
  afterEach(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    for (const account of [...KEY_ACCOUNTS, ...STATION_ACCOUNTS]) await ptyStore.delete(account);
  });

  const components = [randomBytes(32).toString('hex').toUpperCase(), randomBytes(32).toString('hex').toUpperCase()] as const;
  const key = Buffer.from(components[0], 'hex').map((byte, i) => byte ^ (Buffer.from(components[1], 'hex')[i] as number));
  const keyHex = Buffer.from(key).toString('hex').toUpperCase();
  const CLEAR = '\u001b[H\u001b[2J\u001b[3J';

  function ceremony(steps: Parameters<typeof runInPty>[1]) {
    return runInPty(
      [
        process.execPath,
        '--import',
        'tsx',
        'main/admin/keys/cli.ts',
        'import',
        'pin-key',
        '--components',
        '2',
        '--kcv',
        legacyKcv(keyHex),
        '--service',
        ptyService,
        '--data-dir',
        dataDir,
      ],
      steps,
      { cwd: ROOT, timeoutMs: 150_000 },
    );
  }

  /** No 10 characters in a row of any of `secrets` (any case) on the screen. */
  function expectNotOnScreen(screen: string, ...secrets: string[]): void {
    const text = screen.toLowerCase();
    for (const secret of secrets) {
      for (let i = 0; i + 10 <= secret.length; i++) expect(text.includes(secret.toLowerCase().slice(i, i + 10)), `part of a secret at ${i}`).toBe(false);
    }
  }

  it('a component pasted at the custodian-name prompt never appears on the screen, and is refused', async () => {
    const run = await ceremony([{ waitFor: 'Custodian 1 of 2, your name (shown): ', send: `${components[0]}\r` }]);
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(EXIT_CODES.CUSTODIAN_REFUSED);
    expect(run.output).toContain("custodian 1's name looks like a value");
    expectNotOnScreen(run.output, components[0]);
    expect(await ptyStore.get('pin-key')).toBeNull();
  }, 90_000);

  it('a whole ceremony: names and KCVs shown, components never, the screen cleared after each custodian', async () => {
    const run = await ceremony([
      { waitFor: 'Custodian 1 of 2, your name (shown): ', send: 'Alice\r' },
      { waitFor: 'input hidden), then press Enter: ', send: `${components[0]}\r`, hidden: true },
      { waitFor: 'the KCV of your component (10 or 6 hex): ', send: `${legacyKcv(components[0])}\r` },
      { waitFor: 'Custodian 2 of 2, your name (shown): ', send: 'Bob\r' },
      { waitFor: 'input hidden), then press Enter: ', send: `${components[1]}\r`, hidden: true },
      { waitFor: 'the KCV of your component (10 or 6 hex): ', send: `${legacyKcv(components[1])}\r` },
    ]);
    expect(run.timedOut).toBe(false);
    expect(run.code, run.output).toBe(EXIT_CODES.OK);
    expect(run.echoWhenTyped).toEqual([false, false, false, false, false, false]);
    expectNotOnScreen(run.output, ...components, keyHex);
    expect(run.output).toContain(`Alice\r\n`);
    // Custodian 1's part is cleared away before custodian 2 is asked anything.
    const cleared = run.output.indexOf(CLEAR);
    expect(cleared).toBeGreaterThan(run.output.indexOf(legacyKcv(components[0])));
    expect(cleared).toBeLessThan(run.output.indexOf('Custodian 2 of 2, your name'));
    expect(run.output.lastIndexOf(CLEAR)).toBeGreaterThan(run.output.indexOf(legacyKcv(components[1])));
    expect(await ptyStore.get('pin-key')).toBe(keyHex);
  }, 90_000);
});
