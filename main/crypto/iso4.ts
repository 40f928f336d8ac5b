/**
 * Profile `iso4`: ISO 9564-1 format 4 PIN block under an AES key.
 * A = AES(K, PIN field); B = A xor PAN field; block = AES(K, B).
 */
import { StationError } from '../../common/errors';
import { AES_BLOCK_BYTES, withAes, xorInto } from './aes-block';
import { decodePinField, encodePinField, randomBytes } from './pin-field';

export const PAN_MIN_DIGITS = 1;
export const PAN_MAX_DIGITS = 19;

/**
 * The 16-byte format 4 PAN field: nibble M = (PAN length - 12), then the PAN,
 * zero-padded on the right; a PAN shorter than 12 digits is left-padded with
 * zeros to 12 digits and M = 0.
 */
export function encodePanField(pan: string): Uint8Array {
  if (!/^\d+$/.test(pan) || pan.length < PAN_MIN_DIGITS || pan.length > PAN_MAX_DIGITS) {
    throw new StationError('CRYPTO_FAILED', `A PAN is ${PAN_MIN_DIGITS} to ${PAN_MAX_DIGITS} decimal digits.`);
  }
  const digits = pan.length < 12 ? pan.padStart(12, '0') : pan;
  const nibbles = new Uint8Array(32);
  nibbles[0] = digits.length - 12;
  for (let i = 0; i < digits.length; i++) nibbles[1 + i] = digits.charCodeAt(i) - 48;
  const field = new Uint8Array(16);
  for (let i = 0; i < 16; i++) field[i] = ((nibbles[2 * i] as number) << 4) | (nibbles[2 * i + 1] as number);
  return field;
}

/** Enciphers a format 4 PIN block; returns the 16-byte block. */
export function encipherIso4(key: Uint8Array, digits: Uint8Array, pan: string, random8?: Uint8Array): Uint8Array {
  const panField = encodePanField(pan);
  const ownRandom = random8 ?? randomBytes(8);
  const pinField = encodePinField(digits, ownRandom);
  const intermediate = new Uint8Array(AES_BLOCK_BYTES);
  try {
    return withAes(key, (aes) => {
      aes.encryptBlock(pinField, intermediate);
      xorInto(intermediate, panField);
      const block = new Uint8Array(AES_BLOCK_BYTES);
      aes.encryptBlock(intermediate, block);
      return block;
    });
  } finally {
    pinField.fill(0);
    intermediate.fill(0);
    if (!random8) ownRandom.fill(0);
  }
}

/** Deciphers a format 4 PIN block; throws CRYPTO_FAILED on a malformed field (wrong key or PAN included). */
export function decipherIso4(key: Uint8Array, block: Uint8Array, pan: string): Uint8Array {
  if (block.length !== AES_BLOCK_BYTES) throw new StationError('CRYPTO_FAILED', 'A format 4 PIN block is 16 bytes.');
  const panField = encodePanField(pan);
  const intermediate = new Uint8Array(AES_BLOCK_BYTES);
  const pinField = new Uint8Array(AES_BLOCK_BYTES);
  try {
    withAes(key, (aes) => {
      aes.decryptBlock(block, intermediate);
      xorInto(intermediate, panField);
      aes.decryptBlock(intermediate, pinField);
    });
    return decodePinField(pinField);
  } finally {
    pinField.fill(0);
    intermediate.fill(0);
  }
}

/** The block as the wire carries it: 32 uppercase hex characters. */
export function encryptIso4Hex(key: Uint8Array, digits: Uint8Array, pan: string, random8?: Uint8Array): string {
  const block = encipherIso4(key, digits, pan, random8);
  let hex = '';
  for (const byte of block) hex += byte.toString(16).padStart(2, '0');
  return hex.toUpperCase();
}

export function decryptIso4Hex(key: Uint8Array, hex: string, pan: string): Uint8Array {
  if (!/^[0-9A-Fa-f]{32}$/.test(hex)) throw new StationError('CRYPTO_FAILED', 'A format 4 PIN block is 32 hexadecimal characters.');
  const block = new Uint8Array(16);
  for (let i = 0; i < 16; i++) block[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return decipherIso4(key, block, pan);
}
