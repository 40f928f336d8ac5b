import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodePinField, decryptGcm, encodePinField, encryptGcm } from '../../main/crypto';
import { openAesGcm, sealAesGcm } from '../../main/crypto/gcm';

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const digitsOf = (pin: string): Uint8Array => Uint8Array.from(pin, (c) => c.charCodeAt(0) - 48);

describe('AES-GCM primitive (node-forge) — published vectors', () => {
  // McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", rev. 2005,
  // Appendix B, test cases 13, 14 and 16 (AES-256); also in NIST CAVP gcmEncryptExtIV256.
  const cases = [
    { name: 'test case 13', key: '00'.repeat(32), iv: '00'.repeat(12), p: '', a: '', c: '', t: '530f8afbc74536b9a963b4f1c4cb738b' },
    {
      name: 'test case 14',
      key: '00'.repeat(32),
      iv: '00'.repeat(12),
      p: '00'.repeat(16),
      a: '',
      c: 'cea7403d4d606b6e074ec5d3baf39d18',
      t: 'd0d1c8a799996bf0265b98b5d48ab919',
    },
    {
      name: 'test case 16',
      key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
      iv: 'cafebabefacedbaddecaf888',
      p: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
      a: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
      c: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
      t: '76fc6ece0f4e1768cddf8853bb2d551b',
    },
  ];
  for (const v of cases) {
    it(`${v.name}: seal and open`, () => {
      expect(toHex(sealAesGcm(hex(v.key), hex(v.iv), hex(v.p), hex(v.a)))).toBe(v.c + v.t);
      expect(toHex(openAesGcm(hex(v.key), hex(v.iv), hex(v.c + v.t), hex(v.a)))).toBe(v.p);
    });
  }

  it('rejects a flipped tag bit, a wrong AAD and a wrong key', () => {
    const v = cases[2] as (typeof cases)[number];
    const sealed = hex(v.c + v.t);
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] as number) ^ 1;
    expect(() => openAesGcm(hex(v.key), hex(v.iv), sealed, hex(v.a))).toThrow(/authentication/);
    expect(() => openAesGcm(hex(v.key), hex(v.iv), hex(v.c + v.t), hex('00'))).toThrow(/authentication/);
    expect(() => openAesGcm(hex('11'.repeat(32)), hex(v.iv), hex(v.c + v.t), hex(v.a))).toThrow(/authentication/);
  });
});

describe('ISO 9564-1 format 4 PIN field', () => {
  it('encodes control nibble, length, digits, A fill and the random half', () => {
    expect(toHex(encodePinField(digitsOf('1234'), hex('b0b1b2b3b4b5b6b7')))).toBe('441234aaaaaaaaaab0b1b2b3b4b5b6b7');
    expect(toHex(encodePinField(digitsOf('123456789012'), hex('0123456789abcdef')))).toBe('4c123456789012aa0123456789abcdef');
    expect(toHex(encodePinField(digitsOf('00000'), hex('ffffffffffffffff')))).toBe('4500000aaaaaaaaaffffffffffffffff');
  });

  it('decodes what it encodes and rejects malformed fields', () => {
    expect(Array.from(decodePinField(hex('4c123456789012aa0123456789abcdef')))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]);
    expect(() => decodePinField(hex('341234aaaaaaaaaab0b1b2b3b4b5b6b7'))).toThrow(/control nibble/);
    expect(() => decodePinField(hex('431234aaaaaaaaaab0b1b2b3b4b5b6b7'))).toThrow(/length/);
    expect(() => decodePinField(hex('4d1234aaaaaaaaaab0b1b2b3b4b5b6b7'))).toThrow(/length/);
    expect(() => decodePinField(hex('4412b4aaaaaaaaaab0b1b2b3b4b5b6b7'))).toThrow(/non-decimal/);
    expect(() => decodePinField(hex('441234aaaaaaaaabb0b1b2b3b4b5b6b7'))).toThrow(/fill/);
  });

  it('refuses PINs outside 4..12 digits and digits above 9', () => {
    expect(() => encodePinField(digitsOf('123'), new Uint8Array(8))).toThrow(/4 to 12/);
    expect(() => encodePinField(digitsOf('1234567890123'), new Uint8Array(8))).toThrow(/4 to 12/);
    expect(() => encodePinField(Uint8Array.from([1, 2, 3, 10]), new Uint8Array(8))).toThrow(/out of range/);
  });
});

describe('profile gcm', () => {
  const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  const nonce = hex('a0a1a2a3a4a5a6a7a8a9aaab');

  it('known answers (expected values computed once with node:crypto and fixed here)', () => {
    expect(encryptGcm(key, digitsOf('1234'), 'CARD-0001', { nonce, random8: hex('b0b1b2b3b4b5b6b7') })).toBe(
      'oKGio6SlpqeoqaqrogpIh+9hqBXS1DVgs892aVHctgXdfyzLRyrrg3UQQng=',
    );
    // 12-digit PIN, non-ASCII card ID: AAD is the UTF-8 encoding.
    expect(encryptGcm(key, digitsOf('123456789012'), 'Карта-7', { nonce, random8: hex('0123456789abcdef') })).toBe(
      'oKGio6SlpqeoqaqrqgpIez1bEBVjRsK0jtENMS93girnhjGaDe3K2dPgXAQ=',
    );
  });

  it('agrees with node:crypto both ways for random keys, PINs and card IDs', () => {
    for (let round = 0; round < 25; round++) {
      const k = Uint8Array.from(randomBytes(32));
      const length = 4 + (round % 9);
      const pin = Uint8Array.from(randomBytes(length), (b) => b % 10);
      const cardId = `CARD-${round}`;
      const b64 = encryptGcm(k, pin, cardId);
      const sealed = Buffer.from(b64, 'base64');
      expect(sealed.length).toBe(12 + 16 + 16);
      const decipher = createDecipheriv('aes-256-gcm', k, sealed.subarray(0, 12));
      decipher.setAAD(Buffer.from(cardId, 'utf8'));
      decipher.setAuthTag(sealed.subarray(28));
      const field = Buffer.concat([decipher.update(sealed.subarray(12, 28)), decipher.final()]);
      expect(Array.from(decodePinField(field))).toEqual(Array.from(pin));

      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', k, iv);
      cipher.setAAD(Buffer.from(cardId, 'utf8'));
      const ct = Buffer.concat([cipher.update(encodePinField(pin, Uint8Array.from(randomBytes(8)))), cipher.final()]);
      const theirs = Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64');
      expect(Array.from(decryptGcm(k, theirs, cardId))).toEqual(Array.from(pin));
    }
  });

  it('round trip, fresh nonce and random half each time', () => {
    const a = encryptGcm(key, digitsOf('2580'), 'C1');
    const b = encryptGcm(key, digitsOf('2580'), 'C1');
    expect(a).not.toBe(b);
    expect(Array.from(decryptGcm(key, a, 'C1'))).toEqual([2, 5, 8, 0]);
  });

  it('decryption fails with the wrong card ID, key, or a damaged message', () => {
    const b64 = encryptGcm(key, digitsOf('2580'), 'C1');
    expect(() => decryptGcm(key, b64, 'C2')).toThrow(/authentication/);
    expect(() => decryptGcm(hex('ff'.repeat(32)), b64, 'C1')).toThrow(/authentication/);
    expect(() => decryptGcm(key, b64.slice(4), 'C1')).toThrow(/length|base64/);
    expect(() => decryptGcm(key, 'not base64!', 'C1')).toThrow(/base64/);
  });

  it('leaves a caller-supplied random half untouched', () => {
    const random8 = hex('0102030405060708');
    encryptGcm(key, digitsOf('2580'), 'C1', { random8 });
    expect(toHex(random8)).toBe('0102030405060708');
  });

  it('error messages never contain the PIN', () => {
    try {
      encryptGcm(hex('00'), digitsOf('918273'), 'C1');
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toMatch(/918273|9,1,8/);
    }
  });
});
