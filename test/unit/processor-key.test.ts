/** The processor's key as the keychain holds it: a certificate (with its validity) or a bare key; its pin and expiry. */
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { thrownStationError } from '../helpers/station-error';
import { assertProcessorKeyUsable, daysToExpiry, parseProcessorKey, processorKeyEntry } from '../../main/crypto/processor-key';
import { parseConfig } from '../../main/core/config';
import { issueProcessorCertificate } from '../../sandbox/certificate';

const DAY = 86_400_000;
const pair = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const spkiSha256 = createHash('sha256')
  .update(createPublicKey(pair.publicKey).export({ type: 'spki', format: 'der' }))
  .digest('hex');
const notBefore = new Date(Date.UTC(2026, 0, 1));
const notAfter = new Date(Date.UTC(2027, 0, 1));
const certificate = issueProcessorCertificate({ publicKeyPem: pair.publicKey, signingKeyPem: pair.privateKey, notBefore, notAfter });

describe('parseProcessorKey', () => {
  it('a certificate gives its key, the SPKI SHA-256 (and its first 10 as the KCV) and its validity period', () => {
    const key = parseProcessorKey(certificate);
    expect(key.sha256).toBe(spkiSha256);
    expect(key.kcv).toBe(spkiSha256.slice(0, 10).toUpperCase());
    expect(key.bits).toBe(2048);
    expect(key.notBefore?.toISOString()).toBe(notBefore.toISOString());
    expect(key.notAfter?.toISOString()).toBe(notAfter.toISOString());
    expect(createPublicKey(key.spkiPem).export({ type: 'spki', format: 'pem' })).toBe(pair.publicKey);
  });

  it('a bare key (SPKI or PKCS#1) has the same fingerprint and no validity', () => {
    const pkcs1 = createPublicKey(pair.publicKey).export({ type: 'pkcs1', format: 'pem' }).toString();
    for (const pem of [pair.publicKey, pkcs1]) {
      const key = parseProcessorKey(pem);
      expect(key.sha256).toBe(spkiSha256);
      expect(key.notAfter).toBeNull();
      expect(daysToExpiry(key, new Date())).toBeNull();
    }
  });

  it('refuses a damaged certificate, a non-key and a small key', () => {
    expect(thrownStationError(() => parseProcessorKey(`${certificate.slice(0, 300)}\n-----END CERTIFICATE-----\n`)).code).toBe('CRYPTO_FAILED');
    expect(thrownStationError(() => parseProcessorKey('not a key')).code).toBe('CRYPTO_FAILED');
    const small = generateKeyPairSync('rsa', {
      modulusLength: 1024,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    expect(thrownStationError(() => parseProcessorKey(small.publicKey)).code).toBe('CRYPTO_FAILED');
  });

  it('the same text read again (once per PIN) is not parsed again; another text is, and a bad one still fails', () => {
    const first = parseProcessorKey(certificate);
    expect(parseProcessorKey(certificate)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    const other = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const swapped = parseProcessorKey(other.publicKey);
    expect(swapped.sha256).not.toBe(first.sha256);
    expect(parseProcessorKey(certificate)).not.toBe(swapped);
    expect(parseProcessorKey(certificate).sha256).toBe(spkiSha256);
    expect(thrownStationError(() => parseProcessorKey('not a key')).code).toBe('CRYPTO_FAILED');
  });

  it('the stored entry is the certificate itself (dates and key together), or the key as SPKI PEM', () => {
    expect(processorKeyEntry(`\n${certificate}\n`)).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    expect(parseProcessorKey(processorKeyEntry(certificate)).notAfter?.toISOString()).toBe(notAfter.toISOString());
    expect(processorKeyEntry(createPublicKey(pair.publicKey).export({ type: 'pkcs1', format: 'pem' }).toString())).toBe(pair.publicKey);
  });
});

describe('assertProcessorKeyUsable', () => {
  const key = parseProcessorKey(certificate);
  const inside = new Date(notAfter.getTime() - 10 * DAY);

  it('days to expiry count whole days, negative once past', () => {
    expect(daysToExpiry(key, inside)).toBe(10);
    expect(daysToExpiry(key, new Date(notAfter.getTime() + DAY + 1))).toBe(-2);
  });

  it('passes with no pin, the right pin (any case) or a list holding it', () => {
    for (const pins of [undefined, spkiSha256, spkiSha256.toUpperCase(), ['0'.repeat(64), spkiSha256]]) {
      expect(() => assertProcessorKeyUsable(key, pins, inside)).not.toThrow();
    }
  });

  it('another pinned key is PROCESSOR_KEY_MISMATCH, naming the KCV found', () => {
    const error = thrownStationError(() => assertProcessorKeyUsable(key, 'ab'.repeat(32), inside));
    expect(error.code).toBe('PROCESSOR_KEY_MISMATCH');
    expect(error.message).toContain(key.kcv);
  });

  it('after notAfter, or before notBefore, is PROCESSOR_KEY_EXPIRED', () => {
    expect(thrownStationError(() => assertProcessorKeyUsable(key, undefined, new Date(notAfter.getTime() + 1000))).code).toBe('PROCESSOR_KEY_EXPIRED');
    expect(thrownStationError(() => assertProcessorKeyUsable(key, undefined, new Date(notBefore.getTime() - 1000))).code).toBe('PROCESSOR_KEY_EXPIRED');
  });
});

describe('config', () => {
  it('the default profile is public-key; "rsa-oaep" is accepted as its earlier name', () => {
    expect(parseConfig({}).profile).toBe('public-key');
    expect(parseConfig({ profile: 'rsa-oaep' }).profile).toBe('public-key');
    expect(parseConfig({ profile: 'gcm' }).profile).toBe('gcm');
  });

  it('a pinned public key cannot be dropped by switching to a symmetric profile', () => {
    for (const profile of ['gcm', 'iso4'] as const) {
      const error = thrownStationError(() => parseConfig({ profile, processor: { publicKeySha256: spkiSha256 } }));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toContain('needs profile "public-key"');
    }
    expect(parseConfig({ profile: 'rsa-oaep', processor: { publicKeySha256: spkiSha256 } }).profile).toBe('public-key');
  });

  it('processor.publicKeySha256 takes 64 hex characters, or a list of them during a rotation', () => {
    expect(parseConfig({ processor: { publicKeySha256: spkiSha256 } }).processor.publicKeySha256).toBe(spkiSha256);
    expect(parseConfig({ processor: { publicKeySha256: [spkiSha256, 'AB'.repeat(32)] } }).processor.publicKeySha256).toHaveLength(2);
    for (const bad of [spkiSha256.slice(0, 10), `${spkiSha256}00`, 'x'.repeat(64), []]) {
      const error = thrownStationError(() => parseConfig({ processor: { publicKeySha256: bad } }));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toContain('processor.publicKeySha256');
    }
  });
});
