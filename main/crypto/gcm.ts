/**
 * Profile `gcm`: AES-256-GCM over the format 4 PIN field with node-forge.
 * Output: base64(nonce(12) || ciphertext(16) || tag(16)); AAD = UTF-8 card_id.
 */
import forge from 'node-forge';
import { StationError } from '../../common/errors';
import { decodePinField, encodePinField, randomBytes } from './pin-field';

export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;
const FIELD_BYTES = 16;

export interface GcmOptions {
  readonly random8?: Uint8Array;
  readonly nonce?: Uint8Array;
}

// node-forge only accepts binary strings; every one made here stays local to one call.
function toBinary(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += String.fromCharCode(byte);
  return out;
}

function fromBinary(binary: string): Uint8Array {
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export function assertAesKey(key: Uint8Array): void {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new StationError('CRYPTO_FAILED', 'An AES key is 16, 24 or 32 bytes.');
  }
}

/** AES-GCM with a 96-bit nonce and 128-bit tag: returns ciphertext || tag. */
export function sealAesGcm(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  assertAesKey(key);
  if (nonce.length !== GCM_NONCE_BYTES) throw new StationError('CRYPTO_FAILED', 'A GCM nonce is 12 bytes.');
  const cipher = forge.cipher.createCipher('AES-GCM', forge.util.createBuffer(toBinary(key)));
  cipher.start({ iv: toBinary(nonce), additionalData: toBinary(aad), tagLength: GCM_TAG_BYTES * 8 });
  cipher.update(forge.util.createBuffer(toBinary(plaintext)));
  if (!cipher.finish()) throw new StationError('CRYPTO_FAILED');
  return fromBinary(cipher.output.getBytes() + cipher.mode.tag.getBytes());
}

/** Inverse of sealAesGcm; throws CRYPTO_FAILED when the tag does not verify. */
export function openAesGcm(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  assertAesKey(key);
  if (nonce.length !== GCM_NONCE_BYTES || sealed.length < GCM_TAG_BYTES) {
    throw new StationError('CRYPTO_FAILED', 'The encrypted data has the wrong length.');
  }
  const ciphertext = sealed.subarray(0, sealed.length - GCM_TAG_BYTES);
  const tag = sealed.subarray(sealed.length - GCM_TAG_BYTES);
  const decipher = forge.cipher.createDecipher('AES-GCM', forge.util.createBuffer(toBinary(key)));
  decipher.start({
    iv: toBinary(nonce),
    additionalData: toBinary(aad),
    tagLength: GCM_TAG_BYTES * 8,
    tag: forge.util.createBuffer(toBinary(tag)),
  });
  decipher.update(forge.util.createBuffer(toBinary(ciphertext)));
  if (!decipher.finish()) throw new StationError('CRYPTO_FAILED', 'The encrypted data failed authentication.');
  return fromBinary(decipher.output.getBytes());
}

const utf8 = new TextEncoder();

export function encryptGcm(key: Uint8Array, digits: Uint8Array, cardId: string, opts: GcmOptions = {}): string {
  const nonce = opts.nonce ?? randomBytes(GCM_NONCE_BYTES);
  const random8 = opts.random8 ?? randomBytes(8);
  const field = encodePinField(digits, random8);
  try {
    const sealed = sealAesGcm(key, nonce, field, utf8.encode(cardId));
    const out = new Uint8Array(GCM_NONCE_BYTES + sealed.length);
    out.set(nonce, 0);
    out.set(sealed, GCM_NONCE_BYTES);
    return forge.util.encode64(toBinary(out));
  } finally {
    field.fill(0);
    if (!opts.random8) random8.fill(0);
  }
}

/** Decrypts and checks a `gcm` PIN; throws CRYPTO_FAILED on a wrong key, card ID, tag or field. */
export function decryptGcm(key: Uint8Array, b64: string, cardId: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new StationError('CRYPTO_FAILED', 'The PIN is not base64.');
  const sealed = fromBinary(forge.util.decode64(b64));
  if (sealed.length !== GCM_NONCE_BYTES + FIELD_BYTES + GCM_TAG_BYTES) {
    throw new StationError('CRYPTO_FAILED', 'The encrypted PIN has the wrong length.');
  }
  const field = openAesGcm(key, sealed.subarray(0, GCM_NONCE_BYTES), sealed.subarray(GCM_NONCE_BYTES), utf8.encode(cardId));
  try {
    return decodePinField(field);
  } finally {
    field.fill(0);
  }
}
