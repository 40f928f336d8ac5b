/**
 * The audit writer's per-record path (main/core/audit/writer.ts): one handle held open for the writer's life,
 * one write and fdatasync per record, and the tail and head it wrote itself not read back while the files are
 * unchanged; any change by someone else still takes the full path and is refused as before.
 */
import { appendFileSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import * as fsPromises from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditLog, auditHeadPath, verifyAuditFile } from '../../main/core/audit';
import type { AuditEntry } from '../../main/core/audit';
import type { MemoryKeyStore } from '../../main/core/keystore';
import { tempTrail, TRAIL_KEY } from '../helpers/audit-trail';

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof fsPromises>();
  return { ...real, open: vi.fn(real.open), readFile: vi.fn(real.readFile), stat: vi.fn(real.stat) };
});

let dir: string;
let file: string;
let store: MemoryKeyStore;

beforeEach(() => {
  ({ dir, file, store } = tempTrail('pin-station-append-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 }));

const card = (i: number): AuditEntry => ({
  stationId: 'branch-01',
  operator: 'alice',
  cardId: `CARD-${i}`,
  mode: 'customer',
  profile: 'gcm',
  outcome: 'pin-set',
  requestStatus: `REQ-${i}`,
  errorCode: null,
});

/** Opens and whole-file reads of the trail and its head anchor since the last reset. */
function trailFileCalls(): string[] {
  const named = (calls: unknown[][]): string[] => calls.map((call) => String(call[0])).filter((path) => path === file || path === auditHeadPath(file));
  return [...named(vi.mocked(fsPromises.open).mock.calls), ...named(vi.mocked(fsPromises.readFile).mock.calls)];
}

async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}

describe('audit append path', () => {
  it('keeps one handle for the writer and reads back neither the tail nor the head it wrote', async () => {
    const log = new AuditLog(file, store);
    await log.check();
    await log.append(card(1));
    vi.mocked(fsPromises.open).mockClear();
    vi.mocked(fsPromises.readFile).mockClear();
    for (let i = 2; i <= 11; i++) await log.append(card(i));
    await log.flush();
    expect(trailFileCalls()).toEqual([]);
    expect(verifyAuditFile(file, TRAIL_KEY)).toEqual({ ok: true, records: 11 });
    expect((JSON.parse(readFileSync(auditHeadPath(file), 'utf8')) as { seq: number }).seq).toBe(11);
  });

  it('resolves once the record is durable; the head anchor follows before the next record is written', async () => {
    const log = new AuditLog(file, store);
    const [first, second] = await Promise.all([log.append(card(1)), log.append(card(2))]);
    expect([first.seq, second.seq]).toEqual([1, 2]);
    await log.flush();
    expect((JSON.parse(readFileSync(auditHeadPath(file), 'utf8')) as { seq: number }).seq).toBe(2);
  });

  it('a line appended by someone else right after a record is read and refused', async () => {
    const log = new AuditLog(file, store);
    for (let i = 1; i <= 3; i++) await log.append(card(i));
    // A forged record (valid JSON, no valid MAC), while the third record's head anchor may still be on its way.
    appendFileSync(file, `${(readFileSync(file, 'utf8').split('\n')[2] as string).replace('CARD-3', 'CARD-9')}\n`);
    expect((await rejection(log.append(card(4)))).code).toBe('AUDIT_CHAIN_BROKEN');
  });

  it('the last record edited in place with its size and times kept is refused at the next append', async () => {
    const log = new AuditLog(file, store);
    for (let i = 1; i <= 4; i++) await log.append(card(i));
    // Queued behind the fourth record's head anchor, without closing the held handle: the shortcut stays armed.
    await log.clearPending();
    const realStat = vi.mocked(fsPromises.stat).getMockImplementation() as typeof fsPromises.stat;
    const before = await realStat(file, { bigint: true });
    const text = readFileSync(file, 'utf8');
    const edited = text.replace('"CARD-4"', '"CARD-8"');
    expect(edited.length).toBe(text.length);
    expect(edited).not.toBe(text);
    writeFileSync(file, edited);
    utimesSync(file, before.atime, before.mtime);
    // Linux cannot set ctime back; a coarse clock tick or a restored Windows ChangeTime can: stat reads as the writer left it.
    vi.mocked(fsPromises.stat).mockImplementation(((path: string, opts?: object) =>
      path === file ? Promise.resolve(before) : realStat(path, opts)) as typeof fsPromises.stat);
    try {
      expect((await rejection(log.append(card(5)))).code).toBe('AUDIT_CHAIN_BROKEN');
    } finally {
      vi.mocked(fsPromises.stat).mockImplementation(realStat);
    }
    expect(readFileSync(file, 'utf8')).toBe(edited);
  });

  it('a trail cut short or a head anchor removed between two records is refused', async () => {
    const log = new AuditLog(file, store);
    for (let i = 1; i <= 3; i++) await log.append(card(i));
    // Let the third record's head land, as it would while the request is out.
    await log.check();
    rmSync(auditHeadPath(file));
    expect((await rejection(log.append(card(4)))).message).toMatch(/head anchor is missing/);
    const text = readFileSync(file, 'utf8').split('\n');
    writeFileSync(file, `${text.slice(0, 2).join('\n')}\n`);
    expect((await rejection(log.append(card(4)))).code).toMatch(/AUDIT_/);
  });
});
