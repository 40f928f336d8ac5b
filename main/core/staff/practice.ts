/**
 * Practice accounts for the embedded sandbox processor, so `npm start` works
 * on first run without reading docs: an operator and a supervisor, with
 * fresh passwords at every start, shown in the sandbox banner. They live in
 * the sandbox's own accounts file and keychain service; a station with a
 * real processor never has them. Each also gets a fresh second-factor
 * secret at every start, kept in main: the banner shows its current code
 * (never the secret), so practice needs no phone.
 */
import { randomInt } from 'node:crypto';
import type { PracticeAccount } from '../../../common/staff';
import type { LocalAccountStore } from './accounts';
import { newTotpSecret } from './totp';

/** A practice account as main keeps it: the banner is given its current code, never `totpSecret`. */
export interface PracticeLogin extends Omit<PracticeAccount, 'code'> {
  readonly totpSecret: string;
}

export const PRACTICE_ACCOUNTS: readonly Omit<PracticeAccount, 'password' | 'code'>[] = [
  { username: 'trainee', roles: ['operator'] },
  { username: 'trainer', roles: ['supervisor'] },
];

// No look-alike characters (0/o, 1/l/i): the password is read off a banner and typed.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Four groups of four: 19 characters, about 79 bits. */
function practicePassword(): string {
  const groups = Array.from({ length: 4 }, () => Array.from({ length: 4 }, () => ALPHABET[randomInt(ALPHABET.length)]).join(''));
  return groups.join('-');
}

/** Makes the practice accounts (or gives them new passwords and second factors, and clears any lockout). */
export async function preparePracticeAccounts(store: LocalAccountStore): Promise<PracticeLogin[]> {
  const existing = new Set((await store.list()).map((account) => account.username));
  const prepared: PracticeLogin[] = [];
  for (const account of PRACTICE_ACCOUNTS) {
    const password = practicePassword();
    if (existing.has(account.username)) {
      await store.setPassword(account.username, password);
      await store.setRoles(account.username, account.roles);
      await store.setDisabled(account.username, false);
    } else {
      await store.add({ username: account.username, displayName: null, roles: account.roles, password });
    }
    const totpSecret = newTotpSecret();
    await store.enrolTotp(account.username, totpSecret, null);
    prepared.push({ ...account, password, totpSecret });
  }
  return prepared;
}
