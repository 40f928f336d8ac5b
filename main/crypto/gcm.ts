/**
 * AES-GCM (NIST SP 800-38D) composed from node-forge's AES block primitive,
 * so the plaintext — the PIN field — is only ever in Uint8Arrays. GHASH runs
 * over the AAD and the ciphertext, never over the plaintext.
 *
 * Profile `gcm`: AES-256-GCM over the format 4 PIN field, 12-byte random
 * nonce, AAD = UTF-8 card_id, 16-byte tag; base64(nonce || ciphertext || tag).
 */
import forge from 'node-forge';
import { StationError } from '../../common/errors';
import { AES_BLOCK_BYTES, bytesEqual, withAes } from './aes-block';
import type { AesBlockCipher } from './aes-block';
import { decodePinField, encodePinField, randomBytes } from './pin-field';

export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;
const FIELD_BYTES = 16;
const R_HIGH_WORD = 0xe1000000;

export interface GcmOptions {
  readonly random8?: Uint8Array;
  readonly nonce?: Uint8Array;
}

/** Multiplication in GF(2^128) with GCM's bit order (SP 800-38D, Algorithm 1), on 4 big-endian words. */
function gfMultiply(x: number[], y: number[]): number[] {
  const z = [0, 0, 0, 0];
  const v = y.slice();
  for (let i = 0; i < 128; i++) {
    if (((x[i >>> 5] as number) >>> (31 - (i & 31))) & 1) {
      for (let k = 0; k < 4; k++) z[k] = ((z[k] as number) ^ (v[k] as number)) >>> 0;
    }
    const lsb = (v[3] as number) & 1;
    for (let k = 3; k > 0; k--) v[k] = (((v[k] as number) >>> 1) | (((v[k - 1] as number) & 1) << 31)) >>> 0;
    v[0] = ((v[0] as number) >>> 1) >>> 0;
    if (lsb) v[0] = ((v[0] as number) ^ R_HIGH_WORD) >>> 0;
  }
  return z;
}

function blockToWords(block: Uint8Array, offset: number): number[] {
  const words = [0, 0, 0, 0];
  for (let k = 0; k < 4; k++) {
    const o = offset + 4 * k;
    words[k] = (((block[o] ?? 0) << 24) | ((block[o + 1] ?? 0) << 16) | ((block[o + 2] ?? 0) << 8) | (block[o + 3] ?? 0)) >>> 0;
  }
  return words;
}

/** GHASH_H over (A padded) || (C padded) || len64(A) || len64(C). */
function ghash(h: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const hWords = blockToWords(h, 0);
  let y = [0, 0, 0, 0];
  const absorb = (data: Uint8Array): void => {
    for (let offset = 0; offset < data.length; offset += AES_BLOCK_BYTES) {
      const block = new Uint8Array(AES_BLOCK_BYTES);
      block.set(data.subarray(offset, Math.min(offset + AES_BLOCK_BYTES, data.length)));
      const x = blockToWords(block, 0);
      y = gfMultiply(
        y.map((w, k) => (w ^ (x[k] as number)) >>> 0),
        hWords,
      );
    }
  };
  absorb(aad);
  absorb(ciphertext);
  const lengths = new Uint8Array(AES_BLOCK_BYTES);
  const view = new DataView(lengths.buffer);
  view.setUint32(4, aad.length * 8);
  view.setUint32(12, ciphertext.length * 8);
  absorb(lengths);
  const out = new Uint8Array(AES_BLOCK_BYTES);
  const outView = new DataView(out.buffer);
  y.forEach((w, k) => outView.setUint32(4 * k, w));
  hWords.fill(0);
  return out;
}

function incrementCounter(counter: Uint8Array): void {
  const view = new DataView(counter.buffer, counter.byteOffset, counter.byteLength);
  view.setUint32(12, (view.getUint32(12) + 1) >>> 0);
}

/** CTR keystream from inc32(J0) on; XORs `input` into `output`. */
function gctr(aes: AesBlockCipher, j0: Uint8Array, input: Uint8Array, output: Uint8Array): void {
  const counter = j0.slice();
  const keystream = new Uint8Array(AES_BLOCK_BYTES);
  for (let offset = 0; offset < input.length; offset += AES_BLOCK_BYTES) {
    incrementCounter(counter);
    aes.encryptBlock(counter, keystream);
    const end = Math.min(offset + AES_BLOCK_BYTES, input.length);
    for (let i = offset; i < end; i++) output[i] = (input[i] as number) ^ (keystream[i - offset] as number);
  }
  keystream.fill(0);
}

function tagFor(aes: AesBlockCipher, j0: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const h = new Uint8Array(AES_BLOCK_BYTES);
  aes.encryptBlock(new Uint8Array(AES_BLOCK_BYTES), h);
  const tag = ghash(h, aad, ciphertext);
  const ekj0 = new Uint8Array(AES_BLOCK_BYTES);
  aes.encryptBlock(j0, ekj0);
  for (let i = 0; i < AES_BLOCK_BYTES; i++) tag[i] = (tag[i] as number) ^ (ekj0[i] as number);
  h.fill(0);
  ekj0.fill(0);
  return tag;
}

function initialCounter(nonce: Uint8Array): Uint8Array {
  if (nonce.length !== GCM_NONCE_BYTES) throw new StationError('CRYPTO_FAILED', 'A GCM nonce is 12 bytes.');
  const j0 = new Uint8Array(AES_BLOCK_BYTES);
  j0.set(nonce);
  j0[15] = 1;
  return j0;
}

/** AES-GCM with a 96-bit nonce and 128-bit tag: returns ciphertext || tag. */
export function sealAesGcm(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const j0 = initialCounter(nonce);
  return withAes(key, (aes) => {
    const out = new Uint8Array(plaintext.length + GCM_TAG_BYTES);
    const ciphertext = out.subarray(0, plaintext.length);
    gctr(aes, j0, plaintext, ciphertext);
    out.set(tagFor(aes, j0, aad, ciphertext), plaintext.length);
    return out;
  });
}

/** Inverse of sealAesGcm; checks the tag before decrypting and throws CRYPTO_FAILED when it does not verify. */
export function openAesGcm(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  if (sealed.length < GCM_TAG_BYTES) throw new StationError('CRYPTO_FAILED', 'The encrypted data has the wrong length.');
  const j0 = initialCounter(nonce);
  return withAes(key, (aes) => {
    const ciphertext = sealed.subarray(0, sealed.length - GCM_TAG_BYTES);
    const expected = tagFor(aes, j0, aad, ciphertext);
    if (!bytesEqual(expected, sealed.subarray(sealed.length - GCM_TAG_BYTES))) {
      throw new StationError('CRYPTO_FAILED', 'The encrypted data failed authentication.');
    }
    const plaintext = new Uint8Array(ciphertext.length);
    gctr(aes, j0, ciphertext, plaintext);
    return plaintext;
  });
}

const utf8 = new TextEncoder();

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return forge.util.encode64(binary);
}

export function base64ToBytes(b64: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new StationError('CRYPTO_FAILED', `The ${what} is not base64.`);
  const binary = forge.util.decode64(b64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** nonce || ciphertext || tag over the PIN field; shared by the gcm and rsa-oaep profiles. */
export function sealPinField(key: Uint8Array, digits: Uint8Array, cardId: string, opts: GcmOptions = {}): Uint8Array {
  const nonce = opts.nonce ?? randomBytes(GCM_NONCE_BYTES);
  const random8 = opts.random8 ?? randomBytes(8);
  const field = encodePinField(digits, random8);
  try {
    const sealed = sealAesGcm(key, nonce, field, utf8.encode(cardId));
    const out = new Uint8Array(GCM_NONCE_BYTES + sealed.length);
    out.set(nonce, 0);
    out.set(sealed, GCM_NONCE_BYTES);
    return out;
  } finally {
    field.fill(0);
    if (!opts.random8) random8.fill(0);
  }
}

export function openPinField(key: Uint8Array, sealed: Uint8Array, cardId: string): Uint8Array {
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

export function encryptGcm(key: Uint8Array, digits: Uint8Array, cardId: string, opts: GcmOptions = {}): string {
  return bytesToBase64(sealPinField(key, digits, cardId, opts));
}

/** Decrypts and checks a `gcm` PIN; throws CRYPTO_FAILED on a wrong key, card ID, tag or field. */
export function decryptGcm(key: Uint8Array, b64: string, cardId: string): Uint8Array {
  return openPinField(key, base64ToBytes(b64, 'PIN'), cardId);
}
