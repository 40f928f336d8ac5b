/** Local accounts (sealed file, lockout, rollback) and the staff session (idle lock, unlock, take-over), without a window. */
import { readFileSync, writeFileSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../main/core/config';
import type { AuthConfig } from '../../main/core/config';
import { MemoryKeyStore } from '../../main/core/keystore';
import { LocalAccountStore } from '../../main/core/staff/accounts';
import { StaffSession } from '../../main/core/staff/session';
import type { AuditStaffEntry } from '../../main/core/audit';
import { TEST_PASSWORD, TEST_TOTP_SECRET, signedInStaff, tempAccountStore } from '../helpers/staff';
import { currentTotp } from '../../main/core/staff/totp';
import { samePerson } from '../../main/core/staff/session';
import { IpcRouter } from '../../main/core/ipc-router';
import { Station } from '../../main/core/station';
import type { KeyAccount, KeyStore } from '../../main/core/keystore';
import { EXIT_CODES as STAFF_EXIT_CODES, runStaffCli } from '../../main/admin/staff/cli';

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

  it('an account without a second factor: the same answer, counted, whatever the password (no password oracle)', async () => {
    let now = Date.parse('2026-11-29T10:00:00.000Z');
    const store = new LocalAccountStore(tempAccountStore().path, new MemoryKeyStore(), { now: () => new Date(now) });
    await store.add({ username: 'anna', roles: ['operator'], password: TEST_PASSWORD });
    const policy = { maxFailures: 3, minutes: 30 };
    const right = await store.checkSignIn('anna', TEST_PASSWORD, '', policy, 'required');
    const wrong = await store.checkSignIn('anna', 'wrong-password-x', '', policy, 'required');
    // Nothing tells the right password from a wrong one, and the window can still say "ask an admin to enrol".
    expect(right).toEqual({ ok: false, code: 'MFA_NOT_ENROLLED', recorded: 'MFA_NOT_ENROLLED', lockedUntil: null, lockedNow: false, known: true });
    expect(wrong).toEqual(right);
    // Both tries counted: the third locks the account, however right its password.
    expect(await store.checkSignIn('anna', TEST_PASSWORD, '', policy, 'required')).toMatchObject({
      code: 'ACCOUNT_LOCKED_OUT',
      lockedNow: true,
      recorded: 'MFA_NOT_ENROLLED',
    });
    expect(await store.checkSignIn('anna', TEST_PASSWORD, '', policy, 'required')).toMatchObject({ code: 'ACCOUNT_LOCKED_OUT', lockedNow: false });
    // Enrolment (an admin vouching for the person) ends the lockout; then the password and a current code sign in.
    await store.enrolTotp('anna', TEST_TOTP_SECRET, null);
    now += 60_000;
    const code = currentTotp(TEST_TOTP_SECRET, new Date(now));
    expect(await store.checkSignIn('anna', TEST_PASSWORD, code, policy, 'required')).toMatchObject({ ok: true, factor: 'totp' });
    // With auth.mfa "off" the password alone decides, as before.
    await store.resetTotp('anna');
    expect(await store.checkPassword('anna', TEST_PASSWORD, policy)).toMatchObject({ ok: true, factor: null });
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
      auth: { ...parseConfig({}).auth, mfa: 'off', ...auth },
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
      auth: { ...parseConfig({}).auth, mfa: 'off' },
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

describe('races and identity', () => {
  it('two sign-ins at once: the second is refused; a lock asked for meanwhile applies once the first is granted', async () => {
    const accounts = tempAccountStore();
    await accounts.add({ username: 'anna', roles: ['operator'], password: TEST_PASSWORD });
    await accounts.add({ username: 'boris', roles: ['operator'], password: `${TEST_PASSWORD}-b` });
    const staff = new StaffSession({
      auth: { ...parseConfig({}).auth, mfa: 'off' },
      stationId: 'desk-1',
      accounts,
      onChange: () => undefined,
      onSessionEnd: () => undefined,
    });
    const first = staff.signIn('anna', TEST_PASSWORD);
    await expect(staff.signIn('boris', `${TEST_PASSWORD}-b`)).rejects.toMatchObject({ code: 'SESSION_BUSY' });
    await staff.lock('os');
    await first;
    expect(staff.view()).toMatchObject({ state: 'locked', username: 'anna' });
  });

  it('a sign-out pressed on the lock screen while an unlock is being checked wins: the unlock is refused', async () => {
    const accounts = tempAccountStore();
    await accounts.add({ username: 'anna', roles: ['operator'], password: TEST_PASSWORD });
    const staff = new StaffSession({
      auth: { ...parseConfig({}).auth, mfa: 'off' },
      stationId: 'desk-1',
      accounts,
      onChange: () => undefined,
      onSessionEnd: () => undefined,
    });
    await staff.signIn('anna', TEST_PASSWORD);
    await staff.lock('manual');
    const unlock = staff.unlock('anna', TEST_PASSWORD);
    await staff.signOut();
    await expect(unlock).rejects.toMatchObject({ code: 'SESSION_BUSY' });
    expect(staff.view().state).toBe('signed-out');
  });

  it('a sign-out pressed while the same person’s unlock is being recorded wins: the unlock is refused, and the trail ends signed out', async () => {
    const accounts = tempAccountStore();
    await accounts.add({ username: 'anna', roles: ['operator'], password: TEST_PASSWORD });
    const events: string[] = [];
    let unlockWritten: () => void = () => undefined;
    let unlockRecording: () => void = () => undefined;
    const recording = new Promise<void>((resolve) => (unlockRecording = resolve));
    const staff = new StaffSession({
      auth: { ...parseConfig({}).auth, mfa: 'off' },
      stationId: 'desk-1',
      accounts,
      // The trail keeps the order records are handed to it; the unlock record is held on its way to disk.
      audit: {
        append: async (entry) => {
          events.push(entry.event);
          if (entry.event === 'unlock') {
            unlockRecording();
            await new Promise<void>((resolve) => (unlockWritten = resolve));
          }
        },
      },
      onChange: () => undefined,
      onSessionEnd: () => undefined,
    });
    await staff.signIn('anna', TEST_PASSWORD);
    await staff.lock('manual');
    const unlock = staff.unlock('anna', TEST_PASSWORD);
    await recording;
    const signOut = staff.signOut();
    unlockWritten();
    await signOut;
    await expect(unlock).rejects.toMatchObject({ code: 'SESSION_BUSY' });
    expect(staff.view().state).toBe('signed-out');
    expect(() => staff.requireSignedIn()).toThrow(expect.objectContaining({ code: 'SIGN_IN_REQUIRED' }));
    expect(events).toEqual(['sign-in', 'lock', 'unlock', 'sign-out']);
  });

  it('a lock while Start waits on the keychain: nothing starts, and the pad never opens', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const entries = new MemoryKeyStore({ 'pin-key': 'A'.repeat(64), 'api-token': 'token-1' });
    const slowKeyStore: KeyStore = {
      get: async (account: KeyAccount) => {
        await gate;
        return entries.get(account);
      },
      set: (account, value) => entries.set(account, value),
      delete: (account) => entries.delete(account),
    };
    let station: Station | null = null;
    const staff = await signedInStaff(['operator'], 'op.one', { onSessionEnd: () => station?.interruptEntry('PIN_CANCELLED') });
    station = new Station({
      config: parseConfig({ profile: 'gcm' }),
      keyStore: slowKeyStore,
      cardApi: { setPin: () => Promise.reject(new Error('must not be called')) },
      views: { operator: () => undefined, pinpad: () => undefined },
      staffView: () => staff.view(),
    });
    const router = new IpcRouter(station, staff);
    const started = router.handle('operator', 'station:start', { cardId: 'CARD-1', mode: 'customer' });
    await staff.lock('manual');
    release();
    expect(await started).toMatchObject({ ok: false, error: { code: 'SESSION_LOCKED' } });
    expect(station.pinpadView().active).toBe(false);
    expect(station.operatorView().phase).toBe('idle');
  });

  it('main checks the role on every call, whatever the window shows', async () => {
    const station = new Station({
      config: parseConfig({ profile: 'gcm' }),
      keyStore: new MemoryKeyStore(),
      cardApi: { setPin: () => Promise.reject(new Error('must not be called')) },
      views: { operator: () => undefined, pinpad: () => undefined },
    });
    const admin = await signedInStaff(['admin', 'auditor'], 'ada');
    const router = new IpcRouter(station, admin);
    expect(await router.handle('operator', 'station:start', { cardId: 'CARD-1', mode: 'processor' })).toMatchObject({
      ok: false,
      error: { code: 'ROLE_NOT_ALLOWED' },
    });
    await admin.lock('manual');
    expect(await router.handle('operator', 'station:start', { cardId: 'CARD-1', mode: 'processor' })).toMatchObject({
      ok: false,
      error: { code: 'SESSION_LOCKED' },
    });
    expect(await router.handle('operator', 'station:next-card', null)).toMatchObject({ ok: false, error: { code: 'SESSION_LOCKED' } });
    await admin.signOut();
    expect(await router.handle('operator', 'station:cancel', null)).toMatchObject({ ok: false, error: { code: 'SIGN_IN_REQUIRED' } });
    // Reading the state stays open: the sign-in screen needs it.
    expect(await router.handle('operator', 'station:get-state', null)).toMatchObject({ ok: true });
  });

  it('single sign-on decides "the same person" by the subject, never by a name the provider lets people change', () => {
    const anna = { username: 'anna.k', displayName: null, roles: ['operator'] as const, subject: 'sub-1' };
    expect(samePerson(anna, { ...anna, username: 'Anna.K' })).toBe(true);
    expect(samePerson(anna, { ...anna, subject: 'sub-2' })).toBe(false);
    expect(samePerson({ username: 'Anna', displayName: null, roles: [] }, { username: 'anna', displayName: null, roles: [] })).toBe(true);
  });
});

describe('the accounts file between processes', () => {
  it('the station and the admin CLI writing at once lose neither change', async () => {
    const station = tempAccountStore();
    await station.add({ username: 'anna', roles: ['operator'], password: TEST_PASSWORD });
    await station.add({ username: 'boris', roles: ['operator'], password: `${TEST_PASSWORD}-b` });
    const keyStore = (station as unknown as { keyStore: KeyStore }).keyStore;
    const cli = new LocalAccountStore(station.path, keyStore);
    await Promise.all([cli.setDisabled('boris', true), station.checkPassword('anna', 'wrong-password-x', POLICY)]);
    const accounts = await station.list();
    expect(accounts.find((account) => account.username === 'boris')?.disabled).toBe(true);
    expect(accounts.find((account) => account.username === 'anna')?.failures).toBe(1);
  });

  it('a write whose keychain step failed brings the keychain up to date on the next read, so the older copy stays refused', async () => {
    const store = tempAccountStore();
    await store.add({ username: 'anna', roles: ['operator'], password: TEST_PASSWORD });
    const keyStore = (store as unknown as { keyStore: KeyStore }).keyStore;
    copyFileSync(store.path, `${store.path}.old`);
    const generation = await keyStore.get('staff-generation');
    await store.setDisabled('anna', true);
    await keyStore.set('staff-generation', generation ?? '');
    expect((await store.list())[0]?.disabled).toBe(true);
    expect(await keyStore.get('staff-generation')).toBe(String(Number(generation) + 1));
    copyFileSync(`${store.path}.old`, store.path);
    await expect(store.list()).rejects.toMatchObject({ code: 'STAFF_STORE_INVALID' });
  });
});

describe('npm run staff: the station keychain service', () => {
  it("without --service, the managed policy's keychain.service (over config.json's) seals the accounts", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pin-station-staff-cli-'));
    try {
      writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ keychain: { service: 'from-config' } }));
      const stores = new Map<string, MemoryKeyStore>();
      const openStore = (service: string): MemoryKeyStore => {
        const store = stores.get(service) ?? new MemoryKeyStore();
        stores.set(service, store);
        return store;
      };
      const policy = { location: '/etc/pin-station/policy.json', read: async () => ({ keychain: { service: 'from-policy' } }) };
      let stderr = '';
      const code = await runStaffCli(['add', 'anna', '--roles', 'operator', '--data-dir', dataDir], {
        stdin: Readable.from([Buffer.from(`${TEST_PASSWORD}\n`)]),
        stdout: { write: () => true },
        stderr: { write: (text: string) => (stderr += text) },
        openStore,
        policy,
      });
      expect(code, stderr).toBe(STAFF_EXIT_CODES.OK);
      expect(await stores.get('from-policy')?.get('staff-key')).not.toBeNull();
      expect(stores.has('from-config')).toBe(false);
      // The station reads them with its own service: the policy's.
      const accounts = new LocalAccountStore(join(dataDir, 'staff', 'accounts.json'), openStore('from-policy'));
      expect(await accounts.checkPassword('anna', TEST_PASSWORD, POLICY)).toMatchObject({ ok: true });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
