/**
 * Narrow keychain interface (docs/architecture.md, "Keys and profiles"). Backends implement three
 * calls; a second backend is one new file implementing KeyStore.
 */
import { StationError } from '../../common/errors';

/** Entries the keys CLI manages. */
export const KEY_ACCOUNTS = ['pin-key', 'pin-public-key', 'api-token', 'audit-key', 'ship-key'] as const;
/** Entries the station makes and keeps itself: they protect the staff accounts file (main/core/staff/accounts.ts) and the audit trail's end (main/core/audit/mark.ts). */
export const STATION_ACCOUNTS = ['staff-key', 'staff-generation', 'staff-mfa-key', 'audit-mark'] as const;
/** The processor's next key, staged by `keys import pin-public-key --next`; it replaces pin-public-key on its notBefore or on `keys promote`. */
export const NEXT_PROCESSOR_KEY_ACCOUNT = 'pin-public-key-next' as const;
export type ProvisionedAccount = (typeof KEY_ACCOUNTS)[number];
export type KeyAccount = ProvisionedAccount | (typeof STATION_ACCOUNTS)[number] | typeof NEXT_PROCESSOR_KEY_ACCOUNT;

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

export function isKeyAccount(value: string): value is ProvisionedAccount {
  return (KEY_ACCOUNTS as readonly string[]).includes(value);
}

/** A KeyStore held in memory, for unit tests and the sandbox processor's own copy. */
export class MemoryKeyStore implements KeyStore {
  private readonly entries = new Map<KeyAccount, string>();
  constructor(initial: Partial<Record<KeyAccount, string>> = {}) {
    for (const [account, value] of Object.entries(initial)) {
      if (value !== undefined) this.entries.set(account as KeyAccount, value);
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
