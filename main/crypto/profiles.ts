/**
 * The encryption profile, as one dispatch: which key a profile needs, how it
 * is checked, and how a PIN is encrypted under it. Keys are read per
 * operation through `readKey` and wiped right after use.
 */
import { StationError } from '../../common/errors';
import type { ProfileName } from '../../common/domain';
import { encryptGcm } from './gcm';
import { encryptIso4Hex } from './iso4';
import { parseAes256KeyHex } from './keys';
import { encryptRsaOaep, parseRsaPublicKey } from './rsa-oaep';

/** The keychain entries the profiles read. */
export type ProfileKeyAccount = 'pin-key' | 'pin-public-key';

/** Reads a keychain entry; rejects when it is missing or the keychain cannot be reached. */
export type KeyReader = (account: ProfileKeyAccount) => Promise<string>;

export interface PinTarget {
  readonly cardId: string;
  /** The card number; only the iso4 profile uses it. */
  readonly pan: string | null;
}

/** Checks that the key the profile needs is present and well-formed; throws KEYCHAIN_ENTRY_MALFORMED with the fix. */
export async function checkProfileKey(profile: ProfileName, readKey: KeyReader): Promise<void> {
  if (profile === 'rsa-oaep') {
    try {
      parseRsaPublicKey(await readKey('pin-public-key'));
    } catch (error) {
      if (error instanceof StationError && error.code === 'CRYPTO_FAILED') {
        throw new StationError('KEYCHAIN_ENTRY_MALFORMED', 'Entry "pin-public-key" must be a PEM RSA public key of at least 2048 bits.');
      }
      throw error;
    }
    return;
  }
  parseAes256KeyHex(await readKey('pin-key'), 'pin-key').fill(0);
}

/** Encrypts the digits for the wire with the profile; the key is read now and wiped after use. */
export async function encryptPin(profile: ProfileName, readKey: KeyReader, digits: Uint8Array, target: PinTarget): Promise<string> {
  if (profile === 'rsa-oaep') return encryptRsaOaep(await readKey('pin-public-key'), digits, target.cardId);
  const key = parseAes256KeyHex(await readKey('pin-key'), 'pin-key');
  try {
    if (profile === 'iso4') {
      if (target.pan === null) throw new StationError('PAN_INVALID');
      return encryptIso4Hex(key, digits, target.pan);
    }
    return encryptGcm(key, digits, target.cardId);
  } finally {
    key.fill(0);
  }
}
