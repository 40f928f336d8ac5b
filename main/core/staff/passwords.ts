/**
 * Password hashing for local staff accounts: Argon2id at OWASP's recommended
 * parameters (m = 19 MiB, t = 2, p = 1), PHC-encoded so the parameters travel
 * with each hash and can be raised later without breaking old ones.
 */
import { hash, verify } from '@node-rs/argon2';
import { StationError } from '../../../common/errors';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../../common/staff';

// Algorithm is a const enum that does not exist at run time: 2 is Argon2id.
const ARGON2ID = 2;
export const ARGON2_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** A PHC string for Argon2id; anything else in the accounts file is refused as damaged. */
export const ARGON2ID_PHC = /^\$argon2id\$v=19\$m=\d{1,7},t=\d{1,3},p=\d{1,3}\$[A-Za-z0-9+/]{16,}\$[A-Za-z0-9+/]{32,}$/;

/** The password rule, checked whenever a password is set (never when one is tried: a wrong length is just wrong). */
export function checkNewPassword(password: string): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) throw new StationError('INVALID_REQUEST', `A password needs at least ${PASSWORD_MIN_LENGTH} characters.`);
  if (length > PASSWORD_MAX_LENGTH) throw new StationError('INVALID_REQUEST', `A password may have at most ${PASSWORD_MAX_LENGTH} characters.`);
  if (/\p{Cc}/u.test(password)) throw new StationError('INVALID_REQUEST', 'A password cannot contain control characters.');
}

export function hashPassword(password: string): Promise<string> {
  checkNewPassword(password);
  return hash(password.normalize('NFC'), ARGON2_OPTIONS);
}

export async function passwordMatches(phc: string, password: string): Promise<boolean> {
  if (password.length === 0 || password.length > PASSWORD_MAX_LENGTH * 4) return false;
  try {
    return await verify(phc, password.normalize('NFC'));
  } catch {
    return false;
  }
}

/** A hash of a random password, verified against when the user name is unknown so the answer takes as long either way. */
let decoy: Promise<string> | null = null;
export function decoyHash(): Promise<string> {
  decoy ??= hash(`decoy-${Math.random()}-${Date.now()}`, ARGON2_OPTIONS);
  return decoy;
}
