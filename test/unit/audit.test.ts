/**
 * Audit trail (main/core/audit.ts) and its CLI (main/admin/audit/cli.ts): the HMAC
 * chain, the keychain entry, the strict entry schema, tamper detection with
 * the first bad record named, torn tails and sealing.
 */
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TrackedAuditLog } from '../helpers/audit-trail';
import { StationError } from '../../common/errors';
import {
  AUDIT_GENESIS,
  AUDIT_RECORD_FIELDS,
  AuditError,
  auditFilePath,
  auditHeadPath,
  readAuditRecords,
  sealAuditFile,
  verifyAuditFile,
} from '../../main/core/audit';
import type { AuditEntry, AuditStaffEntry, AuditVerifyResult, AuditLog } from '../../main/core/audit';
import { MemoryKeyStore } from '../../main/core/keystore';
import type { KeyAccount, KeyStore } from '../../main/core/keystore';
import { EXIT_CODES, defaultDataDir, runAuditCli } from '../../main/admin/audit/cli';

const KEY_HEX = '8F1C3A5B7D9E0F2143658709ABCDEF0123456789ABCDEF0123456789ABCDEF01';
const KEY = Buffer.from(KEY_HEX, 'hex');
const ENTRY_KEYS = ['seq', 'time', 'stationId', 'operator', 'cardId', 'mode', 'profile', 'outcome', 'requestStatus', 'errorCode', 'prev', 'mac'];

let dir: string;
let file: string;
let tick: number;
const now = (): Date => new Date(Date.UTC(2025, 0, 2, 9, 0, 0) + 1000 * tick++);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pin-station-audit-'));
  file = auditFilePath(dir);
  tick = 0;
});
afterEach(async () => {
  await TrackedAuditLog.flushAll();
  rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
});

function entry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    stationId: 'branch-01',
    operator: 'unassigned',
    cardId: 'DEMO-0001',
    mode: 'customer',
    profile: 'gcm',
    outcome: 'pin-set',
    requestStatus: 'REQ-42',
    errorCode: null,
    ...overrides,
  };
}

async function writeTrail(count: number, store: KeyStore = new MemoryKeyStore({ 'audit-key': KEY_HEX })): Promise<AuditLog> {
  const log = new TrackedAuditLog(file, store, { now });
  for (let i = 1; i <= count; i++) await log.append(entry({ cardId: `CARD-${i}`, outcome: i % 3 === 0 ? 'rejected' : 'pin-set' }));
  await log.flush(); // the head anchor follows each record without holding up the next step
  return log;
}

function lines(): string[] {
  const text = readFileSync(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}
function writeLines(list: readonly string[]): void {
  writeFileSync(file, list.map((line) => `${line}\n`).join(''));
}

function expectBad(result: AuditVerifyResult, line: number, seq: number | null, reason: RegExp): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.firstBad).toEqual({ line, seq, reason: expect.stringMatching(reason) });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('AuditLog: chain and key', () => {
  it('chains several appends, each durable line verifying, with the head anchor on the last record', async () => {
    const log = await writeTrail(5);
    const records = readAuditRecords(file);
    expect(records.map((record) => record.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(records[0]?.prev).toBe(AUDIT_GENESIS);
    for (let i = 1; i < records.length; i++) expect(records[i]?.prev).toBe(records[i - 1]?.mac);
    for (const record of records) expect(record.mac).toMatch(/^[0-9a-f]{64}$/);
    expect(records[0]?.time).toBe('2025-01-02T09:00:00.000Z');
    expect(verifyAuditFile(file, KEY)).toEqual({ ok: true, records: 5 });
    const head = JSON.parse(readFileSync(auditHeadPath(file), 'utf8')) as { seq: number; mac: string };
    expect(head.seq).toBe(5);
    expect(head.mac).toBe(records[4]?.mac);
    expect(await log.check()).toBe(5);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'audit')).mode & 0o777).toBe(0o700);
  });

  it('returns the record it wrote', async () => {
    const log = new TrackedAuditLog(file, new MemoryKeyStore({ 'audit-key': KEY_HEX }), { now });
    const record = await log.append(entry({ mode: 'processor', outcome: 'pin-generated', requestStatus: null }));
    expect(record).toEqual({
      seq: 1,
      time: '2025-01-02T09:00:00.000Z',
      ...entry({ mode: 'processor', outcome: 'pin-generated', requestStatus: null }),
      prev: AUDIT_GENESIS,
      mac: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(JSON.parse(lines()[0] as string)).toEqual(record);
    await log.flush();
  });

  it('creates audit-key on first use (64 uppercase hex) and reuses it', async () => {
    const store = new MemoryKeyStore();
    const log = new TrackedAuditLog(file, store, { now });
    expect(await log.check()).toBe(0);
    expect(await store.get('audit-key')).toBeNull(); // check() never creates it
    await log.append(entry());
    const created = await store.get('audit-key');
    expect(created).toMatch(/^[0-9A-F]{64}$/);
    await log.append(entry());
    expect(await store.get('audit-key')).toBe(created);
    await log.flush();
    expect(verifyAuditFile(file, Buffer.from(created as string, 'hex'))).toEqual({ ok: true, records: 2 });
  });

  it('does not make a new key when the trail already has records (the chain would break)', async () => {
    await writeTrail(2);
    const empty = new MemoryKeyStore();
    const error = await rejection(new TrackedAuditLog(file, empty).append(entry()));
    expect(error).toBeInstanceOf(StationError);
    expect((error as StationError).code).toBe('KEYCHAIN_ENTRY_MISSING');
    expect(await empty.get('audit-key')).toBeNull();
    expect(lines()).toHaveLength(2);
  });

  it('refuses a malformed audit-key and writes nothing', async () => {
    const error = await rejection(new TrackedAuditLog(file, new MemoryKeyStore({ 'audit-key': 'not-hex' })).append(entry()));
    expect(error).toBeInstanceOf(StationError);
    expect((error as StationError).code).toBe('KEYCHAIN_ENTRY_MALFORMED');
    expect((error as Error).message).not.toContain('not-hex');
    expect(existsSync(file)).toBe(false);
  });

  it('passes keychain failures through and writes nothing', async () => {
    const broken: KeyStore = {
      get: () => Promise.reject(new StationError('KEYCHAIN_UNAVAILABLE')),
      set: () => Promise.reject(new StationError('KEYCHAIN_UNAVAILABLE')),
      delete: () => Promise.reject(new StationError('KEYCHAIN_UNAVAILABLE')),
    };
    const error = await rejection(new TrackedAuditLog(file, broken).append(entry()));
    expect((error as StationError).code).toBe('KEYCHAIN_UNAVAILABLE');
    expect(existsSync(file)).toBe(false);
  });

  it('reads the key per append, and the high-water mark once', async () => {
    const reads: KeyAccount[] = [];
    const inner = new MemoryKeyStore({ 'audit-key': KEY_HEX });
    const spy: KeyStore = { get: (account) => (reads.push(account), inner.get(account)), set: (a, v) => inner.set(a, v), delete: (a) => inner.delete(a) };
    const log = new TrackedAuditLog(file, spy);
    await log.append(entry());
    await log.append(entry());
    expect(reads).toEqual(['audit-mark', 'audit-key', 'audit-key']);
  });

  it('serialises concurrent appends into one consecutive chain', async () => {
    const log = new TrackedAuditLog(file, new MemoryKeyStore({ 'audit-key': KEY_HEX }), { now });
    const records = await Promise.all(Array.from({ length: 12 }, (_, i) => log.append(entry({ cardId: `C-${i}` }))));
    await log.flush();
    expect(records.map((record) => record.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(verifyAuditFile(file, KEY)).toEqual({ ok: true, records: 12 });
  });

  it('reports a write failure as AUDIT_WRITE_FAILED', async () => {
    mkdirSync(file, { recursive: true }); // the trail's path is a directory
    const error = await rejection(new TrackedAuditLog(file, new MemoryKeyStore({ 'audit-key': KEY_HEX })).append(entry()));
    expect(error).toBeInstanceOf(AuditError);
    expect((error as AuditError).code).toBe('AUDIT_WRITE_FAILED');
  });
});

describe('AuditLog: what a record may hold', () => {
  const refused: [string, unknown][] = [
    ['a PIN field', { ...entry(), pin: '1234' }],
    ['a PAN field', { ...entry(), pan: '4000001234567899' }],
    ['a PIN block field', { ...entry(), pinBlock: '41A9C3D2E5F60718' }],
    ['a key field', { ...entry(), key: KEY_HEX }],
    // The trail admits any card ID the station's configurable rule can: printable, at most 256 characters.
    ['a card ID with a control character', entry({ cardId: 'CARD\n0001' })],
    ['a card ID too long', entry({ cardId: 'A'.repeat(257) })],
    ['an unknown outcome', { ...entry(), outcome: 'approved' }],
    ['an unknown mode', { ...entry(), mode: 'operator' }],
    ['an unknown profile', { ...entry(), profile: 'des' }],
    ['a control character', entry({ operator: 'alice\nseq:1' })],
    ['an oversized request status', entry({ requestStatus: 'x'.repeat(257) })],
    ['a malformed error code', entry({ errorCode: 'not a code' })],
    ['an empty station ID', entry({ stationId: '' })],
    ['a missing field', (({ errorCode: _omit, ...rest }) => rest)(entry())],
    ['a non-object', '1234'],
    ['a processor other than the sandbox', { ...entry(), processor: 'freedom' }],
    ['a null processor', { ...entry(), processor: null }],
  ];
  it.each(refused)('refuses %s (AUDIT_INVALID_ENTRY, value not repeated) and writes nothing', async (_name, value) => {
    const log = new TrackedAuditLog(file, new MemoryKeyStore({ 'audit-key': KEY_HEX }));
    const error = await rejection(log.append(value as AuditEntry));
    expect(error).toBeInstanceOf(AuditError);
    expect((error as AuditError).code).toBe('AUDIT_INVALID_ENTRY');
    for (const secret of ['1234', '4000001234567899', '41A9C3D2E5F60718', KEY_HEX, 'alice']) expect((error as Error).message).not.toContain(secret);
    expect(existsSync(file)).toBe(false);
  });

  it('names the refused fields', async () => {
    const error = await rejection(new TrackedAuditLog(file, new MemoryKeyStore({ 'audit-key': KEY_HEX })).append({ ...entry(), pin: '1234' } as AuditEntry));
    expect((error as Error).message).toMatch(/pin/);
  });

  it('writes only the documented fields, in their documented order', async () => {
    await writeTrail(4);
    for (const line of lines()) expect(Object.keys(JSON.parse(line) as object)).toEqual(ENTRY_KEYS);
    expect([...AUDIT_RECORD_FIELDS].sort()).toEqual(
      [
        ...ENTRY_KEYS,
        'processor',
        'type',
        'tornBytes',
        'tornSha256',
        'event',
        'username',
        'provider',
        'reason',
        'approver',
        'approvalMethod',
        'approvalRule',
        'approvalReason',
        'previousAttempt',
        'rule',
        'method',
        'format',
        'records',
        'attemptId',
        'audio',
        'cause',
        'lostFrom',
        'lostTo',
        'markSeq',
        'markMac',
        'keptAs',
        'acknowledgedBy',
        'account',
        'components',
        'custodians',
        'componentKcvs',
        'keyKcv',
        'keyKcvLegacy',
        'location',
        'changes',
        'oldKcv',
        'newKcv',
        'notAfter',
        'action',
        'rolesBefore',
        'rolesAfter',
        'osUser',
        'factor',
        'lineSeq',
      ].sort(),
    );
    expect(readFileSync(file, 'utf8')).not.toContain(KEY_HEX.toLowerCase());
    expect(readFileSync(file, 'utf8')).not.toContain(KEY_HEX);
  });
});

describe('staff records', () => {
  const staffEntry = (over: Record<string, unknown> = {}): AuditStaffEntry =>
    ({
      type: 'staff',
      stationId: 'STATION-1',
      event: 'sign-in-failed',
      username: 'anna.k',
      provider: 'local',
      reason: 'SIGN_IN_FAILED',
      ...over,
    }) as AuditStaffEntry;

  it('chain with card records and verify; their fields are the documented ones, in order', async () => {
    const log = new TrackedAuditLog(file, new MemoryKeyStore({ 'audit-key': KEY_HEX }), { now });
    await log.append(staffEntry());
    await log.append(entry());
    await log.append(staffEntry({ event: 'sign-out', reason: 'idle', processor: 'sandbox' }));
    const [failed, card, signOut] = lines().map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(Object.keys(failed ?? {})).toEqual(['seq', 'time', 'type', 'stationId', 'event', 'username', 'provider', 'reason', 'prev', 'mac']);
    expect(Object.keys(card ?? {})).toEqual(ENTRY_KEYS);
    expect(signOut).toMatchObject({ seq: 3, event: 'sign-out', reason: 'idle', processor: 'sandbox' });
    expect(await verifyAuditFile(file, KEY)).toMatchObject({ ok: true, records: 3 });
  });

  it('refuse a field that is not listed (a password could not ride along) and an unknown event', async () => {
    const log = new TrackedAuditLog(file, new MemoryKeyStore({ 'audit-key': KEY_HEX }), { now });
    await expect(log.append(staffEntry({ password: 'correct horse battery' }))).rejects.toMatchObject({ code: 'AUDIT_INVALID_ENTRY' });
    await expect(log.append(staffEntry({ event: 'password-shown' }))).rejects.toMatchObject({ code: 'AUDIT_INVALID_ENTRY' });
    await expect(log.append(staffEntry({ reason: 'free text with spaces' }))).rejects.toMatchObject({ code: 'AUDIT_INVALID_ENTRY' });
    expect(existsSync(file)).toBe(false);
  });

  it('an edited user name breaks the mac', async () => {
    const log = new TrackedAuditLog(file, new MemoryKeyStore({ 'audit-key': KEY_HEX }), { now });
    await log.append(staffEntry({ event: 'sign-in', reason: null }));
    writeLines(lines().map((line) => line.replace('"anna.k"', '"boris"')));
    expect(JSON.stringify(await verifyAuditFile(file, KEY))).toContain('mac does not match');
  });
});

describe('records made against the sandbox processor', () => {
  it('carry processor "sandbox" after the profile; other records keep their old form', async () => {
    const log = new TrackedAuditLog(file, new MemoryKeyStore({ 'audit-key': KEY_HEX }), { now });
    await log.append(entry({ processor: 'sandbox' }));
    await log.append(entry());
    const [practice, real] = lines().map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(Object.keys(practice ?? {})).toEqual([...ENTRY_KEYS.slice(0, 7), 'processor', ...ENTRY_KEYS.slice(7)]);
    expect(practice?.processor).toBe('sandbox');
    expect(Object.keys(real ?? {})).toEqual(ENTRY_KEYS);
    expect((await verifyAuditFile(file, KEY)).ok).toBe(true);
  });

  it('removing the mark from a practice record breaks its mac', async () => {
    const log = new TrackedAuditLog(file, new MemoryKeyStore({ 'audit-key': KEY_HEX }), { now });
    await log.append(entry({ processor: 'sandbox' }));
    writeLines(lines().map((line) => line.replace('"processor":"sandbox",', '')));
    const result = await verifyAuditFile(file, KEY);
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).toContain('mac does not match');
  });
});

describe('verifyAuditFile: tampering names the first bad record', () => {
  it('an edited field (outcome) fails its mac', async () => {
    await writeTrail(6);
    const list = lines();
    expect(list[3]).toContain('"outcome":"pin-set"');
    list[3] = (list[3] as string).replace('"outcome":"pin-set"', '"outcome":"rejected"');
    writeLines(list);
    expectBad(verifyAuditFile(file, KEY), 4, 4, /^mac does not match — the record was edited$/);
  });

  it('an edited card ID, time or mac fails at that record', async () => {
    for (const [field, from, to] of [
      ['cardId', '"cardId":"CARD-2"', '"cardId":"CARD-9"'],
      ['time', '"time":"2025-01-02T09:00:01.000Z"', '"time":"2025-01-02T10:00:01.000Z"'],
    ] as const) {
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
      tick = 0;
      await writeTrail(4);
      const list = lines();
      expect(list[1], field).toContain(from);
      list[1] = (list[1] as string).replace(from, to);
      writeLines(list);
      expectBad(verifyAuditFile(file, KEY), 2, 2, /mac does not match/);
    }
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
    await writeTrail(4);
    const list = lines();
    list[2] = (list[2] as string).replace(/"mac":"([0-9a-f])/, (_m, c: string) => `"mac":"${c === '0' ? '1' : '0'}`);
    writeLines(list);
    expectBad(verifyAuditFile(file, KEY), 3, 3, /mac does not match/);
  });

  it('an edit that only changes spacing or repeats a field is caught too', async () => {
    await writeTrail(3);
    const list = lines();
    list[1] = (list[1] as string).replace('"mode":', '"mode": ');
    writeLines(list);
    expectBad(verifyAuditFile(file, KEY), 2, 2, /not byte-for-byte as written/);

    const again = lines();
    again[1] = (again[1] as string).replace('"mode": ', '"mode":').replace('"outcome":"pin-set",', '"outcome":"rejected","outcome":"pin-set",');
    writeLines(again);
    expectBad(verifyAuditFile(file, KEY), 2, 2, /not byte-for-byte as written/);
  });

  it('an edit that breaks the shape is caught', async () => {
    await writeTrail(3);
    const list = lines();
    list[1] = (list[1] as string).replace('"outcome":"pin-set"', '"outcome":"approved"');
    writeLines(list);
    expectBad(verifyAuditFile(file, KEY), 2, 2, /missing, unknown or malformed fields/);
    list[1] = '{"seq":2,"broken":';
    list[2] = list[2] as string;
    writeLines(list);
    expectBad(verifyAuditFile(file, KEY), 2, null, /not valid JSON/);
  });

  it('a deleted line is named by the record after the gap', async () => {
    await writeTrail(6);
    const list = lines();
    list.splice(2, 1);
    writeLines(list);
    const result = verifyAuditFile(file, KEY);
    expectBad(result, 3, 4, /record 3 is missing — it was deleted/);
    expect(result.ok === false && result.records).toBe(2);
  });

  it('a deleted first line is caught', async () => {
    await writeTrail(4);
    writeLines(lines().slice(1));
    expectBad(verifyAuditFile(file, KEY), 1, 2, /record 1 is missing/);
  });

  it('several deleted lines in the middle are named as a range', async () => {
    await writeTrail(7);
    const list = lines();
    list.splice(2, 3);
    writeLines(list);
    expectBad(verifyAuditFile(file, KEY), 3, 6, /records 3 to 5 are missing/);
  });

  it('two swapped lines are reported as reordered at the first of them', async () => {
    await writeTrail(6);
    const list = lines();
    [list[1], list[2]] = [list[2] as string, list[1] as string];
    writeLines(list);
    expectBad(verifyAuditFile(file, KEY), 2, 3, /out of order: record 2 belongs here and is at line 3/);
  });

  it('swapping the last two lines is caught as well', async () => {
    await writeTrail(5);
    const list = lines();
    [list[3], list[4]] = [list[4] as string, list[3] as string];
    writeLines(list);
    expectBad(verifyAuditFile(file, KEY), 4, 5, /out of order/);
  });

  it('a copied (replayed) line is caught', async () => {
    await writeTrail(4);
    const list = lines();
    list.splice(2, 0, list[1] as string);
    writeLines(list);
    expectBad(verifyAuditFile(file, KEY), 3, 2, /out of order: it comes after record 2/);
  });

  it('a record from another trail (same seq, different chain) fails on prev', async () => {
    await writeTrail(3);
    const original = lines();
    const otherFile = join(dir, 'other.jsonl');
    const other = new TrackedAuditLog(otherFile, new MemoryKeyStore({ 'audit-key': KEY_HEX }), { now });
    for (let i = 0; i < 3; i++) await other.append(entry({ cardId: `OTHER-${i}` }));
    const foreign = readFileSync(otherFile, 'utf8').split('\n');
    writeLines([original[0] as string, foreign[1] as string, original[2] as string]);
    expectBad(verifyAuditFile(file, KEY), 2, 2, /prev does not match the mac of record 1/);
  });

  it('truncating the last record is caught through the head anchor, naming the missing record', async () => {
    const log = await writeTrail(6);
    writeLines(lines().slice(0, 5));
    const result = verifyAuditFile(file, KEY);
    expectBad(result, 6, 6, /^record 6 is missing: the head anchor shows the trail reached record 6 — the file was truncated$/);
    expect(result.ok === false && result.records).toBe(5);
    // The writer's high-water mark names the loss more exactly than the head anchor can.
    const error = await rejection(log.append(entry()));
    expect((error as AuditError).code).toBe('AUDIT_TRAIL_LOST');
    expect((error as AuditError).message).toContain(
      "The trail ends at record 5, but this station's high-water mark shows its trail reached record 6: record 6 is missing",
    );
    expect(lines()).toHaveLength(5);
  });

  it('truncating several records and deleting the head anchor is caught', async () => {
    const log = await writeTrail(6);
    writeLines(lines().slice(0, 4));
    rmSync(auditHeadPath(file));
    expectBad(verifyAuditFile(file, KEY), 4, 4, /head anchor audit\.jsonl\.head is missing/);
    const error = (await rejection(log.append(entry()))) as AuditError;
    expect(error.code).toBe('AUDIT_TRAIL_LOST');
    expect(error.message).toContain('records 5 to 6 are missing');
  });

  it('truncating the whole file is caught', async () => {
    await writeTrail(3);
    writeFileSync(file, '');
    expectBad(verifyAuditFile(file, KEY), 1, 1, /records 1 to 3 are missing/);
    rmSync(file);
    expectBad(verifyAuditFile(file, KEY), 1, 1, /records 1 to 3 are missing/);
  });

  it('truncating mid-file (inside a record) is caught as damage, not as a crash, and cannot be sealed', async () => {
    await writeTrail(6);
    const text = readFileSync(file);
    const third = lines().slice(0, 2).join('\n').length + 1;
    writeFileSync(file, text.subarray(0, third + 40));
    const result = verifyAuditFile(file, KEY);
    expectBad(result, 3, 3, /is damaged: the head anchor shows records up to 6 were completely written, so this is not an interrupted write/);
    expect(result.ok === false && result.tornTail).toBe(true);
    expect(result.ok === false && result.sealable).toBe(false);
    const before = readFileSync(file);
    const error = await rejection(sealAuditFile(file, new MemoryKeyStore({ 'audit-key': KEY_HEX }), { stationTrail: true }));
    expect((error as AuditError).code).toBe('AUDIT_CHAIN_BROKEN');
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('an edited or older head anchor is caught', async () => {
    await writeTrail(2);
    const older = readFileSync(auditHeadPath(file));
    for (let i = 0; i < 2; i++) {
      const log = new TrackedAuditLog(file, new MemoryKeyStore({ 'audit-key': KEY_HEX }), { now });
      await log.append(entry());
      await log.flush();
    }
    const current = readFileSync(auditHeadPath(file), 'utf8');

    writeFileSync(auditHeadPath(file), current.replace('"seq":4', '"seq":5'));
    expectBad(verifyAuditFile(file, KEY), 4, 4, /head anchor audit\.jsonl\.head is unreadable or its mac does not match/);

    writeFileSync(auditHeadPath(file), older); // names record 2 while the trail has 4
    expectBad(verifyAuditFile(file, KEY), 4, 4, /not covered by the head anchor, which names record 2/);
  });

  it('the wrong key fails at record 1', async () => {
    await writeTrail(3);
    const wrong = Buffer.from(KEY_HEX.replace(/^8F/, '8E'), 'hex');
    expectBad(verifyAuditFile(file, wrong), 1, 1, /mac does not match/);
  });
});

describe('crash states', () => {
  it('accepts a head one record behind (killed between the record and the head) and repairs it on the next append', async () => {
    const log = await writeTrail(2);
    const headAt2 = readFileSync(auditHeadPath(file));
    await log.append(entry());
    await log.flush();
    writeFileSync(auditHeadPath(file), headAt2);
    expect(verifyAuditFile(file, KEY)).toEqual({ ok: true, records: 3 });
    // A second crash before the head write must not leave it two behind: append catches up first.
    await log.append(entry());
    await log.flush();
    expect((JSON.parse(readFileSync(auditHeadPath(file), 'utf8')) as { seq: number }).seq).toBe(4);
    expect(verifyAuditFile(file, KEY)).toEqual({ ok: true, records: 4 });
  });

  it('accepts a one-record trail without a head (killed before the first head write)', async () => {
    const log = await writeTrail(1);
    rmSync(auditHeadPath(file));
    expect(verifyAuditFile(file, KEY)).toEqual({ ok: true, records: 1 });
    await log.append(entry());
    await log.flush();
    expect(verifyAuditFile(file, KEY)).toEqual({ ok: true, records: 2 });
  });

  it('a torn tail is reported, append refuses, seal moves the bytes to a .torn file and the chain continues', async () => {
    const store = new MemoryKeyStore({ 'audit-key': KEY_HEX });
    const log = await writeTrail(3, store);
    const torn = Buffer.from('{"seq":4,"time":"2025-01-02T09:00:03.000Z","stationId":"bra');
    appendFileSync(file, torn);
    const result = verifyAuditFile(file, KEY);
    expectBad(result, 4, null, new RegExp(`^is a torn final line \\(${torn.length} bytes, no newline\\) — an interrupted write`));
    expect(result.ok === false && result.tornTail && result.sealable).toBe(true);
    expect(result.ok === false && result.records).toBe(3);

    const size = statSync(file).size;
    const error = await rejection(log.append(entry()));
    expect((error as AuditError).code).toBe('AUDIT_TORN_TAIL');
    expect(statSync(file).size).toBe(size);
    expect(((await rejection(log.check())) as AuditError).code).toBe('AUDIT_TORN_TAIL');

    const sealed = await log.seal();
    expect(sealed.sealed).toBe(true);
    expect(sealed.tornBytes).toBe(torn.length);
    expect(sealed.record).toMatchObject({ seq: 4, type: 'seal', tornBytes: torn.length });
    expect(readFileSync(sealed.tornFile as string).equals(torn)).toBe(true);
    expect(sealed.tornFile).toMatch(/audit\.jsonl\.torn-\d{8}T\d{6}-\d{3}Z$/);
    expect(Object.keys(JSON.parse(lines()[3] as string) as object)).toEqual(['seq', 'time', 'type', 'tornBytes', 'tornSha256', 'prev', 'mac']);
    expect(verifyAuditFile(file, KEY)).toEqual({ ok: true, records: 4 });

    expect((await log.append(entry())).seq).toBe(5);
    expect(verifyAuditFile(file, KEY)).toEqual({ ok: true, records: 5 });
    expect(await sealAuditFile(file, store, { stationTrail: true })).toEqual({ sealed: false, record: null, tornFile: null, tornBytes: 0 });
  });

  it('a final line that is not JSON counts as torn; a torn tail longer than the seal record is cut', async () => {
    const store = new MemoryKeyStore({ 'audit-key': KEY_HEX });
    await writeTrail(2, store);
    appendFileSync(file, '\u0000'.repeat(900) + '\n');
    const result = verifyAuditFile(file, KEY);
    expectBad(result, 3, null, /torn final line \(901 bytes, not JSON\)/);
    const sealed = await sealAuditFile(file, store, { now, stationTrail: true });
    expect(sealed.tornBytes).toBe(901);
    expect(readFileSync(sealed.tornFile as string)).toHaveLength(901);
    expect(lines()).toHaveLength(3);
    expect(verifyAuditFile(file, KEY)).toEqual({ ok: true, records: 3 });
  });

  it('a torn first record (trail had none) seals as record 1', async () => {
    const store = new MemoryKeyStore({ 'audit-key': KEY_HEX });
    mkdirSync(join(dir, 'audit'), { recursive: true });
    writeFileSync(file, '{"seq":1,"ti');
    expectBad(verifyAuditFile(file, KEY), 1, null, /torn final line/);
    const sealed = await sealAuditFile(file, store, { now, stationTrail: true });
    expect(sealed.record).toMatchObject({ seq: 1, prev: AUDIT_GENESIS });
    expect(verifyAuditFile(file, KEY)).toEqual({ ok: true, records: 1 });
    expect(readdirSync(join(dir, 'audit')).filter((name) => name.includes('.torn-'))).toHaveLength(1);
  });

  it('a torn remainder left by a seal interrupted before its cut seals again', async () => {
    const store = new MemoryKeyStore({ 'audit-key': KEY_HEX });
    await writeTrail(2, store);
    appendFileSync(file, 'x'.repeat(700));
    const tornCopy = readFileSync(file);
    await sealAuditFile(file, store, { now, stationTrail: true });
    // Rebuild the state "seal record written over the torn bytes, but the file not yet cut".
    const sealedText = readFileSync(file);
    writeFileSync(file, Buffer.concat([sealedText, tornCopy.subarray(sealedText.length)]));
    expect(verifyAuditFile(file, KEY)).toMatchObject({ ok: false, tornTail: true, sealable: true });
    await sealAuditFile(file, store, { now, stationTrail: true });
    expect(verifyAuditFile(file, KEY)).toEqual({ ok: true, records: 4 });
  });

  it('copying the trail with its head elsewhere still verifies (no absolute paths in the MAC)', async () => {
    await writeTrail(3);
    const copy = join(dir, 'copy.jsonl');
    copyFileSync(file, copy);
    copyFileSync(auditHeadPath(file), auditHeadPath(copy));
    expect(verifyAuditFile(copy, KEY)).toEqual({ ok: true, records: 3 });
  });
});

describe('npm run audit (main/admin/audit/cli.ts)', () => {
  function capture(): { out: string[]; err: string[]; deps: Parameters<typeof runAuditCli>[1] } {
    const out: string[] = [];
    const err: string[] = [];
    const store = new MemoryKeyStore({ 'audit-key': KEY_HEX });
    return {
      out,
      err,
      deps: {
        stdout: { write: (t: string) => out.push(t) },
        stderr: { write: (t: string) => err.push(t) },
        openStore: () => store,
        now,
        env: {},
        homedir: dir,
        platform: 'linux',
      },
    };
  }

  it('verify: exit 0 with the record count; never prints the key', async () => {
    await writeTrail(3);
    const io = capture();
    expect(await runAuditCli(['verify', file], io.deps)).toBe(EXIT_CODES.OK);
    expect(io.out.join('')).toBe(`ok: 3 records verified: ${file}\nhigh-water mark (keychain): not compared; this file is not the data directory's trail\n`);
    expect(io.out.join('') + io.err.join('')).not.toMatch(new RegExp(KEY_HEX, 'i'));
  });

  it('verify: exit 3 and the first bad record, in the documented wording', async () => {
    await writeTrail(8);
    const list = lines();
    list[6] = (list[6] as string).replace('"cardId":"CARD-7"', '"cardId":"CARD-X"');
    writeLines(list);
    const io = capture();
    expect(await runAuditCli(['verify', file], io.deps)).toBe(EXIT_CODES.VERIFY_FAILED);
    expect(io.out.join('')).toContain('record 7 (line 7): mac does not match — the record was edited\n');
  });

  it('verify: exit 4 on a torn tail; seal: exit 0, then verify passes', async () => {
    await writeTrail(2);
    appendFileSync(file, '{"seq":3');
    const io = capture();
    expect(await runAuditCli(['verify', file], io.deps)).toBe(EXIT_CODES.TORN_TAIL);
    expect(io.out.join('')).toContain('line 3: is a torn final line (8 bytes, no newline)');
    const sealIo = capture();
    expect(await runAuditCli(['seal', file], sealIo.deps)).toBe(EXIT_CODES.OK);
    expect(sealIo.out.join('')).toMatch(/sealed: 8 torn bytes copied to .*\.torn-.* and replaced by seal record 3/);
    expect(sealIo.out.join('')).toContain('ok: 3 records verified');
    expect(await runAuditCli(['verify', file], capture().deps)).toBe(EXIT_CODES.OK);
  });

  it('seal: refuses (exit 3, nothing changed) when the trail has another problem', async () => {
    await writeTrail(4);
    const list = lines();
    list.splice(1, 1);
    writeLines(list);
    appendFileSync(file, '{"seq"');
    const before = readFileSync(file);
    const io = capture();
    expect(await runAuditCli(['seal', file], io.deps)).toBe(EXIT_CODES.VERIFY_FAILED);
    expect(io.out.join('')).toContain('record 3 (line 2): follows record 1: record 2 is missing');
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('uses <data dir>/audit/audit.jsonl from --data-dir or the userData convention', async () => {
    await writeTrail(2);
    const io = capture();
    expect(await runAuditCli(['verify', '--data-dir', dir], io.deps)).toBe(EXIT_CODES.OK);
    expect(io.out.join('')).toContain(join(dir, 'audit', 'audit.jsonl'));
    expect(defaultDataDir('linux', {}, '/home/op')).toBe('/home/op/.config/pin-station');
    expect(defaultDataDir('linux', { XDG_CONFIG_HOME: '/x/cfg' }, '/home/op')).toBe('/x/cfg/pin-station');
    const viaXdg = capture();
    expect(await runAuditCli(['verify'], { ...viaXdg.deps, env: { XDG_CONFIG_HOME: join(dir, 'nothing') } })).toBe(EXIT_CODES.USAGE);
    expect(viaXdg.err.join('')).toMatch(/no audit trail at .*nothing\/pin-station\/audit\/audit\.jsonl/);
  });

  it('exit codes for usage, a missing key and an unavailable keychain', async () => {
    await writeTrail(1);
    const usage = capture();
    expect(await runAuditCli([], usage.deps)).toBe(EXIT_CODES.USAGE);
    expect(await runAuditCli(['frobnicate'], usage.deps)).toBe(EXIT_CODES.USAGE);
    expect(await runAuditCli(['verify', file, '--data-dir', dir], usage.deps)).toBe(EXIT_CODES.USAGE);
    expect(await runAuditCli(['verify', '--bogus'], usage.deps)).toBe(EXIT_CODES.USAGE);
    expect(await runAuditCli(['verify', join(dir, 'nope.jsonl')], usage.deps)).toBe(EXIT_CODES.USAGE);

    const noKey = capture();
    expect(await runAuditCli(['verify', file], { ...noKey.deps, openStore: () => new MemoryKeyStore() })).toBe(EXIT_CODES.KEY_MISSING);
    expect(noKey.err.join('')).toMatch(/audit-key/);

    const down: KeyStore = { get: () => Promise.reject(new StationError('KEYCHAIN_UNAVAILABLE')), set: async () => undefined, delete: async () => false };
    expect(await runAuditCli(['verify', file], { ...capture().deps, openStore: () => down })).toBe(EXIT_CODES.KEYCHAIN_UNAVAILABLE);

    const help = capture();
    expect(await runAuditCli(['--help'], help.deps)).toBe(EXIT_CODES.OK);
    for (const code of Object.values(EXIT_CODES)) expect(help.out.join('')).toMatch(new RegExp(`^ +${code}  `, 'm'));
  });
});
