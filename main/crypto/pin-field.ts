/**
 * ISO 9564-1 format 4 plain-text PIN field, built in a byte array so that the
 * PIN never exists as a JavaScript string.
 * Layout (32 nibbles): 4 | N | P..P (N digits) | A fill up to nibble 16 | 16 random nibbles.
 */
import { PIN_MAX_LENGTH, PIN_MIN_LENGTH } from '../../common/domain';
import { StationError } from '../../common/errors';

export { PIN_MAX_LENGTH, PIN_MIN_LENGTH };
const CONTROL_NIBBLE = 0x4;
const FILL_NIBBLE = 0xa;

export function assertPinDigits(digits: Uint8Array): void {
  if (digits.length < PIN_MIN_LENGTH || digits.length > PIN_MAX_LENGTH) {
    throw new StationError('CRYPTO_FAILED', `A PIN must have ${PIN_MIN_LENGTH} to ${PIN_MAX_LENGTH} digits.`);
  }
  for (const digit of digits) {
    if (digit > 9) throw new StationError('CRYPTO_FAILED', 'A PIN digit is out of range.');
  }
}

/** The 16-byte format 4 plain PIN field. `random8` fills the second half. */
export function encodePinField(digits: Uint8Array, random8: Uint8Array): Uint8Array {
  assertPinDigits(digits);
  if (random8.length !== 8) throw new StationError('CRYPTO_FAILED', 'The PIN field needs exactly 8 random bytes.');
  const nibbles = new Uint8Array(16);
  nibbles[0] = CONTROL_NIBBLE;
  nibbles[1] = digits.length;
  for (let i = 2; i < 16; i++) nibbles[i] = i - 2 < digits.length ? (digits[i - 2] as number) : FILL_NIBBLE;
  const field = new Uint8Array(16);
  for (let i = 0; i < 8; i++) field[i] = ((nibbles[2 * i] as number) << 4) | (nibbles[2 * i + 1] as number);
  field.set(random8, 8);
  nibbles.fill(0);
  return field;
}

/** Reads the digits back out of a format 4 PIN field, rejecting any malformed field. */
export function decodePinField(field: Uint8Array): Uint8Array {
  if (field.length !== 16) throw new StationError('CRYPTO_FAILED', 'A PIN field is 16 bytes.');
  const nibble = (i: number): number => ((field[i >> 1] as number) >> (i % 2 === 0 ? 4 : 0)) & 0x0f;
  if (nibble(0) !== CONTROL_NIBBLE) throw new StationError('CRYPTO_FAILED', 'The PIN field has the wrong control nibble.');
  const length = nibble(1);
  if (length < PIN_MIN_LENGTH || length > PIN_MAX_LENGTH) {
    throw new StationError('CRYPTO_FAILED', 'The PIN field has an invalid PIN length.');
  }
  const digits = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const value = nibble(2 + i);
    if (value > 9) {
      digits.fill(0);
      throw new StationError('CRYPTO_FAILED', 'The PIN field holds a non-decimal digit.');
    }
    digits[i] = value;
  }
  for (let i = 2 + length; i < 16; i++) {
    if (nibble(i) !== FILL_NIBBLE) {
      digits.fill(0);
      throw new StationError('CRYPTO_FAILED', 'The PIN field has an invalid fill.');
    }
  }
  return digits;
}

export function randomBytes(length: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}
