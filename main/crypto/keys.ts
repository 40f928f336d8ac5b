import { AES256_KEY_HEX } from '../../common/domain';
import { StationError } from '../../common/errors';

/** Parses a 64-hex-character AES-256 key as stored in the keychain. */
export function parseAes256KeyHex(value: string, account: string): Uint8Array {
  const trimmed = value.trim();
  if (!AES256_KEY_HEX.test(trimmed)) {
    throw new StationError('KEYCHAIN_ENTRY_MALFORMED', `Entry "${account}" must be 64 hexadecimal characters (AES-256).`);
  }
  const key = new Uint8Array(32);
  for (let i = 0; i < 32; i++) key[i] = Number.parseInt(trimmed.slice(2 * i, 2 * i + 2), 16);
  return key;
}

export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out.toUpperCase();
}
