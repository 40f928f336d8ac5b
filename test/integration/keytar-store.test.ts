/**
 * KeytarKeyStore against a real Secret Service. Runs only inside
 * scripts/with-test-keyring.sh (private D-Bus + gnome-keyring + temporary
 * HOME), so it can never touch a developer's keychain.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StationError } from '../../common/errors';
import { requireEntry } from '../../main/core/keystore';
import { KeytarKeyStore } from '../../main/core/keytar-store';
import { ensureSandboxKeys } from '../../sandbox/provision';

beforeAll(() => {
  if (process.env.PIN_STATION_TEST_KEYRING !== '1') {
    throw new Error('integration tests must run inside scripts/with-test-keyring.sh (private Secret Service)');
  }
});

const service = `pin-station-it-${randomBytes(4).toString('hex')}`;
const store = new KeytarKeyStore(service);
afterEach(async () => {
  for (const account of ['pin-key', 'api-token', 'audit-key', 'pin-public-key'] as const) await store.delete(account);
});

describe('KeytarKeyStore on a private Secret Service', () => {
  it('stores, reads back and deletes an entry', async () => {
    const value = randomBytes(32).toString('hex');
    expect(await store.get('pin-key')).toBeNull();
    await store.set('pin-key', value);
    expect(await store.get('pin-key')).toBe(value);
    // A second instance (as a new operation would make) sees the same entry.
    expect(await new KeytarKeyStore(service).get('pin-key')).toBe(value);
    expect(await store.delete('pin-key')).toBe(true);
    expect(await store.get('pin-key')).toBeNull();
    expect(await store.delete('pin-key')).toBe(false);
  });

  it('keeps services apart', async () => {
    await store.set('api-token', 'token-a');
    const other = new KeytarKeyStore(`${service}-other`);
    expect(await other.get('api-token')).toBeNull();
  });

  it('a missing entry is a specific, secret-free error naming the account', async () => {
    const error = await requireEntry(store, 'api-token').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StationError);
    expect((error as StationError).code).toBe('KEYCHAIN_ENTRY_MISSING');
    expect((error as StationError).message).toContain('"api-token"');
  });

  it('rejects a service name that is not a plain identifier', () => {
    expect(() => new KeytarKeyStore('pin station; rm')).toThrow(StationError);
  });

  it('sandbox provisioning creates keys once and keeps them', async () => {
    const first = await ensureSandboxKeys(store, 'gcm');
    expect(first.pinKeyHex).toMatch(/^[0-9A-F]{64}$/);
    expect(first.apiToken.length).toBeGreaterThan(20);
    const second = await ensureSandboxKeys(new KeytarKeyStore(service), 'gcm');
    expect(second).toEqual(first);
  });

  it('sandbox provisioning replaces a malformed pin-key rather than using it', async () => {
    await store.set('pin-key', 'not-hex');
    const keys = await ensureSandboxKeys(store, 'gcm');
    expect(keys.pinKeyHex).toMatch(/^[0-9A-F]{64}$/);
    expect(await store.get('pin-key')).toBe(keys.pinKeyHex);
  });

  it('sandbox provisioning for the default public-key profile keeps no pin-key (and removes one left from gcm practice)', async () => {
    await ensureSandboxKeys(store, 'gcm');
    expect(await store.get('pin-key')).not.toBeNull();
    const keys = await ensureSandboxKeys(store, 'public-key');
    expect(keys.pinKeyHex).toBeNull();
    expect(await store.get('pin-key')).toBeNull();
    expect(keys.apiToken.length).toBeGreaterThan(20);
  });
});
