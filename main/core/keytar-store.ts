/** KeyStore backed by the operating system's keychain through keytar. */
import keytar from 'keytar';
import { NAME_PATTERN } from '../../common/domain';
import { StationError } from '../../common/errors';
import { SESSION_HELD_ACCOUNTS, SessionKeyHold } from './keystore';
import type { KeyAccount, KeyStore } from './keystore';

/**
 * The station reads one service through more than one KeytarKeyStore (the processor's keys, the audit
 * trail's), so what a signed-in session holds belongs to the service, not to one instance.
 */
const holds = new Map<string, SessionKeyHold>();
function holdFor(service: string): SessionKeyHold {
  let hold = holds.get(service);
  if (!hold) holds.set(service, (hold = new SessionKeyHold()));
  return hold;
}

export class KeytarKeyStore implements KeyStore {
  private readonly session: SessionKeyHold;

  constructor(readonly service: string) {
    if (!NAME_PATTERN.test(service)) {
      throw new StationError('CONFIG_INVALID', 'keychain.service must be 1-64 characters: letters, digits, ".", "_" or "-".');
    }
    this.session = holdFor(service);
  }

  async get(account: KeyAccount): Promise<string | null> {
    return this.session.read(account, () => this.fetch(account));
  }

  async set(account: KeyAccount, value: string): Promise<void> {
    this.session.forget(account);
    try {
      await this.call(() => keytar.setPassword(this.service, account, value));
    } finally {
      this.session.forget(account);
    }
  }

  async delete(account: KeyAccount): Promise<boolean> {
    this.session.forget(account);
    try {
      return await this.call(() => keytar.deletePassword(this.service, account));
    } finally {
      this.session.forget(account);
    }
  }

  holdForSession(hold: boolean): void {
    // Read at sign-in and unlock, so even the first PIN of the session does not wait for it.
    if (this.session.hold(hold)) for (const account of SESSION_HELD_ACCOUNTS) this.get(account).catch(() => undefined);
  }

  /** One keychain round trip for one entry (the bench and tests count and time these). */
  protected fetch(account: KeyAccount): Promise<string | null> {
    return this.call(() => keytar.getPassword(this.service, account));
  }

  // keytar's messages come from the OS and name no secret, but they are not written for staff.
  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch {
      throw new StationError('KEYCHAIN_UNAVAILABLE', 'Check that the keychain service is running and unlocked.');
    }
  }
}
