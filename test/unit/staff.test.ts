/** Local accounts (sealed file, lockout, rollback) and the staff session (idle lock, unlock, take-over), without a window. */
import { readFileSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../main/core/config';
import type { AuthConfig } from '../../main/core/config';
import { MemoryKeyStore } from '../../main/core/keystore';
import { LocalAccountStore } from '../../main/core/staff/accounts';
import { StaffSession } from '../../main/core/staff/session';
import type { AuditStaffEntry } from '../../main/core/audit';
import { TEST_PASSWORD, tempAccountStore } from '../helpers/staff';

const POLICY = { maxFailures: 10, minutes: 30 };

afterEach(() => {
  vi.useRealTimers();
});

describe('LocalAccountStore', () => {
  it('keeps an Argon2id hash, never the password, and checks it', async () => {
    const store = tempAccountStore();
    await store.add({ username: 'Anna.K', roles: ['operator', 'supervisor'], password: TEST_PASSWORD, displayName: ' Anna Kowalska ' });
    const text = readFileSync(store.path, 'utf8');
    expect(text).not.toContain(TEST_PASSWORD);
    expect(text).toMatch(/"passwordHash": "\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await store.checkPassword('anna.k', TEST_PASSWORD, POLICY)).toMatchObject({
      ok: true,
      account: { username: 'anna.k', displayName: 'Anna Kowalska', roles: ['operator', 'supervisor'] },
    });
    expect(await store.checkPassword('anna.k', `${TEST_PASSWORD}!`, POLICY)).toMatchObject({ ok: false, code: 'SIGN_IN_FAILED' });
    expect(await store.checkPassword('nobody', TEST_PASSWORD, POLICY)).toMatchObject({ ok: false, code: 'SIGN_IN_FAILED', known: false });
  });

  it('refuses short passwords, bad names, duplicate names and unknown roles', async () => {
    const store = tempAccountStore();
    await expect(store.add({ username: 'anna', roles: ['operator'], password: 'eleven-char' })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(store.add({ username: 'anna k', roles: ['operator'], password: TEST_PASSWORD })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(store.add({ username: 'anna', roles: [], password: TEST_PASSWORD })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await store.add({ username: 'anna', roles: ['operator'], password: TEST_PASSWORD });
    await expect(store.add({ username: 'ANNA', roles: ['auditor'], password: TEST_PASSWORD })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    expect((await store.list()).map((account) => account.roles)).toEqual([['operator']]);
  });

  it('locks after the limit, refuses the right password while locked, and lets it in once the time is up', async () => {
    let now = Date.parse('2026-11-29T10:00:00.000Z');
    const store = new LocalAccountStore(tempAccountStore().path, new MemoryKeyStore(), { now: () => new Date(now) });
    await store.add({ username: 'anna', roles: ['operator'], password: TEST_PASSWORD });
    for (let i = 1; i < 3; i++)
      expect(await store.checkPassword('anna', 'wrong-password-x', { maxFailures: 3, minutes: 30 })).toMatchObject({ code: 'SIGN_IN_FAILED' });
    expect(await store.checkPassword('anna', 'wrong-password-x', { maxFailures: 3, minutes: 30 })).toEqual({
      ok: false,
      code: 'ACCOUNT_LOCKED_OUT',
      lockedUntil: '2026-11-29T10:30:00.000Z',
      lockedNow: true,
      known: true,
    });
    expect(await store.checkPassword('anna', TEST_PASSWORD, POLICY)).toMatchObject({ code: 'ACCOUNT_LOCKED_OUT', lockedNow: false });
    now += 30 * 60_000 + 1;
    expect(await store.checkPassword('anna', TEST_PASSWORD, POLICY)).toMatchObject({ ok: true });
  });

  it('names a disabled account only after the right password', async () => {
    const store = tempAccountStore();
    await store.add({ username: 'anna', roles: ['operator'], password: TEST_PASSWORD });
    await store.setDisabled('anna', true);
    expect(await store.checkPassword('anna', 'wrong-password-x', POLICY)).toMatchObject({ code: 'SIGN_IN_FAILED' });
    expect(await store.checkPassword('anna', TEST_PASSWORD, POLICY)).toMatchObject({ code: 'ACCOUNT_DISABLED' });
  });

  it('refuses a file edited to add a role, and an older copy put back to undo a lockout', async () => {
    const store = tempAccountStore();
    await store.add({ username: 'anna', roles: ['operator'], password: TEST_PASSWORD });
    const original = readFileSync(store.path, 'utf8');
    writeFileSync(store.path, original.replace('"operator"', '"operator",\n        "admin"'));
    await expect(store.list()).rejects.toMatchObject({ code: 'STAFF_STORE_INVALID', message: expect.stringContaining('it was edited') });
    writeFileSync(store.path, original);
    copyFileSync(store.path, `${store.path}.old`);
    await store.setDisabled('anna', true);
    copyFileSync(`${store.path}.old`, store.path);
    await expect(store.checkPassword('anna', TEST_PASSWORD, POLICY)).rejects.toMatchObject({
      code: 'STAFF_STORE_INVALID',
      message: expect.stringContaining('older copy'),
    });
    rmSync(store.path);
    await expect(store.list()).rejects.toMatchObject({ code: 'STAFF_STORE_INVALID', message: expect.stringContaining('missing') });
  });
});

describe('StaffSession', () => {
  async function session(auth: Partial<AuthConfig> = {}): Promise<{ staff: StaffSession; events: AuditStaffEntry[]; ended: () => number }> {
    const accounts = tempAccountStore();
    await accounts.add({ username: 'anna', roles: ['operator'], password: TEST_PASSWORD });
    await accounts.add({ username: 'boris', roles: ['auditor'], password: `${TEST_PASSWORD}-b` });
    const events: AuditStaffEntry[] = [];
    let ends = 0;
    const staff = new StaffSession({
      auth: { ...parseConfig({}).auth, ...auth },
      stationId: 'desk-1',
      accounts,
      audit: { append: async (entry) => void events.push(entry) },
      onChange: () => undefined,
      onSessionEnd: () => void ends++,
    });
    return { staff, events, ended: () => ends };
  }

  it('requires a signed-in person with a PIN-setting role', async () => {
    const { staff } = await session();
    expect(() => staff.requirePinSetter()).toThrow(expect.objectContaining({ code: 'SIGN_IN_REQUIRED' }));
    await staff.signIn('boris', `${TEST_PASSWORD}-b`);
    expect(() => staff.requirePinSetter()).toThrow(expect.objectContaining({ code: 'ROLE_NOT_ALLOWED' }));
    await staff.signOut();
    await staff.signIn('anna', TEST_PASSWORD);
    expect(staff.requirePinSetter().username).toBe('anna');
    await staff.lock('manual');
    expect(() => staff.requirePinSetter()).toThrow(expect.objectContaining({ code: 'SESSION_LOCKED' }));
  });

  it('counts the last minute down, locks when idle, and any activity starts the count again', async () => {
    vi.useFakeTimers();
    const { staff, events, ended } = await session({ idleLockMinutes: 2 });
    await staff.signIn('anna', TEST_PASSWORD);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(staff.view().idleLockInSeconds).toBeNull();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(staff.view().idleLockInSeconds).toBe(59);
    staff.activity();
    expect(staff.view().idleLockInSeconds).toBeNull();
    await vi.advanceTimersByTimeAsync(119_000);
    expect(staff.view().state).toBe('signed-in');
    await vi.advanceTimersByTimeAsync(1_500);
    expect(staff.view()).toMatchObject({ state: 'locked', username: 'anna', notice: { code: 'SIGNED_OUT_IDLE' } });
    expect(ended()).toBe(1);
    expect(events.map((event) => `${event.event}:${String(event.reason)}`)).toEqual(['sign-in:null', 'lock:idle']);
  });

  it('a wrong unlock counts towards the lockout; another person’s unlock signs the first out', async () => {
    const { staff, events } = await session({ lockout: { maxFailures: 2, minutes: 30 } });
    await staff.signIn('anna', TEST_PASSWORD);
    await staff.lock('os');
    await expect(staff.unlock('anna', 'wrong-password-x')).rejects.toMatchObject({ code: 'SIGN_IN_FAILED' });
    await expect(staff.unlock('anna', 'wrong-password-x')).rejects.toMatchObject({ code: 'ACCOUNT_LOCKED_OUT', minutesLeft: 30 });
    expect(staff.view()).toMatchObject({ state: 'locked', username: 'anna' });
    await staff.unlock('boris', `${TEST_PASSWORD}-b`);
    expect(staff.view()).toMatchObject({ state: 'signed-in', username: 'boris', roles: ['auditor'], notice: { code: 'SIGNED_OUT_BY_OTHER' } });
    expect(events.map((event) => `${event.event}:${event.username}:${String(event.reason)}`)).toEqual([
      'sign-in:anna:null',
      'lock:anna:os',
      'unlock-failed:anna:SIGN_IN_FAILED',
      'unlock-failed:anna:ACCOUNT_LOCKED_OUT',
      'lockout:anna:null',
      'sign-out:anna:other-user',
      'sign-in:boris:null',
    ]);
  });

  it('grants no session when the sign-in cannot be recorded', async () => {
    const accounts = tempAccountStore();
    await accounts.add({ username: 'anna', roles: ['operator'], password: TEST_PASSWORD });
    const staff = new StaffSession({
      auth: parseConfig({}).auth,
      stationId: 'desk-1',
      accounts,
      audit: { append: () => Promise.reject(Object.assign(new Error('disk full'), { code: 'ENOSPC' })) },
      onChange: () => undefined,
      onSessionEnd: () => undefined,
    });
    await expect(staff.signIn('anna', TEST_PASSWORD)).rejects.toMatchObject({ code: 'AUDIT_FAILED' });
    expect(staff.view().state).toBe('signed-out');
  });
});
