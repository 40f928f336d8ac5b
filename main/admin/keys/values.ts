/** What `npm run keys` checks of a value before storing it, and how it describes a stored one; never the value itself. */
import { AES256_KEY_HEX, PRINTABLE_TOKEN } from '../../../common/domain';
import forge from 'node-forge';
import { StationError } from '../../../common/errors';
import { checkShipKey } from '../../core/audit';
import type { ShipKeyCheck } from '../../core/audit';
import { daysToExpiry, kcv, kcvMatches, parseAes256KeyHex, parseProcessorKey, processorKeyEntry, RSA_MIN_BITS } from '../../crypto';
import type { ProcessorKey } from '../../crypto';
import { AES_ACCOUNTS, API_TOKEN_MAX, API_TOKEN_MIN } from './args';
import type { KeyAccount } from './args';

export type Check<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export interface AesInfo {
  readonly cmac: string;
  readonly legacy: string;
}
export interface PublicKeyInfo {
  readonly bits: number;
  readonly fingerprint: string;
  /** What gets stored: the certificate re-encoded, or the key as an SPKI PEM. */
  readonly pem: string;
  readonly key: ProcessorKey;
}

/** Checks a 64-hex AES-256 key and computes both KCVs; with `givenKcv`, also whether it matches. */
export function checkAesKey(value: string, account: KeyAccount, givenKcv?: string): Check<AesInfo & { matches: boolean }> {
  const problem = aesHexProblem(value);
  if (problem !== null) return { ok: false, reason: problem };
  const key = parseAes256KeyHex(value, account);
  try {
    const values = kcv(key);
    const matches = givenKcv !== undefined && kcvMatches(key, givenKcv);
    return { ok: true, value: { cmac: values.cmac, legacy: values.legacy, matches } };
  } finally {
    key.fill(0);
  }
}

/** Why `value` is not 64 hex characters (the rule of a whole AES-256 key and of a component), or null. */
export function aesHexProblem(value: string): string | null {
  if (value.length !== 64) return `must be exactly 64 hexadecimal characters (AES-256), but ${value.length} were given`;
  if (!AES256_KEY_HEX.test(value)) return 'must contain only hexadecimal characters (0-9, a-f, A-F), but it contains other characters';
  return null;
}

function rsaBitsIfReadable(pem: string): number | null {
  try {
    const key = forge.pki.publicKeyFromPem(pem) as forge.pki.rsa.PublicKey;
    return key.n ? key.n.bitLength() : null;
  } catch {
    return null;
  }
}

export function checkPublicKey(pem: string): Check<PublicKeyInfo> {
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) {
    return { ok: false, reason: "is a private key; only the processor's public key may be stored (nothing of it was printed)" };
  }
  let key: ProcessorKey;
  try {
    key = parseProcessorKey(pem);
  } catch (error) {
    if (/-----BEGIN CERTIFICATE-----/.test(pem)) {
      // The product's messages name the certificate's problem, never its content.
      return { ok: false, reason: `is not a usable certificate: ${error instanceof StationError ? error.message : 'it could not be read'}` };
    }
    const bits = rsaBitsIfReadable(pem);
    return {
      ok: false,
      reason:
        bits !== null
          ? `is an RSA public key of ${bits} bits; at least ${RSA_MIN_BITS} bits are required`
          : `is not a PEM RSA public key ("PUBLIC KEY" or "RSA PUBLIC KEY") of at least ${RSA_MIN_BITS} bits`,
    };
  }
  return { ok: true, value: { bits: key.bits, fingerprint: key.kcv, pem: processorKeyEntry(pem), key } };
}

/** "; certificate valid <from> to <to>, 12 days left" or "; no expiry known". */
export function validityText(key: ProcessorKey, now: Date): string {
  if (key.notAfter === null || key.notBefore === null) return '; no expiry known';
  const days = daysToExpiry(key, now) as number;
  const left = days < 0 ? `EXPIRED ${-days} day(s) ago` : `${days} day(s) to expiry`;
  return `; certificate valid ${key.notBefore.toISOString()} to ${key.notAfter.toISOString()}, ${left}`;
}

export function checkApiToken(value: string): Check<{ length: number }> {
  if (value.length < API_TOKEN_MIN || value.length > API_TOKEN_MAX) {
    return { ok: false, reason: `must be ${API_TOKEN_MIN} to ${API_TOKEN_MAX} characters, but ${value.length} were given` };
  }
  if (/\s/.test(value)) return { ok: false, reason: 'must not contain spaces or other whitespace' };
  if (!PRINTABLE_TOKEN.test(value)) return { ok: false, reason: 'must contain only printable ASCII characters' };
  return { ok: true, value: { length: value.length } };
}

/** "pin-key: present; ..." detail for a stored value (status). Never includes the value. */
export function describeStored(account: KeyAccount, value: string, now: Date): string {
  if (AES_ACCOUNTS.includes(account)) {
    const check = checkAesKey(value, account);
    return check.ok ? `present; KCV (CMAC) ${check.value.cmac}, KCV (legacy) ${check.value.legacy}` : `present but malformed: ${check.reason}`;
  }
  if (account === 'pin-public-key') {
    const check = checkPublicKey(value);
    return check.ok
      ? `present; RSA ${check.value.bits} bits, fingerprint KCV (SHA-256 of SPKI) ${check.value.fingerprint}${validityText(check.value.key, now)}`
      : `present but malformed: ${check.reason}`;
  }
  if (account === 'ship-key') {
    const check = checkShipKey(value);
    return check.ok ? `present; ${describeShipKey(check)}` : `present but malformed: ${check.reason}`;
  }
  const check = checkApiToken(value);
  return check.ok ? `present (${value.length} characters)` : `present but malformed: ${check.reason}`;
}

export function describeShipKey(check: Extract<ShipKeyCheck, { ok: true }>): string {
  return `${check.kind}${check.bits === null ? '' : ` ${check.bits} bits`}, fingerprint KCV (SHA-256 of SPKI) ${check.fingerprint}`;
}
