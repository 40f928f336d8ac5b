/**
 * The processor's PIN-encryption key as the keychain entry `pin-public-key`
 * (and `pin-public-key-next`) holds it: either an X.509 certificate (PEM),
 * which carries its validity period, or a bare public key (SPKI PEM), whose
 * expiry is unknown. The entry is the certificate itself rather than a key
 * plus dates, so the dates cannot be edited apart from the key they belong to.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { StationError } from '../../common/errors';
import { parseRsaPublicKey } from './rsa-oaep';

const CERTIFICATE_PEM = /-----BEGIN CERTIFICATE-----/;
const DAY_MS = 86_400_000;

export interface ProcessorKey {
  /** The public key as SPKI PEM: what the wrap uses. */
  readonly spkiPem: string;
  /** SHA-256 of the DER SubjectPublicKeyInfo, 64 lowercase hex (processor.publicKeySha256). */
  readonly sha256: string;
  /** The keys CLI's fingerprint KCV: the first 10 hex characters of sha256, uppercase. */
  readonly kcv: string;
  readonly bits: number;
  /** The certificate's validity; null for a bare key. */
  readonly notBefore: Date | null;
  readonly notAfter: Date | null;
}

/** Parses a certificate or public-key PEM; CRYPTO_FAILED when it is neither, or not RSA of 2048+ bits. */
function parseProcessorKeyNow(text: string): ProcessorKey {
  let spkiPem: string;
  let notBefore: Date | null = null;
  let notAfter: Date | null = null;
  if (CERTIFICATE_PEM.test(text)) {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(text);
    } catch {
      throw new StationError('CRYPTO_FAILED', 'The certificate is not a readable X.509 PEM certificate.');
    }
    spkiPem = certificate.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    notBefore = new Date(certificate.validFrom);
    notAfter = new Date(certificate.validTo);
    if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
      throw new StationError('CRYPTO_FAILED', "The certificate's validity period could not be read.");
    }
  } else {
    spkiPem = text;
  }
  const rsa = parseRsaPublicKey(spkiPem);
  let der: Buffer;
  try {
    // One DER encoding whether the PEM was SPKI or PKCS#1, so the fingerprint is the key's, not the file's.
    der = createPublicKey(spkiPem).export({ type: 'spki', format: 'der' });
  } catch {
    throw new StationError('CRYPTO_FAILED', 'The public key is not a PEM RSA public key.');
  }
  const sha256 = createHash('sha256').update(der).digest('hex');
  return {
    spkiPem: createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString(),
    sha256,
    kcv: sha256.slice(0, 10).toUpperCase(),
    bits: rsa.n.bitLength(),
    notBefore,
    notAfter,
  };
}

/** What the keychain stores for a certificate or key PEM: the certificate re-encoded, or the key as SPKI PEM. */
export function processorKeyEntry(text: string): string {
  const key = parseProcessorKey(text);
  return CERTIFICATE_PEM.test(text) ? new X509Certificate(text).toString() : key.spkiPem;
}

/** Whole days until notAfter (negative once past it); null when no expiry is known. */
export function daysToExpiry(key: Pick<ProcessorKey, 'notAfter'>, now: Date): number | null {
  if (key.notAfter === null) return null;
  return Math.floor((key.notAfter.getTime() - now.getTime()) / DAY_MS);
}

/** True when `pins` (processor.publicKeySha256) is unset or names this key. */
export function matchesPin(key: ProcessorKey, pins: string | readonly string[] | undefined): boolean {
  if (pins === undefined) return true;
  const list = typeof pins === 'string' ? [pins] : pins;
  return list.some((pin) => pin.toLowerCase() === key.sha256);
}

/**
 * Refuses a key the station must not send under: not the pinned one (PROCESSOR_KEY_MISMATCH), or outside its
 * certificate's validity (PROCESSOR_KEY_EXPIRED). Messages name fingerprints and dates, never key material.
 */
export function assertProcessorKeyUsable(key: ProcessorKey, pins: string | readonly string[] | undefined, now: Date): void {
  if (!matchesPin(key, pins)) {
    throw new StationError(
      'PROCESSOR_KEY_MISMATCH',
      `The keychain's key has KCV ${key.kcv}. Import the processor's key (npm run keys -- import pin-public-key --replace) or correct the pin.`,
    );
  }
  if (key.notAfter !== null && now.getTime() > key.notAfter.getTime()) {
    throw new StationError(
      'PROCESSOR_KEY_EXPIRED',
      `It expired on ${key.notAfter.toISOString()}. Import the processor's new certificate (npm run keys -- import pin-public-key --replace).`,
    );
  }
  if (key.notBefore !== null && now.getTime() < key.notBefore.getTime()) {
    throw new StationError('PROCESSOR_KEY_EXPIRED', `It is not valid before ${key.notBefore.toISOString()}.`);
  }
}

/**
 * The key last parsed, by its exact text. The keychain is still read per PIN (a swapped key is a different text
 * and is parsed afresh), but parsing the same certificate again (X.509, then node-forge's RSA parse) cost more
 * per PIN than the RSA-OAEP wrap itself. A public key: nothing secret is kept.
 */
let lastParsed: { readonly text: string; readonly key: ProcessorKey } | null = null;

export function parseProcessorKey(text: string): ProcessorKey {
  if (lastParsed !== null && lastParsed.text === text) return lastParsed.key;
  const key = Object.freeze(parseProcessorKeyNow(text));
  lastParsed = { text, key };
  return key;
}
