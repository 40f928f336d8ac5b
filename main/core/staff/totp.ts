/**
 * The second factor for local accounts (docs/architecture.md, "Staff sign-in"): TOTP (RFC 6238) with
 * the parameters every authenticator app accepts (HMAC-SHA-1, 6 digits, 30 s). otplib does the HOTP
 * arithmetic; this module fixes the parameters, the ±1 step window and the replay rule. How the accounts
 * file keeps a secret is totp-seal.ts.
 */
import { generateSecret, generateSync, generateURI, verifySync } from 'otplib';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** What a typed code must look like before it is checked at all. */
export const TOTP_CODE_PATTERN = /^\d{6}$/;
const ISSUER = 'PIN Station';

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
