/**
 * Narrow keychain interface (docs/architecture.md, "Keys and profiles"). Backends implement three
 * calls; a second backend is one new file implementing KeyStore.
 */
import { StationError } from '../../common/errors';

export const KEY_ACCOUNTS = ['pin-key', 'pin-public-key', 'api-token', 'audit-key'] as const;
export type KeyAccount = (typeof KEY_ACCOUNTS)[number];

export interface KeyStore {
  /** The stored value, or null when the entry does not exist. Throws KEYCHAIN_UNAVAILABLE. */
  get(account: KeyAccount): Promise<string | null>;
  set(account: KeyAccount, value: string): Promise<void>;
  delete(account: KeyAccount): Promise<boolean>;
}

export async function requireEntry(store: KeyStore, account: KeyAccount): Promise<string> {
  const value = await store.get(account);
  if (value === null || value.length === 0) {
    throw new StationError(
      'KEYCHAIN_ENTRY_MISSING',
      `Entry "${account}" was not found. Ask the key custodian to provision it (npm run keys -- import ${account}).`,
    );
  }
  return value;
}

export function isKeyAccount(value: string): value is KeyAccount {
  return (KEY_ACCOUNTS as readonly string[]).includes(value);
}

/** A KeyStore held in memory, for unit tests and the sandbox processor's own copy. */
export class MemoryKeyStore implements KeyStore {
  private readonly entries = new Map<KeyAccount, string>();
  constructor(initial: Partial<Record<KeyAccount, string>> = {}) {
    for (const [account, value] of Object.entries(initial)) {
      if (isKeyAccount(account) && value !== undefined) this.entries.set(account, value);
    }
  }
  async get(account: KeyAccount): Promise<string | null> {
    return this.entries.get(account) ?? null;
  }
  async set(account: KeyAccount, value: string): Promise<void> {
    this.entries.set(account, value);
  }
  async delete(account: KeyAccount): Promise<boolean> {
    return this.entries.delete(account);
  }
}
