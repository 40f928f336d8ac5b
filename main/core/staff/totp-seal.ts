/**
 * A local account's second factor as the accounts file keeps it: the TOTP secret sealed with AES-256-GCM
 * under the keychain entry `staff-mfa-key` (AAD: a domain string and the user name, so a sealed secret
 * cannot be moved to another account), with the last time step the account used. The accounts file's HMAC
 * covers it like every other field; the secret is opened only to check a code, and its key bytes are zeroed.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { StationError } from '../../../common/errors';
import { AES256_KEY_HEX } from '../../../common/domain';
import type { KeyStore } from '../keystore';
import { matchTotp } from './totp';

const SEAL_DOMAIN = 'pin-station-staff-totp-v1\n';
const KEY_ENTRY = 'staff-mfa-key';

/** The account's `totp` field. */
export const sealedTotpSchema = z.strictObject({
  iv: z.string().regex(/^[0-9a-f]{24}$/),
  data: z.string().regex(/^[0-9a-f]{2,256}$/),
  tag: z.string().regex(/^[0-9a-f]{32}$/),
  /** The time step of the last code accepted: that code and every earlier one are refused. */
  lastStep: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable(),
});
export type SealedTotp = z.output<typeof sealedTotpSchema>;

/** A secret as sealed, without its last step. */
export type SealedSecret = Omit<SealedTotp, 'lastStep'>;

/** The sealing key's bytes (the caller zeroes them); made on the first enrolment only. */
async function readMfaKey(keyStore: KeyStore, create: boolean): Promise<Buffer> {
  let value = await keyStore.get(KEY_ENTRY);
  if ((value === null || value === '') && create) {
    const fresh = randomBytes(32);
    await keyStore.set(KEY_ENTRY, fresh.toString('hex').toUpperCase());
    fresh.fill(0);
    value = await keyStore.get(KEY_ENTRY);
  }
  if (value === null || value === '') {
    throw new StationError(
      'STAFF_STORE_INVALID',
      `It holds second factors, but their key ("${KEY_ENTRY}") is missing from the keychain. No one can sign in with a local account until an admin restores it (see the administrator's guide, "Staff sign-in").`,
    );
  }
  if (!AES256_KEY_HEX.test(value)) throw new StationError('KEYCHAIN_ENTRY_MALFORMED', `Entry "${KEY_ENTRY}" must be 64 hexadecimal characters.`);
  return Buffer.from(value, 'hex');
}

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

/** A new secret sealed for `username`, its confirming code's step used up; makes the key on the first enrolment. */
export async function sealTotp(keyStore: KeyStore, username: string, secret: string, confirmedStep: number | null): Promise<SealedTotp> {
  const key = await readMfaKey(keyStore, true);
  try {
    return { ...sealSecret(key, username, secret), lastStep: confirmedStep };
  } finally {
    key.fill(0);
  }
}

/** The step `code` matches for this account's sealed secret (see matchTotp), or null. */
export async function matchSealedTotp(keyStore: KeyStore, username: string, sealed: SealedTotp, code: string, now: Date): Promise<number | null> {
  const key = await readMfaKey(keyStore, false);
  try {
    return matchTotp(openSecret(key, username, sealed), code, now, sealed.lastStep);
  } finally {
    key.fill(0);
  }
}
