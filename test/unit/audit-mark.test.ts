/**
 * The high-water mark (main/core/audit/mark.ts) and the acknowledged reset
 * (main/core/audit/reset.ts, `npm run audit -- reset --acknowledge`): the
 * cases the head anchor alone lets through — the trail deleted with its head,
 * cut short with an older head put back, or replaced — are refused with the
 * lost range named, and a reset starts a new trail that records the loss.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TrackedAuditLog } from '../helpers/audit-trail';
import { AuditError, auditFilePath, auditHeadPath, readAuditRecords, readMark, verifyAuditFile } from '../../main/core/audit';
import type { AuditAttemptEntry, AuditEntry, AuditResetRecord, AuditLog } from '../../main/core/audit';
import { MemoryKeyStore } from '../../main/core/keystore';
import type { KeyStore } from '../../main/core/keystore';
import { EXIT_CODES, runAuditCli } from '../../main/admin/audit/cli';

const KEY_HEX = '5B2E8C1D4F7A0936E5D2C8B1A4F7E0D3C6B9A2F5E8D1C4B7A0F3E6D9C2B5A819';
const KEY = Buffer.from(KEY_HEX, 'hex');

let dir: string;
let file: string;
let tick: number;
let store: MemoryKeyStore;
const now = (): Date => new Date(Date.UTC(2026, 10, 2, 9, 0, 0) + 1000 * tick++);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pin-station-mark-'));
  file = auditFilePath(dir);
  tick = 0;
  store = new MemoryKeyStore({ 'audit-key': KEY_HEX });
});
afterEach(async () => {
  await TrackedAuditLog.flushAll();
  rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
});

function card(i: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    stationId: 'branch-01',
    operator: 'alice',
    cardId: `CARD-${i}`,
    mode: 'customer',
    profile: 'gcm',
    outcome: 'pin-set',
    requestStatus: `REQ-${i}`,
    errorCode: null,
    ...overrides,
  };
}

async function writeTrail(count: number, log = new TrackedAuditLog(file, store, { now })): Promise<AuditLog> {
  for (let i = 1; i <= count; i++) await log.append(card(i));
  await log.flush(); // the head anchor follows each record without holding up the next step
  return log;
}

async function refusal(promise: Promise<unknown>): Promise<AuditError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AuditError);
    return error as AuditError;
  }
  throw new Error('expected a refusal');
}

type CliIo = { out: string[]; err: string[]; keyStore: KeyStore; run: (argv: string[]) => Promise<number> };

function depsOf(io: CliIo): Parameters<typeof runAuditCli>[1] {
  return {
    stdout: { write: (t: string) => io.out.push(t) },
    stderr: { write: (t: string) => io.err.push(t) },
    openStore: () => io.keyStore,
    now,
    osUser: 'admin.jones',
    env: {},
    homedir: dir,
    platform: 'linux',
    // runAuditCli finds the data directory's trail through --data-dir in run(); with a file argument, through this.
  };
}

function cli(keyStore: KeyStore = store): CliIo {
  const out: string[] = [];
  const err: string[] = [];
  const deps = {
    stdout: { write: (t: string) => out.push(t) },
    stderr: { write: (t: string) => err.push(t) },
    openStore: () => keyStore,
    now,
    osUser: 'admin.jones',
    env: {},
    homedir: dir,
    platform: 'linux' as const,
  };
  return { out, err, keyStore, run: (argv) => runAuditCli([...argv, '--data-dir', dir], deps) };
}

describe('the high-water mark', () => {
  it('follows every record in the keychain entry audit-mark', async () => {
    const log = await writeTrail(3);
    await log.flush(); // the keychain write follows the record; it is not awaited by append
    const records = readAuditRecords(file);
    expect(await readMark(store)).toEqual({ seq: 3, mac: records[2]?.mac });
    await log.append(card(4));
    await log.flush();
    expect((await readMark(store))?.seq).toBe(4);
  });

  it('refuses a trail deleted together with its head anchor, naming the lost range, and writes nothing', async () => {
    await writeTrail(5);
    rmSync(file);
    rmSync(auditHeadPath(file));
    // verify alone cannot tell a deleted trail from a new one.
    expect(verifyAuditFile(file, KEY)).toEqual({ ok: true, records: 0 });
    const fresh = new TrackedAuditLog(file, store, { now });
    for (const attempt of [fresh.check(), fresh.append(card(6))]) {
      const error = await refusal(attempt);
      expect(error.code).toBe('AUDIT_TRAIL_LOST');
      expect(error.message).toContain('records 1 to 5 are missing');
      expect(error.message).toContain('npm run audit -- reset --acknowledge');
    }
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a deleted trail before making a new audit-key when the key went too', async () => {
    await writeTrail(2);
    rmSync(file);
    rmSync(auditHeadPath(file));
    await store.delete('audit-key');
    expect((await refusal(new TrackedAuditLog(file, store).append(card(3)))).code).toBe('AUDIT_TRAIL_LOST');
    expect(await store.get('audit-key')).toBeNull();
  });

  it('refuses a trail cut short with an older head anchor put back, which verify alone accepts', async () => {
    await writeTrail(4);
    copyFileSync(file, `${file}.old`);
    copyFileSync(auditHeadPath(file), `${file}.old-head`);
    await writeTrail(3, new TrackedAuditLog(file, store, { now }));
    copyFileSync(`${file}.old`, file);
    copyFileSync(`${file}.old-head`, auditHeadPath(file));
    expect(verifyAuditFile(file, KEY)).toEqual({ ok: true, records: 4 });
    const error = await refusal(new TrackedAuditLog(file, store).check());
    expect(error.code).toBe('AUDIT_TRAIL_LOST');
    expect(error.message).toContain('The trail ends at record 4');
    expect(error.message).toContain('records 5 to 7 are missing');
    const io = cli();
    expect(await io.run(['verify'])).toBe(EXIT_CODES.TRAIL_LOST);
    expect(io.out.join('')).toContain('records 5 to 7 are missing');
  });

  it('refuses another trail of the same length put in its place', async () => {
    await writeTrail(3);
    const other = join(dir, 'other');
    const otherStore = new MemoryKeyStore({ 'audit-key': KEY_HEX });
    const otherLog = new TrackedAuditLog(auditFilePath(other), otherStore, { now });
    for (let i = 1; i <= 3; i++) await otherLog.append(card(i, { cardId: `OTHER-${i}` }));
    copyFileSync(auditFilePath(other), file);
    copyFileSync(auditHeadPath(auditFilePath(other)), auditHeadPath(file));
    const error = await refusal(new TrackedAuditLog(file, store).check());
    expect(error.code).toBe('AUDIT_TRAIL_LOST');
    expect(error.message).toContain('Record 3 is not the one this station wrote');
  });

  it('refuses a trail cut short while the station runs, even when the keychain could not be written', async () => {
    const failing: KeyStore = { get: (a) => store.get(a), set: async () => Promise.reject(new Error('locked')), delete: (a) => store.delete(a) };
    await writeTrail(1);
    const running = new TrackedAuditLog(file, failing, { now });
    await running.append(card(2));
    await running.append(card(3));
    expect((await readMark(store))?.seq).toBe(1); // the keychain lags...
    const text = readFileSync(file, 'utf8').split('\n');
    writeFileSync(file, `${text.slice(0, 2).join('\n')}\n`);
    rmSync(auditHeadPath(file));
    expect((await refusal(running.append(card(4)))).message).toContain('record 3 is missing'); // ...memory does not
  });

  it('accepts a mark that lags the trail (a stop between a record and its mark) and brings it up to date', async () => {
    await writeTrail(5);
    const records = readAuditRecords(file);
    await store.set('audit-mark', JSON.stringify({ seq: 3, mac: records[2]?.mac }));
    expect(await new TrackedAuditLog(file, store).check()).toBe(5);
    expect((await readMark(store))?.seq).toBe(5);
  });

  it('adopts the last record of a trail written before marks existed', async () => {
    await writeTrail(2);
    await store.delete('audit-mark');
    expect(await new TrackedAuditLog(file, store).check()).toBe(2);
    expect((await readMark(store))?.seq).toBe(2);
  });

  it('refuses a damaged mark with KEYCHAIN_ENTRY_MALFORMED, naming no value', async () => {
    await writeTrail(1);
    await store.set('audit-mark', '{"seq":1,"mac":"zz"}');
    await expect(new TrackedAuditLog(file, store).check()).rejects.toMatchObject({ code: 'KEYCHAIN_ENTRY_MALFORMED' });
  });
});

describe('npm run audit -- reset --acknowledge', () => {
  it('needs --acknowledge, and refuses when nothing was lost or only a torn line needs sealing', async () => {
    await writeTrail(2);
    const io = cli();
    expect(await io.run(['reset'])).toBe(EXIT_CODES.USAGE);
    expect(await io.run(['reset', '--acknowledge'])).toBe(EXIT_CODES.NOTHING_TO_RESET);
    expect(io.out.join('')).toContain('Nothing to reset: 2 records verify');
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"seq":3,"ti`);
    expect(await io.run(['reset', '--acknowledge'])).toBe(EXIT_CODES.NOTHING_TO_RESET);
    expect(io.out.join('')).toContain('audit -- seal');
    expect(readAuditRecords(file)).toHaveLength(2);
  });

  const losses: { name: string; lose: () => void; cause: string; from: number; to: number; keptFiles: number }[] = [
    {
      name: 'the trail deleted (head kept)',
      lose: () => rmSync(file),
      cause: 'trail-missing',
      from: 1,
      to: 6,
      keptFiles: 1, // the head anchor, kept aside
    },
    {
      name: 'the trail and its head deleted',
      lose: () => {
        rmSync(file);
        rmSync(auditHeadPath(file));
      },
      cause: 'trail-missing',
      from: 1,
      to: 6,
      keptFiles: 0,
    },
    {
      name: 'the trail truncated and an old head restored',
      lose: () => {
        copyFileSync(`${file}.at4`, file);
        copyFileSync(`${file}.at4-head`, auditHeadPath(file));
      },
      cause: 'trail-shorter',
      from: 5,
      to: 6,
      keptFiles: 2,
    },
  ];
  for (const loss of losses) {
    it(`after ${loss.name}: refused at start, then reset names records ${loss.from} to ${loss.to} and the station writes on`, async () => {
      await writeTrail(4);
      copyFileSync(file, `${file}.at4`);
      copyFileSync(auditHeadPath(file), `${file}.at4-head`);
      await writeTrail(2, new TrackedAuditLog(file, store, { now }));
      loss.lose();
      expect((await refusal(new TrackedAuditLog(file, store).check())).code).toBe('AUDIT_TRAIL_LOST');

      const io = cli();
      expect(await io.run(['reset', '--acknowledge'])).toBe(EXIT_CODES.OK);
      const said = io.out.join('');
      expect(said).toContain(`records ${loss.from} to ${loss.to} as lost (${loss.cause}), acknowledged by admin.jones`);

      const [reset, ...rest] = readAuditRecords(file);
      expect(rest).toEqual([]);
      expect(reset).toMatchObject({
        seq: 1,
        type: 'reset',
        cause: loss.cause,
        lostFrom: loss.from,
        lostTo: loss.to,
        markSeq: 6,
        acknowledgedBy: 'admin.jones',
      });
      const kept = (reset as AuditResetRecord).keptAs;
      if (loss.cause === 'trail-shorter') {
        // The old, shorter trail is kept beside the new one with its head, and still verifies as it was.
        expect(kept).toMatch(/^audit\.jsonl\.reset-\d{8}T\d{6}-\d{3}Z$/);
        expect(verifyAuditFile(join(dir, 'audit', kept as string), KEY)).toEqual({ ok: true, records: 4 });
      }

      const after = new TrackedAuditLog(file, store, { now });
      expect(await after.check()).toBe(1);
      expect((await after.append(card(7))).seq).toBe(2);
      const verify = cli();
      expect(await verify.run(['verify'])).toBe(EXIT_CODES.OK);
      expect(verify.out.join('')).toContain('ok: 2 records verified');
      expect(verify.out.join('')).toContain('high-water mark (keychain): record 2, matches');
      expect(readdirSync(join(dir, 'audit')).filter((name) => name.includes('.reset-'))).toHaveLength(loss.keptFiles);
    });
  }
});

describe('npm run audit -- verify: attempts without an outcome', () => {
  it('lists an attempt whose outcome record never came, and not one that was closed', async () => {
    const log = new TrackedAuditLog(file, store, { now });
    const attempt = (id: string, cardId: string): AuditAttemptEntry => ({
      type: 'attempt',
      stationId: 'branch-01',
      attemptId: id,
      operator: 'alice',
      cardId,
      mode: 'customer',
      profile: 'gcm',
    });
    const closedId = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
    const openId = '0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d';
    await log.append(attempt(closedId, 'CARD-1'));
    await log.append(card(1, { attemptId: closedId }));
    await log.append(attempt(openId, 'CARD-2'));
    await log.flush();
    const io = cli();
    expect(await io.run(['verify'])).toBe(EXIT_CODES.OK);
    const said = io.out.join('');
    expect(said).toContain(`attempt without an outcome: record 3 (2026-11-02T09:00:02.000Z, card CARD-2, operator alice, attempt ${openId})`);
    expect(said).not.toContain(closedId);
  });
});

describe('a loss with a torn line after it is still a loss (seal is not the answer)', () => {
  async function cutWithTornLine(): Promise<void> {
    await writeTrail(4);
    copyFileSync(file, `${file}.at4`);
    copyFileSync(auditHeadPath(file), `${file}.at4-head`);
    await writeTrail(6, new TrackedAuditLog(file, store, { now }));
    copyFileSync(`${file}.at4`, file);
    copyFileSync(`${file}.at4-head`, auditHeadPath(file));
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"seq":5,"ti`);
  }

  it('the station, verify and seal all name the lost records; seal changes nothing and the mark stays', async () => {
    await cutWithTornLine();
    const before = readFileSync(file);
    const error = await refusal(new TrackedAuditLog(file, store).check());
    expect(error.code).toBe('AUDIT_TRAIL_LOST');
    expect(error.message).toContain('records 5 to 10 are missing');
    const io = cli();
    expect(await io.run(['verify'])).toBe(EXIT_CODES.TRAIL_LOST);
    expect(await io.run(['seal'])).toBe(EXIT_CODES.TRAIL_LOST);
    expect(io.out.join('') + io.err.join('')).toContain('records 5 to 10 are missing');
    expect(readFileSync(file).equals(before)).toBe(true);
    expect((await readMark(store))?.seq).toBe(10);
    // reset is the way on, and it names the range.
    expect(await io.run(['reset', '--acknowledge'])).toBe(EXIT_CODES.OK);
    expect(readAuditRecords(file)[0]).toMatchObject({ type: 'reset', cause: 'trail-shorter', lostFrom: 5, lostTo: 10 });
  });

  it('a deleted trail with a stray partial line is refused by seal too', async () => {
    await writeTrail(3);
    rmSync(file);
    rmSync(auditHeadPath(file));
    writeFileSync(file, '{"se');
    const io = cli();
    expect(await io.run(['seal'])).toBe(EXIT_CODES.TRAIL_LOST);
    expect((await readMark(store))?.seq).toBe(3);
  });
});

describe("the station's mark is only the station trail's", () => {
  it('sealing a copy elsewhere neither reads nor moves the mark', async () => {
    await writeTrail(5);
    const copy = join(dir, 'copy.jsonl');
    copyFileSync(file, copy);
    copyFileSync(auditHeadPath(file), auditHeadPath(copy));
    writeFileSync(copy, `${readFileSync(copy, 'utf8')}{"seq":6,"ti`);
    const io = cli();
    expect(await runAuditCli(['seal', copy], { ...depsOf(io), openStore: () => store })).toBe(EXIT_CODES.OK);
    expect((await readMark(store))?.seq).toBe(5);
    expect(await new TrackedAuditLog(file, store).check()).toBe(5);
  });

  it('reset refuses a file that is not the data directory trail, and leaves the mark alone', async () => {
    await writeTrail(5);
    const backup = join(dir, 'backup', 'audit.jsonl');
    const io = cli();
    expect(await runAuditCli(['reset', '--acknowledge', backup], depsOf(io))).toBe(EXIT_CODES.USAGE);
    expect(io.err.join('')).toContain("reset works on the station's own trail only");
    expect((await readMark(store))?.seq).toBe(5);
  });
});

describe('a reset whose mark write failed', () => {
  it('is accepted by the station (its reset record names the mark), which then catches the mark up; a second reset finds nothing to do', async () => {
    await writeTrail(5);
    rmSync(file);
    const locked: KeyStore = {
      get: (a) => store.get(a),
      set: async (a, v) => (a === 'audit-mark' ? Promise.reject(new Error('locked')) : store.set(a, v)),
      delete: (a) => store.delete(a),
    };
    const io = cli(locked);
    expect(await io.run(['reset', '--acknowledge'])).toBe(EXIT_CODES.OK);
    expect(io.out.join('')).toContain("the keychain's high-water mark could not be updated now");
    expect((await readMark(store))?.seq).toBe(5);
    const log = new TrackedAuditLog(file, store);
    expect(await log.check()).toBe(1);
    await log.flush();
    expect((await readMark(store))?.seq).toBe(1);
    expect(await cli().run(['reset', '--acknowledge'])).toBe(EXIT_CODES.NOTHING_TO_RESET);
  });
});

describe('commands that write the trail refuse while the station runs', () => {
  it("seal and reset: refused while the data directory's single-instance lock names a live process; a stale lock is ignored", async () => {
    await writeTrail(2);
    rmSync(file);
    symlinkSync(`${hostname()}-${process.pid}`, join(dir, 'SingletonLock'));
    const io = cli();
    expect(await io.run(['reset', '--acknowledge'])).toBe(EXIT_CODES.STATION_RUNNING);
    expect(await io.run(['seal'])).toBe(EXIT_CODES.STATION_RUNNING);
    expect(io.err.join('')).toContain('the station is running on');
    rmSync(join(dir, 'SingletonLock'));
    // A lock left by a station that is gone (no such process): the command goes ahead.
    symlinkSync(`${hostname()}-2147483646`, join(dir, 'SingletonLock'));
    expect(await cli().run(['reset', '--acknowledge'])).toBe(EXIT_CODES.OK);
  });
});

describe('a forged reset line put first to hide a loss', () => {
  // What someone who can write the data directory (not the keychain) can make: the mark's seq and mac are in the
  // trail and the head anchor, so an unsigned reset record naming them is easy to write.
  async function forgeResetOverRecord1(): Promise<{ markSeq: number }> {
    await writeTrail(6);
    const mark = await readMark(store);
    if (!mark) throw new Error('no mark');
    const record1 = readFileSync(file, 'utf8').split('\n')[0] as string;
    const forged = JSON.stringify({
      seq: 1,
      time: '2026-11-02T09:00:00.000Z',
      type: 'reset',
      cause: 'trail-missing',
      lostFrom: 1,
      lostTo: mark.seq,
      markSeq: mark.seq,
      markMac: mark.mac,
      keptAs: null,
      acknowledgedBy: 'admin',
      prev: '0'.repeat(64),
      mac: 'f'.repeat(64),
    });
    writeFileSync(file, `${forged}\n${record1}\n`);
    rmSync(auditHeadPath(file));
    return { markSeq: mark.seq };
  }

  it('the station refuses it as a loss naming the range, writes nothing and leaves the mark', async () => {
    const { markSeq } = await forgeResetOverRecord1();
    const before = readFileSync(file);
    const log = new TrackedAuditLog(file, store, { now });
    const error = await refusal(log.check());
    expect(error.code).toBe('AUDIT_TRAIL_LOST');
    expect(error.message).toContain(`records 2 to ${markSeq} are missing`);
    expect((await refusal(log.append(card(99)))).code).toBe('AUDIT_TRAIL_LOST');
    await log.flush();
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(existsSync(auditHeadPath(file))).toBe(false);
    expect((await readMark(store))?.seq).toBe(markSeq);
  });

  it('verify reports the loss (not only the forged line), seal changes nothing, and reset names the range', async () => {
    const { markSeq } = await forgeResetOverRecord1();
    const io = cli();
    expect(await io.run(['verify'])).toBe(EXIT_CODES.TRAIL_LOST);
    const text = io.out.join('');
    expect(text).toContain(`records 2 to ${markSeq} are missing`);
    expect(text).toContain('record 1 (line 1): mac does not match');
    const before = readFileSync(file);
    expect(await io.run(['seal'])).toBe(EXIT_CODES.VERIFY_FAILED);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(await io.run(['reset', '--acknowledge'])).toBe(EXIT_CODES.OK);
    expect(readAuditRecords(file)[0]).toMatchObject({ type: 'reset', cause: 'trail-shorter', lostFrom: 2, lostTo: markSeq });
  });

  it('a lagging mark is matched only by a verified record, not by an edited line carrying its mac', async () => {
    await writeTrail(4);
    const mark = await readMark(store);
    // Records 5 and 6 reach the trail but not the keychain (locked), so the mark lags at 4.
    const locked: KeyStore = {
      get: (a) => store.get(a),
      set: async (a, v) => (a === 'audit-mark' ? Promise.reject(new Error('locked')) : store.set(a, v)),
      delete: (a) => store.delete(a),
    };
    await writeTrail(2, new TrackedAuditLog(file, locked, { now }));
    expect(await readMark(store)).toEqual(mark);
    const lines = readFileSync(file, 'utf8').split('\n');
    // Record 4 replaced by a line that only claims its mac: the chain no longer verifies there.
    lines[3] = (lines[3] as string).replace('"CARD-4"', '"CARD-X"');
    writeFileSync(file, lines.join('\n'));
    const error = await refusal(new TrackedAuditLog(file, store, { now }).check());
    expect(error.code).toBe('AUDIT_TRAIL_LOST');
  });
});
