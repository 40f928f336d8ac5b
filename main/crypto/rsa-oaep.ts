/**
 * Profile `rsa-oaep`: a random AES-256 session key seals the PIN field with
 * AES-256-GCM as in `gcm`; the session key is wrapped with RSA-OAEP (SHA-256,
 * MGF1 SHA-256) under the processor's public key. The wrap is node:crypto's
 * (OpenSSL uses the OAEP hash for MGF1 too) because it takes the session key
 * as a Buffer that is zeroed after use; the GCM part is node-forge's AES.
 * Output: base64(wrappedKey || nonce || ciphertext || tag).
 */
import { constants, publicEncrypt, randomFillSync } from 'node:crypto';
import forge from 'node-forge';
import { StationError } from '../../common/errors';
import { base64ToBytes, bytesToBase64, GCM_NONCE_BYTES, GCM_TAG_BYTES, openPinField, sealPinField } from './gcm';
import type { GcmOptions } from './gcm';

export const RSA_MIN_BITS = 2048;
const SESSION_KEY_BYTES = 32;
const SEALED_FIELD_BYTES = GCM_NONCE_BYTES + 16 + GCM_TAG_BYTES;

export interface RsaOaepOptions extends GcmOptions {
  readonly sessionKey?: Uint8Array;
}

function oaepParams(): { md: forge.md.MessageDigest; mgf1: { md: forge.md.MessageDigest } } {
  return { md: forge.md.sha256.create(), mgf1: { md: forge.md.sha256.create() } };
}

/** Parses a PEM public key (SPKI or PKCS#1) and checks it is RSA of at least 2048 bits. */
export function parseRsaPublicKey(pem: string): forge.pki.rsa.PublicKey {
  let key: forge.pki.PublicKey;
  try {
    key = forge.pki.publicKeyFromPem(pem);
  } catch {
    try {
      key = forge.pki.publicKeyFromAsn1(forge.asn1.fromDer(forge.pem.decode(pem)[0]?.body ?? ''));
    } catch {
      throw new StationError('CRYPTO_FAILED', 'The public key is not a PEM RSA public key.');
    }
  }
  const rsa = key as forge.pki.rsa.PublicKey;
  if (!rsa.n || rsa.n.bitLength() < RSA_MIN_BITS) {
    throw new StationError('CRYPTO_FAILED', `The RSA public key must have at least ${RSA_MIN_BITS} bits.`);
  }
  return rsa;
}

export function encryptRsaOaep(publicKeyPem: string, digits: Uint8Array, cardId: string, opts: RsaOaepOptions = {}): string {
  parseRsaPublicKey(publicKeyPem);
  // A Buffer of its own (never the shared pool), so zeroing it wipes the only copy.
  const sessionKey = Buffer.alloc(SESSION_KEY_BYTES);
  if (opts.sessionKey) {
    if (opts.sessionKey.length !== SESSION_KEY_BYTES) throw new StationError('CRYPTO_FAILED', 'The session key is 32 bytes.');
    sessionKey.set(opts.sessionKey);
  } else {
    randomFillSync(sessionKey);
  }
  try {
    const sealedField = sealPinField(sessionKey, digits, cardId, opts);
    // node:crypto wraps a Buffer, so the session key never becomes a string (node-forge's RSA needs one, which cannot be wiped).
    let wrapped: Buffer;
    try {
      wrapped = publicEncrypt({ key: publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, sessionKey);
    } catch {
      throw new StationError('CRYPTO_FAILED', 'The session key could not be wrapped with the public key.');
    }
    const out = new Uint8Array(wrapped.length + sealedField.length);
    out.set(wrapped);
    out.set(sealedField, wrapped.length);
    return bytesToBase64(out);
  } finally {
    sessionKey.fill(0);
  }
}

/** For the sandbox and tests: unwraps the session key and opens the PIN field. */
export function decryptRsaOaep(privateKeyPem: string, b64: string, cardId: string): Uint8Array {
  let privateKey: forge.pki.rsa.PrivateKey;
  try {
    privateKey = forge.pki.privateKeyFromPem(privateKeyPem) as forge.pki.rsa.PrivateKey;
  } catch {
    throw new StationError('CRYPTO_FAILED', 'The private key is not a PEM RSA private key.');
  }
  const modulusBytes = Math.ceil(privateKey.n.bitLength() / 8);
  const sealed = base64ToBytes(b64, 'PIN');
  if (sealed.length !== modulusBytes + SEALED_FIELD_BYTES) throw new StationError('CRYPTO_FAILED', 'The encrypted PIN has the wrong length.');
  let wrapped = '';
  for (const byte of sealed.subarray(0, modulusBytes)) wrapped += String.fromCharCode(byte);
  let keyBinary: string;
  try {
    keyBinary = privateKey.decrypt(wrapped, 'RSA-OAEP', oaepParams());
  } catch {
    throw new StationError('CRYPTO_FAILED', 'The session key could not be unwrapped.');
  }
  if (keyBinary.length !== SESSION_KEY_BYTES) throw new StationError('CRYPTO_FAILED', 'The session key has the wrong length.');
  const sessionKey = Uint8Array.from(keyBinary, (c) => c.charCodeAt(0));
  try {
    return openPinField(sessionKey, sealed.subarray(modulusBytes), cardId);
  } finally {
    sessionKey.fill(0);
  }
}
