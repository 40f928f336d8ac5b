/**
 * The encryption profile, as one dispatch: which key a profile needs, how it
 * is checked, and how a PIN is encrypted under it. Secret keys are read per
 * operation through `readKey` and wiped right after use.
 */
import { StationError } from '../../common/errors';
import type { ProfileName } from '../../common/domain';
import { encryptGcm } from './gcm';
import { encryptIso4Hex } from './iso4';
import { parseAes256KeyHex } from './keys';
import { assertProcessorKeyUsable, parseProcessorKey } from './processor-key';
import type { ProcessorKey } from './processor-key';
import { encryptRsaOaep } from './rsa-oaep';

/** The keychain entries the profiles read. */
export type ProfileKeyAccount = 'pin-key' | 'pin-public-key';

/** Reads a keychain entry; rejects when it is missing or the keychain cannot be reached. */
export type KeyReader = (account: ProfileKeyAccount) => Promise<string>;

export interface PinTarget {
  readonly cardId: string;
  /** The card number; only the iso4 profile uses it. */
  readonly pan: string | null;
}

/** What the public-key profile demands of the processor's key at each use. */
export interface ProcessorKeyRules {
  /** processor.publicKeySha256: the pinned key(s); undefined when nothing is pinned. */
  readonly pins: string | readonly string[] | undefined;
  readonly now: Date;
}

/** Reads and parses pin-public-key; KEYCHAIN_ENTRY_MALFORMED (with the fix) when it is neither a certificate nor a key. */
export async function readProcessorKey(readKey: KeyReader): Promise<ProcessorKey> {
  try {
    return parseProcessorKey(await readKey('pin-public-key'));
  } catch (error) {
    if (error instanceof StationError && error.code === 'CRYPTO_FAILED') {
      throw new StationError(
        'KEYCHAIN_ENTRY_MALFORMED',
        'Entry "pin-public-key" must be a PEM certificate or PEM RSA public key of at least 2048 bits. Fix: npm run keys -- import pin-public-key --replace',
      );
    }
    throw error;
  }
}

/**
 * Checks that the key the profile needs is present and well-formed; throws KEYCHAIN_ENTRY_MALFORMED with the fix.
 * With `rules`, the processor's key must also be the pinned one and within its validity. Returns the processor's
 * key for the public-key profile (for its expiry), null otherwise.
 */
export async function checkProfileKey(profile: ProfileName, readKey: KeyReader, rules?: ProcessorKeyRules): Promise<ProcessorKey | null> {
  switch (profile) {
    case 'public-key': {
      const key = await readProcessorKey(readKey);
      if (rules) assertProcessorKeyUsable(key, rules.pins, rules.now);
      return key;
    }
    case 'gcm':
    case 'iso4':
      parseAes256KeyHex(await readKey('pin-key'), 'pin-key').fill(0);
      return null;
  }
}

/**
 * Encrypts the digits for the wire with the profile; a secret key is read now and wiped after use. The processor's
 * key is public: `startKey`, the one this card's Start read and checked, is used when given (no keychain read),
 * else it is read now. Either way it is checked against `rules` again here, at the last moment, so a key that
 * expired since Start is never used.
 */
export async function encryptPin(
  profile: ProfileName,
  readKey: KeyReader,
  digits: Uint8Array,
  target: PinTarget,
  rules: ProcessorKeyRules,
  startKey: ProcessorKey | null = null,
): Promise<string> {
  if (profile === 'public-key') {
    const key = startKey ?? (await readProcessorKey(readKey));
    assertProcessorKeyUsable(key, rules.pins, rules.now);
    return encryptRsaOaep(key.spkiPem, digits, target.cardId);
  }
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
