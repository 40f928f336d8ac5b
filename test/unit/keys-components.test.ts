/**
 * `npm run keys -- import <aes-key> --components 2|3` (main/admin/keys/cli.ts): a key
 * loaded from custodians' components under split knowledge and dual control,
 * with its key-load record in the audit trail. Driven through runKeysCli with
 * injected streams and a MemoryKeyStore; the known-answer vectors are checked
 * with AES-CMAC and AES-ECB written here on node:crypto, not with the code
 * under test.
 */
import { createCipheriv } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditLog, auditFilePath, exportAuditTrail, validateAuditEntry, verifyAuditFile } from '../../main/core/audit';
import type { AuditKeyLoadEntry } from '../../main/core/audit';
import { adminLockHolder, adminLockPath, takeAdminLock } from '../../main/core/admin-lock';
import { bootStation } from '../../main/core/boot';
import { MemoryKeyStore } from '../../main/core/keystore';
import type { PolicySource } from '../../main/core/policy/sources';
import type { SettingTree } from '../../main/core/policy/tree';
import type { KeyAccount, KeyStore } from '../../main/core/keystore';
import { EXIT_CODES, runKeysCli } from '../../main/admin/keys/cli';
import type { CliInput } from '../../main/admin/keys/cli';

// ------------------------------------------------- independent AES-CMAC / KCV

function aesEcb(key: Buffer, block: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-ecb', key, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(block), cipher.final()]);
}

/** Doubling in GF(2^128), RFC 4493 section 2.3 (Generate_Subkey). */
function double(block: Buffer): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = (((block[i] as number) << 1) | ((block[i + 1] ?? 0) >>> 7)) & 0xff;
  if ((block[0] as number) & 0x80) out[15] = (out[15] as number) ^ 0x87;
  return out;
}

/** AES-256-CMAC, RFC 4493 section 2.4: subkeys from AES-ECB, the chain as AES-CBC with a zero IV. */
function cmac(key: Buffer, message: Buffer): Buffer {
  const k1 = double(aesEcb(key, Buffer.alloc(16)));
  const k2 = double(k1);
  const blocks = Math.max(1, Math.ceil(message.length / 16));
  const complete = message.length > 0 && message.length % 16 === 0;
  const last = Buffer.alloc(16);
  const tail = message.subarray((blocks - 1) * 16);
  tail.copy(last);
  if (!complete) last[tail.length] = 0x80;
  for (let i = 0; i < 16; i++) last[i] = (last[i] as number) ^ ((complete ? k1 : k2)[i] as number);
  const cipher = createCipheriv('aes-256-cbc', key, Buffer.alloc(16));
  cipher.setAutoPadding(false);
  const out = Buffer.concat([cipher.update(Buffer.concat([message.subarray(0, (blocks - 1) * 16), last])), cipher.final()]);
  return out.subarray(out.length - 16);
}

function cmacKcv(hex: string): string {
  return cmac(Buffer.from(hex, 'hex'), Buffer.alloc(16)).subarray(0, 5).toString('hex').toUpperCase();
}
function legacyKcv(hex: string): string {
  return aesEcb(Buffer.from(hex, 'hex'), Buffer.alloc(16)).subarray(0, 3).toString('hex').toUpperCase();
}
function xorHex(...parts: string[]): string {
  const out = Buffer.alloc(32);
  for (const part of parts) {
    const bytes = Buffer.from(part, 'hex');
    for (let i = 0; i < 32; i++) out[i] = (out[i] as number) ^ (bytes[i] as number);
  }
  return out.toString('hex').toUpperCase();
}

// ----------------------------------------------------- known-answer vectors

/** NIST SP 800-38B D.3 / RFC 4493 AES-256 key; its CMAC of a zero block starts 1A0B2DF267. */
const NIST_KEY = '603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4';

/** Two components whose XOR is NIST_KEY. */
const TWO = {
  components: [
    { hex: '0F1E2D3C4B5A69788796A5B4C3D2E1F00112233445566778899AABBCCDDEEFF0', cmac: '1A673BC0C1', legacy: '97C8D4' },
    { hex: '6F23C62C5E9018C6ACE50B4446AF96711E270F337E376FAFA402BB1FC4CA3004', cmac: '8D0B236DEE', legacy: '16855A' },
  ],
  key: { hex: NIST_KEY, cmac: '1A0B2DF267', legacy: 'E568F6' },
} as const;

/** Three components whose XOR is the FIPS-197 C.3 key 000102...1F. */
const THREE = {
  components: [
    { hex: 'A5A5A5A55A5A5A5AC3C3C3C33C3C3C3C96969696696969691E1E1E1EE1E1E1E1', cmac: 'C6E81C968C', legacy: '4F9C69' },
    { hex: '7B2F8E41D0C6359A14E8B7236F0A9DC5528C1B7E3AF46D0995E2C7183B6DA4F0', cmac: '757CA4A12A', legacy: 'C1BDED' },
    { hex: 'DE8B29E78E9969C7DF227EEB5F3BAFF6D40B9FFB4788127793E5C31DC6915B0E', cmac: 'C804663C7E', legacy: '626A32' },
  ],
  key: { hex: '000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F', cmac: '377822C093', legacy: 'F29000' },
} as const;

const AUDIT_KEY = '8F1C3A5B7D9E0F2143658709ABCDEF0123456789ABCDEF0123456789ABCDEF01';
const OLD_PIN_KEY = 'C0FFEE00C0FFEE00C0FFEE00C0FFEE00C0FFEE00C0FFEE00C0FFEE00C0FFEE00';
const SERVICE = 'pin-station-test';
const STATION = 'branch-07';
const KEY_LOAD_KEYS = ['seq', 'time', 'type', 'stationId', 'account', 'components', 'custodians', 'componentKcvs', 'keyKcv', 'keyKcvLegacy', 'prev', 'mac'];

describe('the test vectors themselves (computed here, not by the code under test)', () => {
  it('the CMAC here gives RFC 4493 / SP 800-38B D.3 for AES-256 with the empty message', () => {
    expect(cmac(Buffer.from(NIST_KEY, 'hex'), Buffer.alloc(0)).toString('hex')).toBe('028962f61b7bf89efc6b551f4667d983');
    // And the published CMAC KCV of that key (a zero block).
    expect(cmacKcv(NIST_KEY)).toBe('1A0B2DF267');
  });

  it.each([
    ['2 components', TWO],
    ['3 components', THREE],
  ])('%s: the KCVs and the XOR are what the vector says', (_name, vector) => {
    for (const component of vector.components) {
      expect(cmacKcv(component.hex)).toBe(component.cmac);
      expect(legacyKcv(component.hex)).toBe(component.legacy);
    }
    expect(xorHex(...vector.components.map((c) => c.hex))).toBe(vector.key.hex);
    expect(cmacKcv(vector.key.hex)).toBe(vector.key.cmac);
    expect(legacyKcv(vector.key.hex)).toBe(vector.key.legacy);
  });
});

// ------------------------------------------------------------------- harness

let dataDir: string;
let trail: string;
let tick: number;
const now = (): Date => new Date(Date.UTC(2025, 2, 3, 10, 0, 0) + 1000 * tick++);

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'pin-station-keys-components-'));
  trail = auditFilePath(dataDir);
  tick = 0;
  writeConfig({ station: { id: STATION }, keychain: { service: SERVICE } });
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 }));

function writeConfig(value: unknown): void {
  writeFileSync(join(dataDir, 'config.json'), typeof value === 'string' ? value : JSON.stringify(value));
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

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function args(account: string, count: 2 | 3, finalKcv: string, ...extra: string[]): string[] {
  return ['import', account, '--components', String(count), '--kcv', finalKcv, '--service', SERVICE, '--data-dir', dataDir, ...extra];
}

interface Turn {
  readonly name: string;
  readonly component: string;
  readonly kcv: string;
}
/** The piped input: name, component and KCV per custodian, one a line. */
function lines(turns: readonly Partial<Turn>[]): string {
  return turns.map((turn) => [turn.name, turn.component, turn.kcv].filter((part) => part !== undefined).join('\n')).join('\n') + '\n';
}
function turnsOf(vector: typeof TWO | typeof THREE, names = ['Alice Martin', 'Bogdan Nowak', 'Chiara Rossi']): Partial<Turn>[] {
  return vector.components.map((component, i) => ({ name: names[i] as string, component: component.hex, kcv: component.cmac }));
}

async function run(argv: readonly string[], input: string | Readable, store: KeyStore): Promise<Result> {
  const stdout = collector();
  const stderr = collector();
  const stdin = typeof input === 'string' ? Readable.from([Buffer.from(input, 'utf8')]) : input;
  const code = await runKeysCli(argv, { stdin, stdout, stderr, openStore: () => store, now });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** No 10-character run of any secret (any case) in the output. */
function expectNoLeak(output: string, ...secrets: string[]): void {
  const text = output.toLowerCase();
  for (const secret of secrets) {
    const material = secret.toLowerCase();
    for (let i = 0; i + 10 <= material.length; i++) {
      if (text.includes(material.slice(i, i + 10))) throw new Error(`output contains part of a secret at offset ${i}`);
    }
  }
}
const secretsOf = (vector: typeof TWO | typeof THREE): string[] => [...vector.components.map((c) => c.hex), vector.key.hex];

function trailRecords(): Record<string, unknown>[] {
  let text = '';
  try {
    text = readFileSync(trail, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function trailBytes(): string {
  try {
    return readFileSync(trail, 'utf8');
  } catch {
    return '';
  }
}

/** A stdin that records whether anything tried to read it. */
function untouchedInput(): { stdin: Readable; read: () => boolean } {
  let read = false;
  const stdin = new Readable({
    read() {
      read = true;
      this.push(null);
    },
  });
  return { stdin, read: () => read };
}

async function entries(store: KeyStore): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (const account of ['pin-key', 'audit-key', 'audit-mark'] as KeyAccount[]) out[account] = await store.get(account);
  return out;
}

// --------------------------------------------------------------------- success

describe('a key from components', () => {
  it('2 components: checks each, stores the XOR, prints only KCVs, writes one key-load record that verifies', async () => {
    const store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY });
    // Custodian 2 has the legacy KCV on their form: either convention is accepted.
    const turns = turnsOf(TWO);
    turns[1] = { ...(turns[1] as Turn), kcv: TWO.components[1].legacy.toLowerCase() };
    const result = await run(args('pin-key', 2, TWO.key.cmac), lines(turns), store);

    expect(result.code, result.stderr).toBe(EXIT_CODES.OK);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      `custodian 1 (Alice Martin): component 1 matches its KCV; KCV (CMAC) ${TWO.components[0].cmac}, KCV (legacy) ${TWO.components[0].legacy}\n` +
        `custodian 2 (Bogdan Nowak): component 2 matches its KCV; KCV (CMAC) ${TWO.components[1].cmac}, KCV (legacy) ${TWO.components[1].legacy}\n` +
        `stored pin-key in service "${SERVICE}" from 2 components; KCV (CMAC) ${TWO.key.cmac}, KCV (legacy) ${TWO.key.legacy}\n` +
        `key-load record 1 written to the audit trail at ${trail}\n`,
    );
    expectNoLeak(result.stdout + result.stderr, ...secretsOf(TWO));
    // Stored as a whole-key import stores it: 64 uppercase hex characters.
    expect(await store.get('pin-key')).toBe(TWO.key.hex);

    const records = trailRecords();
    expect(records).toHaveLength(1);
    const record = records[0] as Record<string, unknown>;
    expect(Object.keys(record)).toEqual(KEY_LOAD_KEYS);
    expect(record).toMatchObject({
      seq: 1,
      time: '2025-03-03T10:00:00.000Z',
      type: 'key-load',
      stationId: STATION,
      account: 'pin-key',
      components: 2,
      custodians: ['Alice Martin', 'Bogdan Nowak'],
      componentKcvs: [TWO.components[0].cmac, TWO.components[1].cmac],
      keyKcv: TWO.key.cmac,
      keyKcvLegacy: TWO.key.legacy,
    });
    expect(verifyAuditFile(trail, Buffer.from(AUDIT_KEY, 'hex'))).toEqual({ ok: true, records: 1 });
    expectNoLeak(readFileSync(trail, 'utf8'), ...secretsOf(TWO));
    // The high-water mark was written before the command returned.
    expect(await store.get('audit-mark')).toBe(JSON.stringify({ seq: 1, mac: record.mac }));
    // An auditor's export shows who loaded the key: the lists stay lists in JSON and are joined in CSV.
    const key = Buffer.from(AUDIT_KEY, 'hex');
    const json = JSON.parse(exportAuditTrail(trail, key, { format: 'json' }).text) as { records: Record<string, unknown>[] };
    expect(json.records[0]).toMatchObject({ custodians: ['Alice Martin', 'Bogdan Nowak'], componentKcvs: [TWO.components[0].cmac, TWO.components[1].cmac] });
    const csv = exportAuditTrail(trail, key, { format: 'csv' }).text;
    expect(csv).toContain('"Alice Martin; Bogdan Nowak"');
    expect(csv).toContain(`"${TWO.components[0].cmac}; ${TWO.components[1].cmac}"`);
  });

  it('3 components, after earlier records: the record joins the chain; --kcv may be the legacy KCV', async () => {
    const store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY });
    const log = new AuditLog(trail, store, { now });
    await log.append({ type: 'export', stationId: STATION, username: 'auditor', format: 'csv', records: 0 });
    await log.flush();

    const result = await run(args('pin-key', 3, THREE.key.legacy), lines(turnsOf(THREE)), store);
    expect(result.code, result.stderr).toBe(EXIT_CODES.OK);
    for (const [i, component] of THREE.components.entries()) {
      expect(result.stdout).toContain(`component ${i + 1} matches its KCV; KCV (CMAC) ${component.cmac}, KCV (legacy) ${component.legacy}\n`);
    }
    expect(result.stdout).toContain(
      `stored pin-key in service "${SERVICE}" from 3 components; KCV (CMAC) ${THREE.key.cmac}, KCV (legacy) ${THREE.key.legacy}\n`,
    );
    expect(result.stdout).toContain('key-load record 2 written');
    expectNoLeak(result.stdout + result.stderr, ...secretsOf(THREE));
    expect(await store.get('pin-key')).toBe(THREE.key.hex);

    const record = trailRecords()[1];
    expect(record).toMatchObject({
      seq: 2,
      type: 'key-load',
      components: 3,
      custodians: ['Alice Martin', 'Bogdan Nowak', 'Chiara Rossi'],
      componentKcvs: THREE.components.map((c) => c.cmac),
      keyKcv: THREE.key.cmac,
      keyKcvLegacy: THREE.key.legacy,
    });
    expect(verifyAuditFile(trail, Buffer.from(AUDIT_KEY, 'hex'))).toEqual({ ok: true, records: 2 });
  });

  it('--replace overwrites an existing pin-key; without it nothing is asked', async () => {
    const store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY, 'pin-key': OLD_PIN_KEY });
    const { stdin, read } = untouchedInput();
    const refused = await run(args('pin-key', 2, TWO.key.cmac), stdin, store);
    expect(refused.code).toBe(EXIT_CODES.ENTRY_EXISTS);
    expect(read()).toBe(false);
    expect(await store.get('pin-key')).toBe(OLD_PIN_KEY);

    const replaced = await run(args('pin-key', 2, TWO.key.cmac, '--replace'), lines(turnsOf(TWO)), store);
    expect(replaced.code, replaced.stderr).toBe(EXIT_CODES.OK);
    expect(replaced.stdout).toContain(`replaced pin-key in service "${SERVICE}" from 2 components`);
    expect(await store.get('pin-key')).toBe(TWO.key.hex);
  });

  it('audit-key on a new trail: stored, and record 1 is signed with it', async () => {
    const store = new MemoryKeyStore();
    const result = await run(args('audit-key', 2, TWO.key.cmac), lines(turnsOf(TWO)), store);
    expect(result.code, result.stderr).toBe(EXIT_CODES.OK);
    expect(result.stdout).not.toContain('note:');
    expect(await store.get('audit-key')).toBe(TWO.key.hex);
    expect(trailRecords()[0]).toMatchObject({ seq: 1, type: 'key-load', account: 'audit-key' });
    expect(verifyAuditFile(trail, Buffer.from(TWO.key.hex, 'hex'))).toEqual({ ok: true, records: 1 });
  });

  it('pin-key with no audit-key yet: the trail creates it, as the station would, and says so', async () => {
    const store = new MemoryKeyStore();
    const result = await run(args('pin-key', 2, TWO.key.cmac), lines(turnsOf(TWO)), store);
    expect(result.code, result.stderr).toBe(EXIT_CODES.OK);
    expect(result.stdout).toContain('note: audit-key did not exist; it was created');
    const auditKey = await store.get('audit-key');
    expect(auditKey).toMatch(/^[0-9A-F]{64}$/);
    expect(verifyAuditFile(trail, Buffer.from(auditKey as string, 'hex'))).toEqual({ ok: true, records: 1 });
  });

  it('a missing config.json means the defaults (keychain service "pin-station")', async () => {
    rmSync(join(dataDir, 'config.json'));
    const store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY });
    const argv = ['import', 'pin-key', '--components', '2', '--kcv', TWO.key.cmac, '--data-dir', dataDir];
    const result = await run(argv, lines(turnsOf(TWO)), store);
    expect(result.code, result.stderr).toBe(EXIT_CODES.OK);
    expect(trailRecords()[0]?.stationId).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
  });
});

// ------------------------------------------------------------------- refusals

describe('refusals store nothing, name the custodian, and never show a component', () => {
  async function expectRefused(
    argv: readonly string[],
    input: string,
    code: number,
    message: RegExp,
    secrets: readonly string[] = secretsOf(THREE),
    initial: Partial<Record<KeyAccount, string>> = { 'audit-key': AUDIT_KEY },
  ): Promise<Result> {
    const store = new MemoryKeyStore(initial);
    const before = await entries(store);
    const result = await run(argv, input, store);
    expect(result.code, result.stderr).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/Nothing was stored\.\n$/);
    expectNoLeak(result.stdout + result.stderr, ...secrets);
    expect(await entries(store)).toEqual(before);
    expect(trailRecords()).toEqual([]);
    return result;
  }

  it.each([1, 2, 3])('a wrong KCV for custodian %i: exit COMPONENT_KCV_MISMATCH, later custodians never asked', async (n) => {
    const turns = turnsOf(THREE);
    // Off by one hex digit: a typo on the form.
    turns[n - 1] = { ...(turns[n - 1] as Turn), kcv: (turns[n - 1] as Turn).kcv.replace(/.$/, (d) => (d === '0' ? '1' : '0')) };
    const result = await expectRefused(
      args('pin-key', 3, THREE.key.cmac),
      lines(turns),
      EXIT_CODES.COMPONENT_KCV_MISMATCH,
      new RegExp(`custodian ${n}'s component does not match its KCV`),
    );
    for (let k = 1; k <= 3; k++) expect(result.stdout.includes(`custodian ${k} (`)).toBe(k < n);
  });

  it('a wrong final KCV: exit KCV_MISMATCH; an existing key is left as it was', async () => {
    const wrong = legacyKcv(THREE.components[0].hex);
    await expectRefused(args('pin-key', 3, wrong), lines(turnsOf(THREE)), EXIT_CODES.KCV_MISMATCH, /does not match --kcv/);
    await expectRefused(
      args('pin-key', 3, '0000000000', '--replace'),
      lines(turnsOf(THREE)),
      EXIT_CODES.KCV_MISMATCH,
      /does not match --kcv/,
      secretsOf(THREE),
      {
        'audit-key': AUDIT_KEY,
        'pin-key': OLD_PIN_KEY,
      },
    );
  });

  it('a component equal to an earlier one: exit COMPONENT_REFUSED, before its KCV is asked', async () => {
    const two = turnsOf(TWO);
    two[1] = { ...(two[1] as Turn), component: TWO.components[0].hex.toLowerCase(), kcv: TWO.components[0].cmac };
    await expectRefused(
      args('pin-key', 2, TWO.key.cmac),
      lines(two),
      EXIT_CODES.COMPONENT_REFUSED,
      /custodian 2's component is equal to an earlier component/,
      secretsOf(TWO),
    );

    const three = turnsOf(THREE);
    three[2] = { name: 'Chiara Rossi', component: THREE.components[0].hex };
    await expectRefused(
      args('pin-key', 3, THREE.key.cmac),
      lines(three),
      EXIT_CODES.COMPONENT_REFUSED,
      /custodian 3's component is equal to an earlier component/,
    );
  });

  it('an all-zero component, and components that make an all-zero key: exit COMPONENT_REFUSED', async () => {
    const zero = '0'.repeat(64);
    const turns = turnsOf(THREE);
    turns[1] = { name: 'Bogdan Nowak', component: zero };
    await expectRefused(args('pin-key', 3, THREE.key.cmac), lines(turns), EXIT_CODES.COMPONENT_REFUSED, /custodian 2's component is all zero/);

    const third = xorHex(THREE.components[0].hex, THREE.components[1].hex);
    const cancelling = turnsOf(THREE);
    cancelling[2] = { name: 'Chiara Rossi', component: third, kcv: cmacKcv(third) };
    await expectRefused(args('pin-key', 3, legacyKcv(zero)), lines(cancelling), EXIT_CODES.COMPONENT_REFUSED, /the 3 components make an all-zero key/, [
      ...secretsOf(THREE),
      third,
    ]);
  });

  it('a malformed component or KCV: exit MALFORMED_VALUE', async () => {
    const short = turnsOf(THREE);
    short[0] = { name: 'Alice Martin', component: THREE.components[0].hex.slice(0, 63) };
    await expectRefused(
      args('pin-key', 3, THREE.key.cmac),
      lines(short),
      EXIT_CODES.MALFORMED_VALUE,
      /custodian 1's component must be exactly 64 hexadecimal characters \(AES-256\), but 63 were given/,
    );
    const badKcv = turnsOf(THREE);
    badKcv[1] = { ...(badKcv[1] as Turn), kcv: '12345' };
    await expectRefused(args('pin-key', 3, THREE.key.cmac), lines(badKcv), EXIT_CODES.MALFORMED_VALUE, /the KCV of custodian 2's component must be 10 hex/);
  });

  it("a custodian's name: the same person twice, empty, too long, or a value typed at the wrong prompt: exit CUSTODIAN_REFUSED", async () => {
    const cases: [string, RegExp][] = [
      ['alice  MARTIN', /custodian 2's name is the same as custodian 1's/],
      ['', /custodian 2's name is empty/],
      ['B'.repeat(65), /custodian 2's name is longer than 64 characters/],
      [THREE.components[1].hex, /custodian 2's name looks like a value/],
      ['123456', /custodian 2's name looks like a value/],
      ['Bogdan\u202eNowak', /custodian 2's name must be printable characters only/],
    ];
    for (const [name, message] of cases) {
      const turns = turnsOf(THREE);
      turns[1] = { name };
      const result = await expectRefused(args('pin-key', 3, THREE.key.cmac), lines(turns), EXIT_CODES.CUSTODIAN_REFUSED, message);
      if (name.length > 0) expect(result.stderr).not.toContain(name);
    }
  });

  it('the input ends midway: nothing stored', async () => {
    const full = lines(turnsOf(THREE)).split('\n');
    // Ends after custodian 2's component, then after custodian 3's name.
    await expectRefused(
      args('pin-key', 3, THREE.key.cmac),
      full.slice(0, 5).join('\n'),
      EXIT_CODES.MALFORMED_VALUE,
      /the input ended before the KCV of custodian 2's component/,
    );
    await expectRefused(
      args('pin-key', 3, THREE.key.cmac),
      full.slice(0, 7).join('\n') + '\n',
      EXIT_CODES.MALFORMED_VALUE,
      /no value was read for custodian 3's component/,
    );
    await expectRefused(args('pin-key', 3, THREE.key.cmac), '', EXIT_CODES.MALFORMED_VALUE, /the input ended before custodian 1's name/);
  });
});

describe('checked before anyone is asked', () => {
  async function expectUnasked(
    argv: readonly string[],
    code: number,
    message: RegExp,
    store: KeyStore = new MemoryKeyStore({ 'audit-key': AUDIT_KEY }),
  ): Promise<void> {
    const before = await entries(store);
    const trailBefore = trailBytes();
    const { stdin, read } = untouchedInput();
    const result = await run(argv, stdin, store);
    expect(result.code, result.stderr).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    expect(read()).toBe(false);
    expect(await entries(store)).toEqual(before);
    expect(trailBytes()).toBe(trailBefore);
  }

  it('an invalid config.json (not JSON, or an invalid field): usage error', async () => {
    writeConfig('{ "station": ');
    await expectUnasked(
      args('pin-key', 2, TWO.key.cmac),
      EXIT_CODES.USAGE,
      /config\.json cannot be used\. The station configuration is invalid\. The config file is not valid JSON\./,
    );
    writeConfig({ station: { id: 'no spaces allowed' }, keychain: { service: SERVICE } });
    await expectUnasked(
      args('pin-key', 2, TWO.key.cmac),
      EXIT_CODES.USAGE,
      /config\.json cannot be used\. The station configuration is invalid\. station\.id: /,
    );
  });

  it("a --service other than the station's: usage error", async () => {
    writeConfig({ keychain: { service: 'branch-keys' } });
    await expectUnasked(args('pin-key', 2, TWO.key.cmac), EXIT_CODES.USAGE, /names keychain service "branch-keys", not the one given with --service/);
  });

  it('a trail ending in a torn line: AUDIT_UNAVAILABLE', async () => {
    const store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY });
    const log = new AuditLog(trail, store, { now });
    await log.append({ type: 'export', stationId: STATION, username: 'auditor', format: 'json', records: 0 });
    await log.flush();
    appendFileSync(trail, '{"seq":2,"ti');
    await expectUnasked(args('pin-key', 2, TWO.key.cmac), EXIT_CODES.AUDIT_UNAVAILABLE, /cannot take the key-load record \(AUDIT_TORN_TAIL\)/, store);
  });

  it('a trail that was deleted behind the high-water mark: AUDIT_UNAVAILABLE', async () => {
    const store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY, 'audit-mark': JSON.stringify({ seq: 4, mac: 'a'.repeat(64) }) });
    await expectUnasked(args('pin-key', 2, TWO.key.cmac), EXIT_CODES.AUDIT_UNAVAILABLE, /\(AUDIT_TRAIL_LOST\)/, store);
  });

  it('audit-key when the trail already has records: AUDIT_UNAVAILABLE (they could no longer be verified)', async () => {
    const store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY });
    const log = new AuditLog(trail, store, { now });
    await log.append({ type: 'export', stationId: STATION, username: 'auditor', format: 'json', records: 0 });
    await log.flush();
    await expectUnasked(args('audit-key', 2, TWO.key.cmac, '--replace'), EXIT_CODES.AUDIT_UNAVAILABLE, /audit-key signs the audit trail/, store);
  });

  it('usage: --components other than 2 or 3, a non-AES account, no --kcv, --data-dir without --components', async () => {
    await expectUnasked(
      ['import', 'pin-key', '--components', '4', '--kcv', TWO.key.cmac, '--service', SERVICE],
      EXIT_CODES.USAGE,
      /--components must be 2 or 3/,
    );
    await expectUnasked(
      ['import', 'api-token', '--components', '2', '--service', SERVICE],
      EXIT_CODES.USAGE,
      /--components applies only to pin-key and audit-key/,
    );
    await expectUnasked(['import', 'pin-key', '--components', '2', '--service', SERVICE, '--data-dir', dataDir], EXIT_CODES.KCV_REQUIRED, /--kcv is required/);
    await expectUnasked(
      ['import', 'pin-key', '--kcv', TWO.key.cmac, '--data-dir', dataDir],
      EXIT_CODES.USAGE,
      /--data-dir applies to import only with --components/,
    );
  });
});

describe('after the key is stored', () => {
  it('a record that cannot be written: exit AUDIT_RECORD_FAILED, loudly, saying the key WAS stored', async () => {
    const inner = new MemoryKeyStore({ 'audit-key': AUDIT_KEY });
    // The trail is damaged between the check and the append (a crash of something else writing it).
    const store: KeyStore = {
      get: (account) => inner.get(account),
      delete: (account) => inner.delete(account),
      set: async (account, value) => {
        await inner.set(account, value);
        if (account === 'pin-key') {
          mkdirSync(join(dataDir, 'audit'), { recursive: true });
          appendFileSync(trail, '{"torn');
        }
      },
    };
    const result = await run(args('pin-key', 2, TWO.key.cmac), lines(turnsOf(TWO)), store);
    expect(result.code).toBe(EXIT_CODES.AUDIT_RECORD_FAILED);
    expect(result.stdout).toContain(`stored pin-key in service "${SERVICE}" from 2 components`);
    expect(result.stderr).toMatch(/pin-key WAS STORED .* but its key-load record could not be written to the audit trail .*AUDIT_TORN_TAIL/);
    expect(result.stderr).toMatch(/npm run keys -- delete pin-key --service pin-station-test/);
    expectNoLeak(result.stdout + result.stderr, ...secretsOf(TWO));
    expect(await inner.get('pin-key')).toBe(TWO.key.hex);
  });
});

// ------------------------------------------------------------------ terminal

describe('from a terminal', () => {
  /**
   * A fake TTY that types the next answer whenever a prompt (ending in ": ") is written to stderr: a string in one
   * chunk (a paste), a list of strings one chunk each (typing, key by key).
   */
  function terminal(answers: (string | string[])[]): { stdin: CliInput; stderr: ReturnType<typeof collector>; setRawMode: ReturnType<typeof vi.fn> } {
    const stream = new PassThrough();
    const setRawMode = vi.fn();
    const stdin = Object.assign(stream, { isTTY: true, setRawMode });
    const type = (chunks: string[]): void => {
      const [first, ...rest] = chunks;
      if (first === undefined) return;
      stream.write(first);
      setImmediate(() => type(rest));
    };
    const stderr = collector((text) => {
      if (!text.endsWith(': ')) return;
      const next = answers.shift();
      if (next !== undefined) setImmediate(() => type(typeof next === 'string' ? [next] : next));
    });
    return { stdin, stderr, setRawMode };
  }

  async function runTty(answers: (string | string[])[], store: KeyStore, account = 'pin-key'): Promise<Result & { setRawMode: ReturnType<typeof vi.fn> }> {
    const { stdin, stderr, setRawMode } = terminal(answers);
    const stdout = collector();
    const code = await runKeysCli(args(account, 2, TWO.key.cmac), { stdin, stdout, stderr, openStore: () => store, now });
    return { code, stdout: stdout.text(), stderr: stderr.text(), setRawMode };
  }

  it('the name and KCV are shown, the component is not; each prompt in raw mode', async () => {
    const store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY });
    const [a, b] = TWO.components;
    // Custodian 1 fixes a typo in their name with backspace.
    const result = await runTty(['Alicx\u007fe\r', `${a.hex}\r`, `${a.cmac}\r`, 'Bob\r', `${b.hex}\r`, `${b.legacy}\r`], store);
    expect(result.code, result.stderr).toBe(EXIT_CODES.OK);
    // Raw from the first prompt to the end: nothing typed between prompts is echoed by the terminal either.
    expect(result.setRawMode.mock.calls).toEqual([...Array.from({ length: 6 }, () => [true]), [false]]);
    // A whole chunk is taken before anything is echoed (the typo never shows); the screen is cleared after each custodian.
    const clear = '\u001b[H\u001b[2J\u001b[3J';
    expect(result.stderr).toBe(
      'Custodian 1 of 2, your name (shown): Alice\n' +
        'Custodian 1 of 2 (Alice), enter your component of pin-key (64 hex characters, input hidden), then press Enter: \n' +
        `Custodian 1 of 2, the KCV of your component (10 or 6 hex): ${a.cmac}\n` +
        `${clear}Custodian 1 is done. Custodian 2 of 2, please take over.\n` +
        'Custodian 2 of 2, your name (shown): Bob\n' +
        'Custodian 2 of 2 (Bob), enter your component of pin-key (64 hex characters, input hidden), then press Enter: \n' +
        `Custodian 2 of 2, the KCV of your component (10 or 6 hex): ${b.legacy}\n` +
        `${clear}Custodian 2 is done.\n`,
    );
    expectNoLeak(result.stdout + result.stderr, ...secretsOf(TWO));
    expect(await store.get('pin-key')).toBe(TWO.key.hex);
    expect(trailRecords()[0]).toMatchObject({ custodians: ['Alice', 'Bob'] });
  });

  it.each([
    ['pasted at the name prompt', [`${TWO.components[0].hex}\r`], EXIT_CODES.CUSTODIAN_REFUSED],
    ['typed key by key at the name prompt', [[...TWO.components[0].hex.match(/.{1,2}/g)!, '\r']], EXIT_CODES.CUSTODIAN_REFUSED],
    ['after a name, at the name prompt', [`Alice ${TWO.components[0].hex}\r`], EXIT_CODES.CUSTODIAN_REFUSED],
    ['with spaces, at the name prompt', [`${TWO.components[0].hex.match(/.{4}/g)!.join(' ')}\r`], EXIT_CODES.CUSTODIAN_REFUSED],
    ['pasted at the KCV prompt', ['Alice\r', `${TWO.components[0].hex}\r`, `${TWO.components[1].hex}\r`], EXIT_CODES.MALFORMED_VALUE],
  ])('a component %s is never echoed, and is refused', async (_where, answers, code) => {
    const store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY });
    const result = await runTty(answers, store);
    expect(result.code, result.stderr).toBe(code);
    // No 10 characters of it anywhere: neither in the echo nor in a message.
    expectNoLeak(result.stdout + result.stderr, ...secretsOf(TWO));
    expect(await store.get('pin-key')).toBeNull();
    expect(trailRecords()).toEqual([]);
  });

  it('a visible prompt echoes at most what it needs: a KCV its 10 hex digits and a few spaces', async () => {
    const store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY });
    const result = await runTty(['Alice\r', `${TWO.components[0].hex}\r`, `${TWO.components[0].cmac} and then some more words\r`], store);
    expect(result.code).toBe(EXIT_CODES.MALFORMED_VALUE);
    expect(result.stderr).toContain(`the KCV of your component (10 or 6 hex): ${TWO.components[0].cmac} and\n`);
  });

  it('a wrong KCV stops before custodian 2 is asked', async () => {
    const store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY });
    const [a, b] = TWO.components;
    const result = await runTty(['Alice\r', `${a.hex}\r`, `${b.cmac}\r`, 'Bob\r'], store);
    expect(result.code).toBe(EXIT_CODES.COMPONENT_KCV_MISMATCH);
    expect(result.stderr).not.toContain('Custodian 2');
    expect(await store.get('pin-key')).toBeNull();
  });

  it.each([
    [
      "at custodian 2's component",
      ['Alice\r', `${TWO.components[0].hex}\r`, `${TWO.components[0].cmac}\r`, 'Bob\r', `${TWO.components[1].hex.slice(0, 30)}\u0003`],
    ],
    ["at custodian 1's name", ['Ali\u0003']],
    ["at custodian 1's KCV", ['Alice\r', `${TWO.components[0].hex}\r`, '1A\u0003']],
  ])('Ctrl-C %s: exit 130, nothing stored', async (_where, answers) => {
    const store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY });
    const result = await runTty(answers, store);
    expect(result.code).toBe(EXIT_CODES.CANCELLED);
    expect(result.stderr).toMatch(/keys: error: cancelled\. Nothing was stored\.\n$/);
    expectNoLeak(result.stdout + result.stderr, ...secretsOf(TWO));
    expect(await store.get('pin-key')).toBeNull();
    expect(trailRecords()).toEqual([]);
  });

  it('Ctrl-D (end of input) at a name: nothing stored', async () => {
    const store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY });
    const result = await runTty(['Alice\r', `${TWO.components[0].hex}\r`, `${TWO.components[0].cmac}\r`, '\u0004'], store);
    expect(result.code).toBe(EXIT_CODES.MALFORMED_VALUE);
    expect(result.stderr).toMatch(/the input ended before custodian 2's name/);
    expect(await store.get('pin-key')).toBeNull();
  });
});

// --------------------------------------------------------------- the record

describe('the key-load record schema', () => {
  const good: AuditKeyLoadEntry = {
    type: 'key-load',
    stationId: STATION,
    account: 'pin-key',
    components: 2,
    custodians: ['Alice', 'Bob'],
    componentKcvs: [TWO.components[0].cmac, TWO.components[1].cmac],
    keyKcv: TWO.key.cmac,
    keyKcvLegacy: TWO.key.legacy,
  };

  it('takes a consistent entry and refuses anything else, naming the field', () => {
    expect(validateAuditEntry(good)).toEqual(good);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ custodians: ['Alice'] }, /custodians/],
      [{ custodians: ['Alice', 'ALICE'] }, /custodians/],
      [{ componentKcvs: [TWO.components[0].cmac] }, /componentKcvs/],
      [{ componentKcvs: [TWO.components[0].cmac.toLowerCase(), TWO.components[1].cmac] }, /componentKcvs/],
      [{ components: 4 }, /components/],
      [{ account: 'api-token' }, /account/],
      [{ keyKcvLegacy: TWO.key.cmac }, /keyKcvLegacy/],
      [{ component: TWO.components[0].hex }, /unknown or invalid field.*component/],
    ];
    for (const [change, field] of bad) {
      let message = '';
      try {
        validateAuditEntry({ ...good, ...change });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, JSON.stringify(Object.keys(change))).toMatch(field);
      expectNoLeak(message, TWO.components[0].hex);
    }
  });
});

describe('--help', () => {
  it('lists the new exit codes', async () => {
    const result = await run(['--help'], '', new MemoryKeyStore());
    for (const name of ['COMPONENT_KCV_MISMATCH', 'COMPONENT_REFUSED', 'CUSTODIAN_REFUSED', 'AUDIT_UNAVAILABLE', 'AUDIT_RECORD_FAILED'] as const) {
      expect(result.stdout).toMatch(new RegExp(`^ +${EXIT_CODES[name]}  \\S`, 'm'));
    }
    expect(result.stdout).toContain('--components 2|3');
  });
});

// ------------------------------------------------------ one writer at a time

describe("the trail's admin lock, held for the whole ceremony", () => {
  it('is held from before the first prompt until the record is written, and a station does not start meanwhile', async () => {
    const store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY });
    const holders: (string | null)[] = [];
    const boots: string[] = [];
    const answers = turnsOf(TWO).flatMap((turn) => [turn.name, turn.component, turn.kcv] as string[]);
    // Piped, one line each time the command asks for more: first look at the lock and try to start a station on the trail.
    const stdin = new Readable({
      read() {
        void (async () => {
          const answer = answers.shift();
          if (answer === undefined) return this.push(null);
          holders.push(adminLockHolder(trail));
          const boot = await bootStation({
            readConfigText: async () => '',
            processorFor: async () => ({ baseUrl: 'http://127.0.0.1:9', keyStore: new MemoryKeyStore() }),
            dataDir,
            auditFor: () => new AuditLog(trail, store),
            viewsFor: () => ({ operator: () => undefined, pinpad: () => undefined }),
            staffFor: () => ({}),
          });
          boots.push(boot.kind === 'unavailable' ? `${boot.error.code}: ${boot.error.message}` : boot.kind);
          this.push(`${answer}\n`);
        })();
      },
    });
    const result = await run(args('pin-key', 2, TWO.key.cmac), stdin, store);
    expect(result.code, result.stderr).toBe(EXIT_CODES.OK);
    expect(holders).toHaveLength(6);
    expect(holders.every((holder) => holder !== null && holder.includes('npm run keys -- import --components'))).toBe(true);
    expect(boots).toHaveLength(6);
    for (const boot of boots) expect(boot).toMatch(/^AUDIT_WRITE_FAILED: .*An admin command is writing the audit trail: npm run keys -- import --components/);
    // Released afterwards: the station starts as far as its keys (none here).
    expect(adminLockHolder(trail)).toBeNull();
    expect(trailRecords().map((record) => record.type)).toEqual(['key-load']);
  });

  it('a second ceremony on the same trail is refused before anything is asked', async () => {
    const held = takeAdminLock(trail, 'npm run keys -- import --components');
    if ('heldBy' in held) throw new Error('expected the lock');
    try {
      const store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY });
      const { stdin, read } = untouchedInput();
      const result = await run(args('pin-key', 2, TWO.key.cmac), stdin, store);
      expect(result.code).toBe(EXIT_CODES.STATION_RUNNING);
      expect(result.stderr).toMatch(
        /is being written by npm run keys -- import --components \(process \d+ on .+\): wait for it to finish\. Nothing was asked or stored\./,
      );
      expect(read()).toBe(false);
      expect(await store.get('pin-key')).toBeNull();
    } finally {
      held.release();
    }
  });

  it('a lock left by a process that is gone is taken over', async () => {
    mkdirSync(join(dataDir, 'audit'), { recursive: true });
    // A pid above the kernel's limit is never alive.
    writeFileSync(adminLockPath(trail), `${hostname()} 99999999 npm run keys -- import --components\n`);
    const store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY });
    const result = await run(args('pin-key', 2, TWO.key.cmac), lines(turnsOf(TWO)), store);
    expect(result.code, result.stderr).toBe(EXIT_CODES.OK);
    expect(existsSync(adminLockPath(trail))).toBe(false);
  });
});

describe('the managed policy, read with config.json', () => {
  const policy = (tree: SettingTree): PolicySource => ({ location: '/etc/pin-station/policy.json', read: async () => tree });

  it("the policy's keychain.service and station.id are the station's: the key goes there, the record names that station", async () => {
    const stores = new Map<string, MemoryKeyStore>([['managed-keys', new MemoryKeyStore({ 'audit-key': AUDIT_KEY })]]);
    const stdout = collector();
    const stderr = collector();
    const argv = ['import', 'pin-key', '--components', '2', '--kcv', TWO.key.cmac, '--data-dir', dataDir];
    const code = await runKeysCli(argv, {
      stdin: Readable.from([Buffer.from(lines(turnsOf(TWO)))]),
      stdout,
      stderr,
      openStore: (service) => stores.get(service) ?? new MemoryKeyStore(),
      policy: policy({ keychain: { service: 'managed-keys' }, station: { id: 'managed-07' } }),
      now,
    });
    expect(code, stderr.text()).toBe(EXIT_CODES.OK);
    expect(stdout.text()).toContain('stored pin-key in service "managed-keys" from 2 components');
    expect(await stores.get('managed-keys')?.get('pin-key')).toBe(TWO.key.hex);
    expect(trailRecords()[0]).toMatchObject({ type: 'key-load', stationId: 'managed-07' });
  });

  it("a single-entry import, status and delete without --service use the policy's keychain.service", async () => {
    const stores = new Map<string, MemoryKeyStore>();
    const openStore = (service: string): MemoryKeyStore => {
      const store = stores.get(service) ?? new MemoryKeyStore();
      stores.set(service, store);
      return store;
    };
    const managed = policy({ keychain: { service: 'managed-keys' } });
    const token = 'tok_' + 'a1'.repeat(20);
    const stdout = collector();
    const stderr = collector();
    const home = { homedir: dataDir, env: { XDG_CONFIG_HOME: dataDir }, platform: 'linux' as const };
    const imported = await runKeysCli(['import', 'api-token'], {
      stdin: Readable.from([Buffer.from(`${token}\n`)]),
      stdout,
      stderr,
      openStore,
      policy: managed,
      now,
      ...home,
    });
    expect(imported, stderr.text()).toBe(EXIT_CODES.OK);
    expect(await stores.get('managed-keys')?.get('api-token')).toBe(token);
    expect(stores.has('pin-station')).toBe(false);
    const status = collector();
    expect(await runKeysCli(['status'], { stdin: Readable.from([]), stdout: status, stderr, openStore, policy: managed, now, ...home })).toBe(EXIT_CODES.OK);
    expect(status.text()).toContain('service "managed-keys"');
    expect(await runKeysCli(['delete', 'api-token'], { stdin: Readable.from([]), stdout, stderr, openStore, policy: managed, now, ...home })).toBe(
      EXIT_CODES.OK,
    );
    expect(await stores.get('managed-keys')?.get('api-token')).toBeNull();
  });

  it("a --service other than the policy's is refused, although config.json names it", async () => {
    const store = new MemoryKeyStore({ 'audit-key': AUDIT_KEY });
    const stderr = collector();
    const { stdin, read } = untouchedInput();
    const code = await runKeysCli(args('pin-key', 2, TWO.key.cmac), {
      stdin,
      stdout: collector(),
      stderr,
      openStore: () => store,
      policy: policy({ keychain: { service: 'managed-keys' } }),
      now,
    });
    expect(code).toBe(EXIT_CODES.USAGE);
    expect(stderr.text()).toMatch(/names keychain service "managed-keys", not the one given with --service/);
    expect(read()).toBe(false);
  });

  it('an invalid policy is a usage error naming it; nothing is asked', async () => {
    const stderr = collector();
    const { stdin, read } = untouchedInput();
    const code = await runKeysCli(args('pin-key', 2, TWO.key.cmac), {
      stdin,
      stdout: collector(),
      stderr,
      openStore: () => new MemoryKeyStore({ 'audit-key': AUDIT_KEY }),
      policy: policy({ pin: { minLength: 'six' } }),
      now,
    });
    expect(code).toBe(EXIT_CODES.USAGE);
    expect(stderr.text()).toMatch(/the managed policy cannot be used\. .*\/etc\/pin-station\/policy\.json: pin\.minLength/);
    expect(read()).toBe(false);
  });
});
