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
  /**
   * True while someone is signed in and the screen is unlocked: the store may then keep the
   * SESSION_HELD_ACCOUNTS in memory; false drops them. Optional: a store without it reads per use.
   */
  holdForSession?(hold: boolean): void;
}

/**
 * The audit trail's MAC key is held for a signed-in session, as HMAC-chained logs are kept: every PIN
 * appends two records (the attempt before sending, the outcome after), and reading the key each time
 * made three keychain entries in two round trips per PIN. Held, a PIN reads only pin-key and
 * api-token, together, in one round trip. Reading the whole service at once (keytar's
 * findCredentials) was not chosen: it would decrypt and copy every entry of the service (staff-key,
 * staff-mfa-key, ship-key, ...) into this process on every PIN, as strings that cannot be wiped.
 */
export const SESSION_HELD_ACCOUNTS: readonly KeyAccount[] = ['audit-key'];

/**
 * The held entries of one keychain service. A read started before a drop is not kept after it,
 * and readers of the same entry share one keychain call.
 */
export class SessionKeyHold {
  private holding = false;
  private generation = 0;
  private readonly held = new Map<KeyAccount, Promise<string | null>>();

  isHeld(account: KeyAccount): boolean {
    return SESSION_HELD_ACCOUNTS.includes(account);
  }

  read(account: KeyAccount, fetch: () => Promise<string | null>): Promise<string | null> {
    if (!this.holding || !this.isHeld(account)) return fetch();
    const kept = this.held.get(account);
    if (kept) return kept;
    const generation = this.generation;
    const reading = fetch();
    this.held.set(account, reading);
    // A failed read or a missing entry is not kept: the next use asks the keychain again.
    reading.then(
      (value) => {
        if (value === null && this.generation === generation) this.held.delete(account);
      },
      () => {
        if (this.generation === generation) this.held.delete(account);
      },
    );
    return reading;
  }

  /** Returns true when it starts holding (the caller may read the held entries ahead of use). */
  hold(on: boolean): boolean {
    if (on === this.holding) return false;
    this.holding = on;
    this.generation++;
    this.held.clear();
    return on;
  }

  /** An entry written or deleted is read again at its next use. */
  forget(account: KeyAccount): void {
    this.held.delete(account);
  }
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
