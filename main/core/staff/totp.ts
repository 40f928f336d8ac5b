/**
 * The second factor for local accounts (docs/architecture.md, "Staff sign-in"): TOTP (RFC 6238) with
 * the parameters every authenticator app accepts (HMAC-SHA-1, 6 digits, 30 s). otplib does the HOTP
 * arithmetic; this module fixes the parameters, the ±1 step window and the replay rule, and seals a
 * secret for the accounts file with AES-256-GCM under the keychain entry `staff-mfa-key`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { generateSecret, generateSync, generateURI, verifySync } from 'otplib';
import { StationError } from '../../../common/errors';
import { AES256_KEY_HEX } from '../../../common/domain';
import type { KeyStore } from '../keystore';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** What a typed code must look like before it is checked at all. */
export const TOTP_CODE_PATTERN = /^\d{6}$/;
const ISSUER = 'PIN Station';
const SEAL_DOMAIN = 'pin-station-staff-totp-v1\n';

/** A fresh secret: 20 random bytes (RFC 4226's recommended length), base32. */
export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

/** The otpauth:// URI an authenticator app scans; the label names the station so one phone can hold several. */
export function totpUri(secret: string, username: string, stationId: string): string {
  return generateURI({ issuer: ISSUER, label: `${username}@${stationId}`, secret, algorithm: 'sha1', digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS });
}

/** The time step a moment falls in. */
export function totpStep(now: Date): number {
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

/** The code for `now` (practice accounts' banner and the harness). */
export function currentTotp(secret: string, now: Date = new Date()): string {
  return generateSync({ secret, epoch: Math.floor(now.getTime() / 1000), algorithm: 'sha1', digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS });
}

/**
 * The step a typed code matches, within the current step ±1 and strictly after `afterStep` (the last step
 * this account used), or null. A code once used is refused even within its own step.
 */
export function matchTotp(secret: string, code: string, now: Date, afterStep: number | null): number | null {
  if (!TOTP_CODE_PATTERN.test(code)) return null;
  // The last used step is ahead of this whole window (the clock was set back): nothing can match, and the
  // library would throw rather than answer.
  if (afterStep !== null && afterStep >= totpStep(now) + 1) return null;
  const result = verifySync({
    secret,
    token: code,
    epoch: Math.floor(now.getTime() / 1000),
    epochTolerance: TOTP_PERIOD_SECONDS,
    algorithm: 'sha1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    ...(afterStep === null ? {} : { afterTimeStep: afterStep }),
  });
  if (!result.valid) return null;
  const step = totpStep(now) + result.delta;
  // Checked here as well: replay protection must not rest on one library option alone.
  return afterStep !== null && step <= afterStep ? null : step;
}

/** A secret as the accounts file keeps it. */
export interface SealedSecret {
  readonly iv: string;
  readonly data: string;
  readonly tag: string;
}

const KEY_ENTRY = 'staff-mfa-key';

/** The sealing key's bytes (the caller zeroes them); made on the first enrolment only. */
export async function readMfaKey(keyStore: KeyStore, create: boolean): Promise<Buffer | null> {
  let value = await keyStore.get(KEY_ENTRY);
  if ((value === null || value === '') && create) {
    const fresh = randomBytes(32);
    await keyStore.set(KEY_ENTRY, fresh.toString('hex').toUpperCase());
    fresh.fill(0);
    value = await keyStore.get(KEY_ENTRY);
  }
  if (value === null || value === '') return null;
  if (!AES256_KEY_HEX.test(value)) throw new StationError('KEYCHAIN_ENTRY_MALFORMED', `Entry "${KEY_ENTRY}" must be 64 hexadecimal characters.`);
  return Buffer.from(value, 'hex');
}

/** AES-256-GCM, bound to the account by its name (AAD), so a sealed secret cannot be moved to another account. */
export function sealSecret(key: Uint8Array, username: string, secret: string): SealedSecret {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`${SEAL_DOMAIN}${username}`, 'utf8'));
  const plain = Buffer.from(secret, 'utf8');
  const data = Buffer.concat([cipher.update(plain), cipher.final()]);
  plain.fill(0);
  return { iv: iv.toString('hex'), data: data.toString('hex'), tag: cipher.getAuthTag().toString('hex') };
}

/** The secret, or STAFF_STORE_INVALID when it does not open (another key, another account, edited). */
export function openSecret(key: Uint8Array, username: string, sealed: SealedSecret): string {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'hex'));
    decipher.setAAD(Buffer.from(`${SEAL_DOMAIN}${username}`, 'utf8'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'hex'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'hex')), decipher.final()]).toString('utf8');
  } catch {
    throw new StationError(
      'STAFF_STORE_INVALID',
      `A second-factor secret does not open with "${KEY_ENTRY}": it was edited or the keychain entry was replaced.`,
    );
  }
}
