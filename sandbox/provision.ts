/** Sandbox keys: made on first run and kept in the keychain under the sandbox's own service name. */
import { randomBytes } from 'node:crypto';
import { AES256_KEY_HEX } from '../common/domain';
import type { SandboxKeys, SandboxProfile } from './processor';

/**
 * The part of the station's keychain the emulator fills: the entries it provisions. Stated here, not imported from
 * main, so the emulator depends on nothing of the station; the station's KeyStore has this shape.
 */
export interface SandboxKeychain {
  get(account: SandboxAccount): Promise<string | null>;
  set(account: SandboxAccount, value: string): Promise<void>;
  delete(account: SandboxAccount): Promise<boolean>;
}
export type SandboxAccount = 'pin-key' | 'api-token' | 'pin-public-key';

export const SANDBOX_KEYCHAIN_SERVICE = 'pin-station-sandbox';

/** The api-token, and a pin-key only for a profile that needs one (gcm, iso4): the default profile holds none. */
export async function ensureSandboxKeys(
  store: SandboxKeychain,
  profile: SandboxProfile,
): Promise<Omit<SandboxKeys, 'pinKeyHex'> & { pinKeyHex: string | null }> {
  let pinKeyHex = await store.get('pin-key');
  if (profile === 'public-key') {
    // Practice under the default profile shows what a real station holds: no secret that opens a PIN.
    if (pinKeyHex !== null) await store.delete('pin-key');
    pinKeyHex = null;
  } else if (pinKeyHex === null || !AES256_KEY_HEX.test(pinKeyHex)) {
    pinKeyHex = randomBytes(32).toString('hex').toUpperCase();
    await store.set('pin-key', pinKeyHex);
  }
  let apiToken = await store.get('api-token');
  if (apiToken === null || apiToken.length === 0) {
    apiToken = `sandbox-${randomBytes(24).toString('base64url')}`;
    await store.set('api-token', apiToken);
  }
  return { pinKeyHex, apiToken };
}
