/**
 * Practice accounts for the embedded sandbox processor, so `npm start` works
 * on first run without reading docs: an operator and a supervisor, with
 * fresh passwords at every start, shown in the sandbox banner. They live in
 * the sandbox's own accounts file and keychain service; a station with a
 * real processor never has them.
 */
import { randomInt } from 'node:crypto';
import type { PracticeAccount } from '../../../common/staff';
import type { LocalAccountStore } from './accounts';

export const PRACTICE_ACCOUNTS: readonly Omit<PracticeAccount, 'password'>[] = [
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

/** Makes the practice accounts (or gives them new passwords and clears any lockout) and returns what the banner shows. */
export async function preparePracticeAccounts(store: LocalAccountStore): Promise<PracticeAccount[]> {
  const existing = new Set((await store.list()).map((account) => account.username));
  const prepared: PracticeAccount[] = [];
  for (const account of PRACTICE_ACCOUNTS) {
    const password = practicePassword();
    if (existing.has(account.username)) {
      await store.setPassword(account.username, password);
      await store.setRoles(account.username, account.roles);
      await store.setDisabled(account.username, false);
    } else {
      await store.add({ username: account.username, displayName: null, roles: account.roles, password });
    }
    prepared.push({ ...account, password });
  }
  return prepared;
}
