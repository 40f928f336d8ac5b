import { constants, createCipheriv, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  aesCmac,
  decipherIso4,
  decodePinField,
  decryptRsaOaep,
  encipherIso4,
  encodePanField,
  encodePinField,
  encryptRsaOaep,
  kcv,
  kcvMatches,
} from '../../main/crypto';
import { WYCHEPROOF_OAEP_PRIVATE_KEY_PEM, WYCHEPROOF_OAEP_TC7 } from '../fixtures/wycheproof-rsa-oaep';
import forge from 'node-forge';

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const digitsOf = (pin: string): Uint8Array => Uint8Array.from(pin, (c) => c.charCodeAt(0) - 48);
const pinOf = (digits: Uint8Array): string => Array.from(digits).join('');

/** Format 4 with node:crypto's AES-ECB: an implementation independent of the product's. */
function iso4WithNodeCrypto(key: Uint8Array, pinField: Uint8Array, panField: Uint8Array): string {
  const ecb = (block: Uint8Array): Buffer => {
    const cipher = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(block), cipher.final()]);
  };
  const a = ecb(pinField);
  for (let i = 0; i < 16; i++) a[i] = (a[i] as number) ^ (panField[i] as number);
  return toHex(ecb(a));
}

describe('ISO 9564-1 format 4 (iso4) — published vectors', () => {
  it('ep2 Security Specification v8.0.0, 8.4 "PIN Encryption" (as carried by psec tests/test_pinblock.py)', () => {
    const digits = decipherIso4(hex('C1D0F8FB4958670DBA40AB1F3752EF0D'), hex('CC17F65586BFD0953010226C4FC5B3CA'), '432198765432109870');
    expect(pinOf(digits)).toBe('1234');
  });

  it('psec / paysec deterministic encipher: PIN 1234, 19-digit PAN, random FF..FF', () => {
    const block = encipherIso4(hex('00112233445566778899AABBCCDDEEFF'), digitsOf('1234'), '1234567890123456789', hex('FFFFFFFFFFFFFFFF'));
    expect(toHex(block)).toBe('28B41FDDD29B743E93124BD8E32D921E');
  });

  it('paysec decipher vectors (16-, 18- and 19-digit PANs) and psec short PAN "1"', () => {
    const key = hex('00112233445566778899AABBCCDDEEFF');
    expect(pinOf(decipherIso4(key, hex('52DB178C6EDCE52E3A70F7FBC8E9C758'), '1234567890123456'))).toBe('1234');
    expect(pinOf(decipherIso4(key, hex('847A0209C659E4C4A79CA6A2A2217D31'), '123456789012345678'))).toBe('123456');
    expect(pinOf(decipherIso4(key, hex('018BFEC8B5EF60181A327AD8325A2BA4'), '1234567890123456789'))).toBe('12345678');
    expect(pinOf(decipherIso4(key, hex('39B69B1B91FE05D48F7EF0D68EB2CBD6'), '1'))).toBe('123456');
  });

  it('psec malformed-block vectors each fail with their own reason', () => {
    expect(() => decipherIso4(hex('E60B15B90ABDF14CEE337C97440F0D6E'), hex('7D5AF4C33667A2098626027FB7A9A1B7'), '4266229809609384667')).toThrow(
      /control nibble/,
    );
    expect(() => decipherIso4(hex('C7BBEBA16C5AD97D5866450718C03750'), hex('2F9C910447F17293EC95DEDE1E3CA201'), '8220499325458689523')).toThrow(/non-decimal/);
    expect(() => decipherIso4(hex('820F6C7C12355BDFF1AB6CE12E8EED89'), hex('CCF310A8300B46C925A86B1098089301'), '939589847393485609')).toThrow(/fill/);
    expect(() => decipherIso4(hex('4FE3F0311936FBCE44F17159F1659CF09B2BF8913BB514A1'), hex('51334B00A6CBA3EC7B1C6F871F060AFC'), '2129100799029059903')).toThrow(
      /length/,
    );
  });

  it('PAN field: M nibble, right zero padding, and left padding for PANs under 12 digits', () => {
    expect(toHex(encodePanField('432198765432109870'))).toBe('64321987654321098700000000000000');
    expect(toHex(encodePanField('1234567890123456789'))).toBe('71234567890123456789000000000000');
    expect(toHex(encodePanField('123456789012'))).toBe('01234567890120000000000000000000');
    expect(toHex(encodePanField('1'))).toBe('00000000000010000000000000000000');
    expect(() => encodePanField('')).toThrow(/PAN/);
    expect(() => encodePanField('12345678901234567890')).toThrow(/PAN/);
    expect(() => encodePanField('1234-5678')).toThrow(/PAN/);
  });

  it('12-digit PINs and AES-256 keys agree with node:crypto and round-trip', () => {
    for (let round = 0; round < 20; round++) {
      const key = Uint8Array.from(randomBytes(32));
      const pin = Uint8Array.from(randomBytes(12), (b) => b % 10);
      const random8 = Uint8Array.from(randomBytes(8));
      const pan = String(4000000000000000 + round * 7919).slice(0, 16);
      const expected = iso4WithNodeCrypto(key, encodePinField(pin, random8), encodePanField(pan));
      const block = encipherIso4(key, pin, pan, random8);
      expect(toHex(block)).toBe(expected);
      expect(Array.from(decipherIso4(key, block, pan))).toEqual(Array.from(pin));
    }
  });

  it('the block is bound to the PAN: another PAN does not yield the PIN', () => {
    const key = Uint8Array.from(randomBytes(32));
    const block = encipherIso4(key, digitsOf('482615'), '4111111111111111');
    let opened: string | null = null;
    try {
      opened = pinOf(decipherIso4(key, block, '4111111111111112'));
    } catch {
      opened = null;
    }
    expect(opened).not.toBe('482615');
  });
});

describe('rsa-oaep profile', () => {
  it('Wycheproof rsa_oaep_2048_sha256_mgf1sha256 tcId 7 decrypts with node-forge and the profile parameters', () => {
    const privateKey = forge.pki.privateKeyFromPem(WYCHEPROOF_OAEP_PRIVATE_KEY_PEM);
    const ct = forge.util.hexToBytes(WYCHEPROOF_OAEP_TC7.ct);
    const msg = privateKey.decrypt(ct, 'RSA-OAEP', { md: forge.md.sha256.create(), mgf1: { md: forge.md.sha256.create() } });
    expect(forge.util.bytesToHex(msg)).toBe(WYCHEPROOF_OAEP_TC7.msg);
  });

  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });

  it('layout wrappedKey(256) || nonce || ciphertext || tag, and node:crypto unwraps the session key', () => {
    const sessionKey = Uint8Array.from(randomBytes(32));
    const nonce = Uint8Array.from(randomBytes(12));
    const random8 = Uint8Array.from(randomBytes(8));
    const b64 = encryptRsaOaep(publicKey, digitsOf('123456789012'), 'CARD-77', { sessionKey, nonce, random8 });
    const sealed = Buffer.from(b64, 'base64');
    expect(sealed.length).toBe(256 + 12 + 16 + 16);
    const unwrapped = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, sealed.subarray(0, 256));
    expect(toHex(unwrapped)).toBe(toHex(sessionKey));
    expect(toHex(sealed.subarray(256, 268))).toBe(toHex(nonce));
    // The GCM part is exactly what node:crypto makes with that session key.
    const cipher = createCipheriv('aes-256-gcm', sessionKey, nonce);
    cipher.setAAD(Buffer.from('CARD-77'));
    const ct = Buffer.concat([cipher.update(encodePinField(digitsOf('123456789012'), random8)), cipher.final()]);
    expect(toHex(sealed.subarray(268))).toBe(toHex(Buffer.concat([ct, cipher.getAuthTag()])));
    expect(pinOf(decryptRsaOaep(privateKey, b64, 'CARD-77'))).toBe('123456789012');
  });

  it('node-forge (an implementation independent of the wrap) unwraps the session key with SHA-256 and MGF1-SHA-256', () => {
    const sessionKey = Uint8Array.from(randomBytes(32));
    const b64 = encryptRsaOaep(publicKey, digitsOf('9071'), 'CARD-80', { sessionKey });
    const wrapped = Buffer.from(b64, 'base64').subarray(0, 256).toString('latin1');
    const forgeKey = forge.pki.privateKeyFromPem(privateKey);
    const unwrapped = forgeKey.decrypt(wrapped, 'RSA-OAEP', { md: forge.md.sha256.create(), mgf1: { md: forge.md.sha256.create() } });
    expect(Buffer.from(unwrapped, 'latin1').toString('hex').toUpperCase()).toBe(toHex(sessionKey));
    // With MGF1-SHA-1 (OpenSSL's default when no OAEP hash is named) the unwrap fails.
    expect(() => forgeKey.decrypt(wrapped, 'RSA-OAEP', { md: forge.md.sha256.create(), mgf1: { md: forge.md.sha1.create() } })).toThrow();
  });

  it('decrypts what node:crypto builds, and refuses the wrong card ID', () => {
    const sessionKey = randomBytes(32);
    const nonce = randomBytes(12);
    const wrapped = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, sessionKey);
    const cipher = createCipheriv('aes-256-gcm', sessionKey, nonce);
    cipher.setAAD(Buffer.from('CARD-78'));
    const ct = Buffer.concat([cipher.update(encodePinField(digitsOf('2468'), Uint8Array.from(randomBytes(8)))), cipher.final()]);
    const b64 = Buffer.concat([wrapped, nonce, ct, cipher.getAuthTag()]).toString('base64');
    expect(pinOf(decryptRsaOaep(privateKey, b64, 'CARD-78'))).toBe('2468');
    expect(() => decryptRsaOaep(privateKey, b64, 'CARD-79')).toThrow(/authentication/);
  });

  it('refuses RSA keys under 2048 bits and non-keys', () => {
    const small = generateKeyPairSync('rsa', {
      modulusLength: 1024,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    expect(() => encryptRsaOaep(small.publicKey, digitsOf('1234'), 'C')).toThrow(/2048/);
    expect(() => encryptRsaOaep('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', digitsOf('1234'), 'C')).toThrow(/public key/);
  });
});

describe('AES-CMAC and key check values', () => {
  // RFC 4493 section 4 (AES-128) and NIST SP 800-38B appendix D.3 (AES-256) examples.
  const rfcKey = hex('2b7e151628aed2a6abf7158809cf4f3c');
  const message = hex('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710');
  it('RFC 4493 examples 1-4', () => {
    expect(toHex(aesCmac(rfcKey, new Uint8Array(0)))).toBe('BB1D6929E95937287FA37D129B756746');
    expect(toHex(aesCmac(rfcKey, message.subarray(0, 16)))).toBe('070A16B46B4D4144F79BDD9DD04A287C');
    expect(toHex(aesCmac(rfcKey, message.subarray(0, 40)))).toBe('DFA66747DE9AE63030CA32611497C827');
    expect(toHex(aesCmac(rfcKey, message))).toBe('51F0BEBF7E3B9D92FC49741779363CFE');
  });
  it('SP 800-38B AES-256 examples (empty and one block)', () => {
    const key = hex('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4');
    expect(toHex(aesCmac(key, new Uint8Array(0)))).toBe('028962F61B7BF89EFC6B551F4667D983');
    expect(toHex(aesCmac(key, message.subarray(0, 16)))).toBe('28A7023F452E8F82BD4BF28D8C37C35C');
  });
  it('KCV: CMAC of a zero block (5 bytes) and ECB of a zero block (3 bytes)', () => {
    // AES-256 all-zero key: ECB(0) = DC95C078A2408989AD48A21492842087 (FIPS-197 style, checked with node:crypto).
    const zeroKey = new Uint8Array(32);
    expect(kcv(zeroKey).legacy).toBe('DC95C0');
    expect(kcv(zeroKey).cmac).toBe(toHex(aesCmac(zeroKey, new Uint8Array(16))).slice(0, 10));
    const key = hex('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4');
    expect(kcv(key).cmac).toBe('1A0B2DF267');
    expect(kcvMatches(key, '1a0b2df267')).toBe(true);
    expect(kcvMatches(key, kcv(key).legacy)).toBe(true);
    expect(kcvMatches(key, '1A0B2DF268')).toBe(false);
    expect(() => kcvMatches(key, 'XYZ')).toThrow(/KCV/);
  });
});

it('decodePinField accepts exactly what encodePinField makes for every length 4..12', () => {
  for (let length = 4; length <= 12; length++) {
    const pin = Uint8Array.from({ length }, (_, i) => (i * 7 + length) % 10);
    expect(Array.from(decodePinField(encodePinField(pin, new Uint8Array(8))))).toEqual(Array.from(pin));
  }
});
