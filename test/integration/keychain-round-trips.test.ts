/**
 * One keychain round trip per PIN (gcm: pin-key and api-token; public-key: api-token only), on a private Secret Service (scripts/with-test-keyring.sh): the
 * station's real pipeline (router -> PIN session -> encryption -> write-ahead record -> sandbox
 * processor -> outcome record) with a KeytarKeyStore that counts and times its real keychain calls
 * (the pipeline benchmark's own, scripts/bench/timed-keystore.ts).
 * The audit MAC key is held while someone is signed in, dropped at lock, sign-out, take-over and quit.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IpcResult, PinpadView } from '../../common/ipc';
import { AuditLog } from '../../main/core/audit';
import { configSchema } from '../../main/core/config';
import { NEXT_PROCESSOR_KEY_ACCOUNT } from '../../main/core/keystore';
import { createStationCore } from '../../main/core/station-core';
import type { StationCore } from '../../main/core/station-core';
import { LocalAccountStore } from '../../main/core/staff/accounts';
import { issueProcessorCertificate } from '../../sandbox/certificate';
import { SandboxProcessor } from '../../sandbox/processor';
import { roundTrips, TimedKeyStore } from '../../scripts/bench/timed-keystore';
import type { KeyRead } from '../../scripts/bench/timed-keystore';

const unwrap = <T>(result: IpcResult<T>): T => {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
};

/**
 * One customer-chosen PIN from Start to its recorded outcome. Returns the keychain calls made from the
 * cardholder's confirming OK to the outcome on record (Start's own key checks come before the PIN is typed).
 * `beforeOk` runs after the PIN is typed, before OK.
 */
async function typeOnePin(
  core: StationCore,
  store: TimedKeyStore,
  cardId: string,
  beforeOk?: () => Promise<void>,
): Promise<{ phase: string; code: string | null; calls: KeyRead[] }> {
  const { router, station } = core;
  unwrap(await router.handle('operator', 'station:start', { cardId, mode: 'customer' }));
  const { layout } = unwrap(await router.handle('pinpad', 'pinpad:get-state', null)) as PinpadView;
  const type = async (): Promise<void> => {
    for (const digit of [2, 4, 6, 9]) unwrap(await router.handle('pinpad', 'pinpad:press', layout.indexOf(digit)));
  };
  await type();
  unwrap(await router.handle('pinpad', 'pinpad:submit', null));
  await type();
  await beforeOk?.();
  const before = store.reads.length;
  unwrap(await router.handle('pinpad', 'pinpad:submit', null));
  await station.settled();
  const calls = store.reads.slice(before);
  const view = station.operatorView();
  unwrap(await router.handle('operator', 'station:next-card', null));
  return { phase: view.phase, code: view.error?.code ?? null, calls };
}

beforeAll(() => {
  if (process.env.PIN_STATION_TEST_KEYRING !== '1') {
    throw new Error('integration tests must run inside scripts/with-test-keyring.sh (private Secret Service)');
  }
});

describe('keychain round trips per PIN', () => {
  const pinKeyHex = randomBytes(32).toString('hex').toUpperCase();
  const apiToken = `rt-${randomBytes(18).toString('base64url')}`;
  const store = new TimedKeyStore(`pin-station-rt-${randomBytes(4).toString('hex')}`);
  const password = randomBytes(18).toString('base64url');
  let sandbox: SandboxProcessor;
  let core: StationCore;
  /** The quit test closes the core itself. */
  let closed = false;

  beforeAll(async () => {
    await store.set('pin-key', pinKeyHex);
    await store.set('api-token', apiToken);
    sandbox = new SandboxProcessor({ pinKeyHex, apiToken }, { profile: 'gcm' });
    const baseUrl = await sandbox.start();
    const dir = mkdtempSync(join(tmpdir(), 'pin-station-rt-'));
    const accounts = new LocalAccountStore(join(dir, 'accounts.json'), store);
    await accounts.add({ username: 'desk', roles: ['operator'], password });
    // Takes over the desk's locked session in the take-over test.
    await accounts.add({ username: 'relief', roles: ['operator'], password });
    core = createStationCore({
      config: configSchema.parse({ profile: 'gcm', processor: { baseUrl }, auth: { mfa: 'off' } }),
      keyStore: store,
      audit: new AuditLog(join(dir, 'audit', 'audit.jsonl'), store),
      staff: { accounts },
      processorBaseUrl: baseUrl,
      views: { operator: () => undefined, pinpad: () => undefined },
    });
  });

  afterAll(async () => {
    if (!closed) await core?.close();
    await sandbox?.stop();
    for (const account of ['pin-key', 'api-token', 'audit-key', 'audit-mark', 'staff-key', 'staff-generation', 'staff-mfa-key'] as const) {
      await store.delete(account);
    }
  });

  const onePin = (cardId: string, beforeOk?: () => Promise<void>) => typeOnePin(core, store, cardId, beforeOk);

  it('reads pin-key and api-token together and nothing else, for every PIN of a signed-in session', async () => {
    await core.staff.signIn('desk', password);
    // The held key is read at sign-in; waiting for that read keeps it out of the first PIN's count.
    await store.get('audit-key');
    for (let i = 0; i < 3; i++) {
      const { phase, calls } = await onePin(`RT-${i}`);
      expect(phase).toBe('done');
      expect(calls.map((call) => call.account).sort()).toEqual(['api-token', 'pin-key']);
      expect(roundTrips(calls)).toBe(1);
    }
  });

  it("reads Start's two entries (api-token and the profile's key) together, in one round trip", async () => {
    const before = store.reads.length;
    unwrap(await core.router.handle('operator', 'station:start', { cardId: 'RT-START', mode: 'customer' }));
    const calls = store.reads.slice(before);
    unwrap(await core.router.handle('pinpad', 'pinpad:cancel', null));
    await core.station.settled();
    unwrap(await core.router.handle('operator', 'station:next-card', null));
    expect(calls.map((call) => call.account).sort()).toEqual(['api-token', 'pin-key']);
    expect(roundTrips(calls)).toBe(1);
  });

  it('drops the audit key at lock: the next use reads the keychain again', async () => {
    const before = store.reads.filter((call) => call.account === 'audit-key').length;
    await core.staff.lock('manual');
    // The lock's own record needed the key, with nothing held.
    const afterLock = store.reads.filter((call) => call.account === 'audit-key').length;
    expect(afterLock).toBeGreaterThan(before);
    await store.get('audit-key');
    await store.get('audit-key');
    expect(store.reads.filter((call) => call.account === 'audit-key').length).toBe(afterLock + 2);
    await core.staff.unlock('desk', password);
    await store.get('audit-key');
    const held = store.reads.length;
    await store.get('audit-key');
    expect(store.reads.length).toBe(held);
  });

  it('a malformed keychain entry still gives a typed error, at Start and after the PIN is typed', async () => {
    await store.set('pin-key', 'not a key');
    const refused = await core.router.handle('operator', 'station:start', { cardId: 'RT-BAD', mode: 'customer' });
    expect(refused.ok ? null : refused.error.code).toBe('KEYCHAIN_ENTRY_MALFORMED');
    await store.set('pin-key', pinKeyHex);
    const bad = await onePin('RT-BAD', () => store.set('pin-key', 'not a key'));
    expect(bad).toMatchObject({ phase: 'failed', code: 'KEYCHAIN_ENTRY_MALFORMED' });
    await store.set('pin-key', pinKeyHex);
    expect((await onePin('RT-GOOD')).phase).toBe('done');
  });

  const auditKeyReads = (): number => store.reads.filter((read) => read.account === 'audit-key').length;

  /** The key is held: a use now makes no keychain call. */
  async function expectHeld(): Promise<void> {
    // Joins the read made ahead at sign-in, so it is not counted below.
    await store.get('audit-key');
    const held = store.reads.length;
    await store.get('audit-key');
    expect(store.reads.length).toBe(held);
  }

  /** The key is not held: every use reads the keychain again. */
  async function expectDropped(): Promise<void> {
    const before = auditKeyReads();
    await store.get('audit-key');
    await store.get('audit-key');
    expect(auditKeyReads()).toBe(before + 2);
  }

  it('drops the audit key at sign-out: its record and every use after it read the keychain again', async () => {
    // Still signed in (unlocked) from the tests above.
    await expectHeld();
    const before = auditKeyReads();
    await core.staff.signOut();
    expect(auditKeyReads()).toBeGreaterThan(before);
    await expectDropped();
  });

  it('drops the audit key at take-over: the records of the change of person are written with nothing held, and the newcomer holds a key read for them', async () => {
    await core.staff.signIn('desk', password);
    await expectHeld();
    await core.staff.lock('manual');
    const before = auditKeyReads();
    await core.staff.unlock('relief', password);
    expect(core.staff.view()).toMatchObject({ state: 'signed-in', username: 'relief' });
    // The first person's sign-out record and the newcomer's sign-in record, each read from the keychain.
    expect(auditKeyReads()).toBeGreaterThanOrEqual(before + 2);
    await expectHeld();
  });

  it('drops the audit key at quit: the sign-out record of the closing station and every use after it read the keychain again', async () => {
    expect(core.staff.view().state).toBe('signed-in');
    await expectHeld();
    const before = auditKeyReads();
    closed = true;
    await core.close();
    expect(auditKeyReads()).toBeGreaterThan(before);
    await expectDropped();
  });
});

describe('keychain reads per PIN with the default profile (public-key)', () => {
  const apiToken = `rt-${randomBytes(18).toString('base64url')}`;
  const store = new TimedKeyStore(`pin-station-rt-pk-${randomBytes(4).toString('hex')}`);
  const password = randomBytes(18).toString('base64url');
  const pair = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const DAY = 86_400_000;
  const certificate = (notBefore: Date, notAfter: Date): string =>
    issueProcessorCertificate({ publicKeyPem: pair.publicKey, signingKeyPem: pair.privateKey, notBefore, notAfter });
  let sandbox: SandboxProcessor;
  let core: StationCore;
  let auditPath: string;

  beforeAll(async () => {
    await store.set('api-token', apiToken);
    await store.set('pin-public-key', certificate(new Date(Date.now() - DAY), new Date(Date.now() + 365 * DAY)));
    sandbox = new SandboxProcessor({ pinKeyHex: randomBytes(32).toString('hex'), apiToken, privateKeyPem: pair.privateKey }, { profile: 'public-key' });
    const baseUrl = await sandbox.start();
    const dir = mkdtempSync(join(tmpdir(), 'pin-station-rt-pk-'));
    auditPath = join(dir, 'audit', 'audit.jsonl');
    const accounts = new LocalAccountStore(join(dir, 'accounts.json'), store);
    await accounts.add({ username: 'desk', roles: ['operator'], password });
    core = createStationCore({
      // No profile named: the default. Long pad timeouts: one test waits for a key to expire mid-entry.
      config: configSchema.parse({ processor: { baseUrl }, auth: { mfa: 'off' }, pin: { sessionTimeoutMs: 600_000, inactivityTimeoutMs: 300_000 } }),
      keyStore: store,
      audit: new AuditLog(auditPath, store),
      staff: { accounts },
      processorBaseUrl: baseUrl,
      views: { operator: () => undefined, pinpad: () => undefined },
    });
    await core.staff.signIn('desk', password);
    await store.get('audit-key');
  });

  afterAll(async () => {
    await core?.close();
    await sandbox?.stop();
    for (const account of [
      'pin-public-key',
      NEXT_PROCESSOR_KEY_ACCOUNT,
      'api-token',
      'audit-key',
      'audit-mark',
      'staff-key',
      'staff-generation',
      'staff-mfa-key',
    ] as const) {
      await store.delete(account);
    }
  });

  const onePin = (cardId: string, beforeOk?: () => Promise<void>) => typeOnePin(core, store, cardId, beforeOk);

  it("reads only api-token at each PIN's submit: the processor's key is the one Start read and checked", async () => {
    for (let i = 0; i < 2; i++) {
      const { phase, calls } = await onePin(`RT-PK-${i}`);
      expect(phase).toBe('done');
      expect(calls.map((call) => call.account)).toEqual(['api-token']);
    }
    expect(sandbox.requests).toHaveLength(2);
  });

  it('a key that expires between Start and OK is refused with PROCESSOR_KEY_EXPIRED, and nothing is sent', { timeout: 60_000 }, async () => {
    // Certificates count whole seconds: this one is valid for Start and expires while the PIN is typed.
    const notAfter = new Date(Math.ceil((Date.now() + 8_000) / 1000) * 1000);
    await store.set('pin-public-key', certificate(new Date(Date.now() - DAY), notAfter));
    const sent = sandbox.attempts;
    const expired = await onePin('RT-PK-EXPIRING', async () => {
      while (Date.now() <= notAfter.getTime() + 1_000) await new Promise((resolve) => setTimeout(resolve, 250));
    });
    expect(expired).toMatchObject({ phase: 'failed', code: 'PROCESSOR_KEY_EXPIRED' });
    expect(expired.calls.map((call) => call.account)).not.toContain('pin-public-key');
    expect(sandbox.attempts).toBe(sent);
    await store.set('pin-public-key', certificate(new Date(Date.now() - DAY), new Date(Date.now() + 365 * DAY)));
  });

  it('a Start with no api-token does not promote a staged key whose notBefore has come', async () => {
    const staged = certificate(new Date(Date.now() - 60_000), new Date(Date.now() + 365 * DAY));
    await store.set(NEXT_PROCESSOR_KEY_ACCOUNT, staged);
    await store.delete('api-token');
    const refused = await core.router.handle('operator', 'station:start', { cardId: 'RT-PK-NO-TOKEN', mode: 'customer' });
    expect(refused.ok ? null : refused.error.code).toBe('KEYCHAIN_ENTRY_MISSING');
    expect(await store.get(NEXT_PROCESSOR_KEY_ACCOUNT)).toBe(staged);
    expect(readFileSync(auditPath, 'utf8')).not.toContain('"processor-key"');
    // With the token back, the same Start promotes it, on record.
    await store.set('api-token', apiToken);
    unwrap(await core.router.handle('operator', 'station:start', { cardId: 'RT-PK-TOKEN', mode: 'customer' }));
    unwrap(await core.router.handle('pinpad', 'pinpad:cancel', null));
    await core.station.settled();
    expect(await store.get(NEXT_PROCESSOR_KEY_ACCOUNT)).toBeNull();
    expect(readFileSync(auditPath, 'utf8')).toContain('"processor-key"');
  });
});
