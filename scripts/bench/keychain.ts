/**
 * Keychain read latency: KeytarKeyStore.get('pin-key') against the private
 * Secret Service that scripts/with-test-keyring.sh starts (its own D-Bus
 * session and gnome-keyring-daemon), one read at a time, as the station reads.
 */
import { randomBytes } from 'node:crypto';
import { KeytarKeyStore } from '../../main/core/keytar-store';
import { summarize } from './stats';
import type { Summary } from './stats';

export interface KeychainOptions {
  readonly n: number;
  readonly warmup: number;
}

export interface KeychainResult {
  readonly backend: string;
  readonly readMs: Summary;
}

/** True when the process runs inside scripts/with-test-keyring.sh (never the developer's own keychain). */
export function inPrivateKeyring(): boolean {
  return process.env.PIN_STATION_TEST_KEYRING === '1';
}

export async function runKeychainBench(options: KeychainOptions): Promise<KeychainResult> {
  const store = new KeytarKeyStore(`pin-station-bench-${randomBytes(6).toString('hex')}`);
  const value = randomBytes(32).toString('hex').toUpperCase();
  await store.set('pin-key', value);
  const samples: number[] = [];
  try {
    for (let i = 0; i < options.warmup + options.n; i++) {
      const t0 = performance.now();
      const read = await store.get('pin-key');
      const ms = performance.now() - t0;
      if (read !== value) throw new Error('keychain read returned a different value');
      if (i >= options.warmup) samples.push(ms);
    }
  } finally {
    await store.delete('pin-key').catch(() => false);
  }
  return { backend: 'keytar -> libsecret -> private gnome-keyring-daemon (D-Bus)', readMs: summarize(samples) };
}
