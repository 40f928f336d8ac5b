/** The trail's HMAC key, `audit-key` in the keychain: read per use, created on the first append, wiped by the caller. */
import { randomBytes } from 'node:crypto';
import { AES256_KEY_HEX } from '../../../common/domain';
import { StationError } from '../../../common/errors';
import type { KeyStore } from '../keystore';

/** Parses the keychain's `audit-key` (64 hex characters) into bytes the caller must zero. */
export function parseAuditKeyHex(value: string): Buffer {
  const trimmed = value.trim();
  if (!AES256_KEY_HEX.test(trimmed)) {
    throw new StationError('KEYCHAIN_ENTRY_MALFORMED', 'Entry "audit-key" must be 64 hexadecimal characters.');
  }
  return Buffer.from(trimmed, 'hex');
}

/** Reads `audit-key` for verify or seal. Never creates it. The caller zeroes the returned bytes. */
export async function readAuditKey(keyStore: KeyStore): Promise<Buffer> {
  const value = await keyStore.get('audit-key');
  if (value === null || value.length === 0) {
    throw new StationError('KEYCHAIN_ENTRY_MISSING', 'Entry "audit-key" was not found; the audit trail can only be checked with the key that wrote it.');
  }
  return parseAuditKeyHex(value);
}

/** For append: creates `audit-key` (32 random bytes, uppercase hex) only while the trail is still empty. */
export async function keyForAppend(keyStore: KeyStore, trailIsEmpty: boolean): Promise<Buffer> {
  const value = await keyStore.get('audit-key');
  if (value !== null && value.length > 0) return parseAuditKeyHex(value);
  if (!trailIsEmpty) {
    throw new StationError(
      'KEYCHAIN_ENTRY_MISSING',
      'Entry "audit-key" was not found, but the audit trail already has records. Restore the key that wrote them; a new key would break the chain.',
    );
  }
  const fresh = randomBytes(32);
  try {
    await keyStore.set('audit-key', fresh.toString('hex').toUpperCase());
  } finally {
    fresh.fill(0);
  }
  // Use what the keychain now holds, so a key that did not persist is caught before a record depends on it.
  const stored = await keyStore.get('audit-key');
  if (stored === null) throw new StationError('KEYCHAIN_UNAVAILABLE', 'The new "audit-key" could not be read back.');
  return parseAuditKeyHex(stored);
}

export async function keyForCheck(keyStore: KeyStore, hasAnything: boolean): Promise<Buffer | null> {
  const value = await keyStore.get('audit-key');
  if (value !== null && value.length > 0) return parseAuditKeyHex(value);
  if (hasAnything) return readAuditKey(keyStore); // throws KEYCHAIN_ENTRY_MISSING
  return null; // first append will create it
}
