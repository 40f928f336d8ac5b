/**
 * The rsa-oaep session key is a Buffer handed to node:crypto and zeroed after
 * use: never a string (strings cannot be wiped, and with the ciphertext in the
 * same heap the key yields the PIN). publicEncrypt is wrapped only to keep a
 * reference to the exact buffer it was given, so the test can look at that
 * buffer's bytes once encryption has returned.
 */
import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import type * as NodeCrypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';

const seen = vi.hoisted(() => ({ keys: [] as unknown[], copies: [] as string[] }));

vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof NodeCrypto>();
  return {
    ...original,
    publicEncrypt: (key: NodeCrypto.RsaPublicKey, buffer: NodeJS.ArrayBufferView) => {
      seen.keys.push(buffer);
      seen.copies.push(Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength).toString('hex'));
      return original.publicEncrypt(key, buffer);
    },
  };
});

const { encryptRsaOaep } = await import('../../main/crypto/rsa-oaep');

describe('rsa-oaep session key hygiene', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });

  it('wraps a byte buffer, which holds only zeros once encryption returns', () => {
    seen.keys.length = 0;
    seen.copies.length = 0;
    const b64 = encryptRsaOaep(publicKey, Uint8Array.of(5, 8, 2, 7), 'CARD-1');
    expect(seen.keys).toHaveLength(1);
    const given = seen.keys[0];
    expect(typeof given).not.toBe('string');
    expect(given).toBeInstanceOf(Uint8Array);
    const bytes = given as Uint8Array;
    expect(bytes.length).toBe(32);
    // It was a real random key while it was wrapped...
    const atWrap = seen.copies[0] as string;
    expect(atWrap).not.toBe('00'.repeat(32));
    const unwrapped = privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from(b64, 'base64').subarray(0, 256),
    );
    expect(unwrapped.toString('hex')).toBe(atWrap);
    // ...and nothing of it is left in the buffer afterwards.
    expect(Array.from(bytes).every((b) => b === 0)).toBe(true);
    // The buffer is the whole of its own memory, not a slice of Node's shared pool that other code could read.
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(32);
  });

  it('a caller-supplied session key (known-answer tests) is copied, and the copy is wiped', () => {
    seen.keys.length = 0;
    const supplied = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    encryptRsaOaep(publicKey, Uint8Array.of(5, 8, 2, 7), 'CARD-2', { sessionKey: supplied });
    expect(Array.from(seen.keys[0] as Uint8Array).every((b) => b === 0)).toBe(true);
    expect(supplied[0]).toBe(1);
  });
});
