/**
 * Write-ahead audit (main/core/station.ts, docs/architecture.md "The audit trail"): the attempt is on disk
 * before anything is sent; an outcome that cannot be written blocks every new Start until it lands; an
 * attempt cut short by a stop is closed at the next start. Real AuditLog files, a failing disk simulated
 * by refusing chosen appends.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditError, AuditLog, OpenAttemptTracker, openAttempts, readAuditRecords, verifyAuditFile } from '../../main/core/audit';
import { CardHistory } from '../../main/core/card-history';
import type { AuditInput } from '../../main/core/audit';
import type { CardApi, SetPinRequest } from '../../main/core/card-api-client';
import { parseConfig } from '../../main/core/config';
import { IpcRouter } from '../../main/core/ipc-router';
import { MemoryKeyStore } from '../../main/core/keystore';
import type { KeyStore } from '../../main/core/keystore';
import { Station } from '../../main/core/station';
import type { AuditSink } from '../../main/core/station';
import { signedInStaff } from '../helpers/staff';

const KEY_HEX = 'C0FFEE'.repeat(10) + 'C0FF';
const OUTCOME = { status: 'ok' as const, requestStatus: 'pin_generated', dt: '2026-11-29T10:00:00+00:00' };

/** A real trail whose appends of the chosen kind fail while `failing` is set (ENOSPC, as a full disk gives). */
function flakyTrail(fails: (entry: AuditInput) => boolean) {
  const path = join(mkdtempSync(join(tmpdir(), 'pin-station-wal-')), 'audit.jsonl');
  const keyStore = new MemoryKeyStore({ 'audit-key': KEY_HEX });
  const log = new AuditLog(path, keyStore);
  const control = { failing: true };
  const sink: AuditSink = {
    append: (entry) => (control.failing && fails(entry) ? Promise.reject(new AuditError('AUDIT_WRITE_FAILED', '(record) Check the disk.')) : log.append(entry)),
    check: () => log.check(),
    records: () => log.records(),
    keepPending: (entry) => log.keepPending(entry),
    pendingOutcome: () => log.pendingOutcome(),
    clearPending: () => log.clearPending(),
  };
  return { path, log, sink, control, key: Buffer.from(KEY_HEX, 'hex') };
}

async function rig(sink: AuditSink) {
  const calls: SetPinRequest[] = [];
  const cardApi: CardApi = {
    async setPin(request) {
      calls.push(request);
      return OUTCOME;
    },
  };
  const staff = await signedInStaff();
  const station = new Station({
    config: parseConfig({ profile: 'gcm' }),
    keyStore: new MemoryKeyStore({ 'api-token': 'token-1' }),
    cardApi,
    views: { operator: () => undefined, pinpad: () => undefined },
    audit: sink,
  });
  return { station, router: new IpcRouter(station, staff), calls };
}

describe('write-ahead', () => {
  it('an attempt record written while the keychain is read, then a failure before sending: the outcome record closes it', async () => {
    const trail = flakyTrail(() => false);
    // The token is there for Start's check and gone for the send (removed in between): the attempt record is
    // already on its way by then, since it is written while the keychain is read.
    let tokenReads = 0;
    const inner = new MemoryKeyStore({ 'api-token': 'token-1' });
    const keyStore: KeyStore = {
      get: async (account) => (account === 'api-token' && ++tokenReads > 1 ? null : inner.get(account)),
      set: (account, value) => inner.set(account, value),
      delete: (account) => inner.delete(account),
    };
    const calls: SetPinRequest[] = [];
    const station = new Station({
      config: parseConfig({ profile: 'gcm' }),
      keyStore,
      cardApi: {
        async setPin(request) {
          calls.push(request);
          return OUTCOME;
        },
      },
      views: { operator: () => undefined, pinpad: () => undefined },
      audit: trail.sink,
    });
    const router = new IpcRouter(station, await signedInStaff());
    expect(await router.handle('operator', 'station:start', { cardId: 'WAL-0', mode: 'processor' })).toMatchObject({ ok: true });
    await station.settled();
    await trail.log.flush();
    expect(calls).toHaveLength(0);
    const records = readAuditRecords(trail.path);
    const attempt = records.find((record) => record.type === 'attempt');
    const outcome = records.find((record) => record.type === undefined);
    expect(attempt).toMatchObject({ cardId: 'WAL-0' });
    expect(outcome).toMatchObject({
      cardId: 'WAL-0',
      outcome: 'failed',
      errorCode: 'KEYCHAIN_ENTRY_MISSING',
      attemptId: attempt?.type === 'attempt' ? attempt.attemptId : 'none',
    });
    expect(openAttempts(records)).toEqual([]);
    expect(verifyAuditFile(trail.path, trail.key)).toMatchObject({ ok: true });
  });

  it('an attempt record that cannot be written: nothing reaches the processor, and the operator sees why', async () => {
    const trail = flakyTrail((entry) => entry.type === 'attempt');
    const { station, router, calls } = await rig(trail.sink);
    expect(await router.handle('operator', 'station:start', { cardId: 'WAL-1', mode: 'processor' })).toMatchObject({ ok: true });
    await station.settled();
    expect(calls).toHaveLength(0);
    expect(station.operatorView()).toMatchObject({ phase: 'failed', error: { code: 'AUDIT_WRITE_FAILED' } });
  });

  it('an outcome that cannot be written blocks the next Start until it lands; then the trail has it and verifies', async () => {
    const trail = flakyTrail((entry) => entry.type === undefined);
    const { station, router, calls } = await rig(trail.sink);
    await router.handle('operator', 'station:start', { cardId: 'WAL-2', mode: 'processor' });
    await station.settled();
    expect(calls).toHaveLength(1);
    expect(station.operatorView()).toMatchObject({ phase: 'done', auditError: { code: 'AUDIT_WRITE_FAILED' } });
    await router.handle('operator', 'station:next-card', null);
    expect(await router.handle('operator', 'station:start', { cardId: 'WAL-3', mode: 'processor' })).toMatchObject({
      ok: false,
      error: { code: 'AUDIT_PENDING' },
    });
    expect(calls).toHaveLength(1);

    trail.control.failing = false; // the disk recovers
    expect(await router.handle('operator', 'station:start', { cardId: 'WAL-3', mode: 'processor' })).toMatchObject({ ok: true });
    await station.settled();
    expect(calls).toHaveLength(2);
    const records = readAuditRecords(trail.path) as unknown as Record<string, unknown>[];
    const attempts = records.filter((record) => record.type === 'attempt');
    const outcomes = records.filter((record) => record.type === undefined);
    expect(attempts.map((record) => record.cardId)).toEqual(['WAL-2', 'WAL-3']);
    expect(outcomes.map((record) => [record.cardId, record.attemptId])).toEqual([
      ['WAL-2', attempts[0]?.attemptId],
      ['WAL-3', attempts[1]?.attemptId],
    ]);
    expect(verifyAuditFile(trail.path, trail.key)).toMatchObject({ ok: true, records: 4 });
    station.dispose();
  });

  it('an attempt the last stop cut short is closed at start-up as outcome unknown, and the next person is told', async () => {
    const trail = flakyTrail(() => false);
    await trail.log.append({
      type: 'attempt',
      stationId: 'desk-1',
      attemptId: '6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b',
      operator: 'op.one',
      cardId: 'WAL-4',
      mode: 'customer',
      profile: 'gcm',
    });
    const { station } = await rig(trail.sink);
    await station.closeInterruptedAttempts(trail.log.records());
    expect(station.operatorView().interruptedCards).toEqual(['WAL-4']);
    const last = readAuditRecords(trail.path).at(-1);
    expect(last).toMatchObject({
      cardId: 'WAL-4',
      outcome: 'outcome-unknown',
      errorCode: 'STATION_STOPPED',
      attemptId: '6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b',
    });
    // Closed once: a second start finds nothing left open.
    const again = await rig(trail.sink);
    await again.station.closeInterruptedAttempts(trail.log.records());
    expect(again.station.operatorView().interruptedCards).toEqual([]);
    expect(verifyAuditFile(trail.path, trail.key)).toMatchObject({ ok: true, records: 2 });
  });

  it('an outcome that could not be written survives a quit: recorded at the next start with the real answer, not as outcome unknown', async () => {
    const trail = flakyTrail((entry) => entry.type === undefined);
    const first = await rig(trail.sink);
    await first.router.handle('operator', 'station:start', { cardId: 'WAL-5', mode: 'processor' });
    await first.station.settled();
    expect(first.calls).toHaveLength(1);
    expect(first.station.operatorView()).toMatchObject({ phase: 'done', auditError: { code: 'AUDIT_WRITE_FAILED' } });
    // Kept on disk before the operator was told, under a MAC; the operator window warns while it is pending.
    expect(existsSync(`${trail.path}.pending`)).toBe(true);
    expect(first.station.operatorView().auditOutcomePending).toBe('WAL-5');
    // Quit while the disk still refuses: one more try fails, and the outcome stays on disk.
    expect(await first.station.retryUnrecorded()).toBe(false);
    first.station.dispose();

    trail.control.failing = false; // the disk recovers; the station starts again
    const history = new CardHistory();
    const tracker = new OpenAttemptTracker();
    // A new process: its first check reads the whole trail once and keeps the attempts without an outcome.
    await new AuditLog(trail.path, new MemoryKeyStore({ 'audit-key': KEY_HEX })).check({
      record: (r) => (history.noteRecord(r), tracker.note(r)),
      restart: () => undefined,
    });
    const next = await rig(trail.sink);
    const open = new Set(tracker.list().map((attempt) => attempt.attemptId));
    expect(open.size).toBe(1);
    const closed = await next.station.recoverPendingOutcome(open);
    await next.station.closeInterruptedAttempts(tracker.list().filter((attempt) => attempt.attemptId !== closed));
    expect(next.station.operatorView()).toMatchObject({ interruptedCards: [], auditOutcomePending: null });
    const outcomes = (readAuditRecords(trail.path) as unknown as Record<string, unknown>[]).filter((record) => record.type === undefined);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ cardId: 'WAL-5', outcome: 'pin-generated', requestStatus: 'pin_generated', errorCode: null, attemptId: [...open][0] });
    expect(existsSync(`${trail.path}.pending`)).toBe(false);
    expect(verifyAuditFile(trail.path, trail.key)).toMatchObject({ ok: true, records: 2 });
    // A Start goes ahead: nothing is pending any more.
    expect(await next.router.handle('operator', 'station:start', { cardId: 'WAL-6', mode: 'processor' })).toMatchObject({ ok: true });
    await next.station.settled();
    next.station.dispose();
  });

  it('a kept outcome that was edited or forged is refused, never recorded', async () => {
    const trail = flakyTrail((entry) => entry.type === undefined);
    const first = await rig(trail.sink);
    await first.router.handle('operator', 'station:start', { cardId: 'WAL-7', mode: 'processor' });
    await first.station.settled();
    first.station.dispose();
    const pending = `${trail.path}.pending`;
    writeFileSync(pending, readFileSync(pending, 'utf8').replace('"WAL-7"', '"WAL-8"'));
    trail.control.failing = false;
    const next = await rig(trail.sink);
    await expect(next.station.recoverPendingOutcome(new Set())).rejects.toMatchObject({ code: 'AUDIT_CHAIN_BROKEN' });
    expect(readAuditRecords(trail.path).some((record) => record.type === undefined)).toBe(false);
    next.station.dispose();
  });
});

describe('a new station', () => {
  it('has no kept outcome and needs no audit-key to say so', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pin-station-wal-')), 'audit.jsonl');
    expect(await new AuditLog(path, new MemoryKeyStore({})).pendingOutcome()).toBeNull();
  });
});
