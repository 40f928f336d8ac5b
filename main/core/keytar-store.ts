/** KeyStore backed by the operating system's keychain through keytar. */
import keytar from 'keytar';
import { NAME_PATTERN } from '../../common/domain';
import { StationError } from '../../common/errors';
import type { KeyAccount, KeyStore } from './keystore';

export class KeytarKeyStore implements KeyStore {
  constructor(readonly service: string) {
    if (!NAME_PATTERN.test(service)) {
      throw new StationError('CONFIG_INVALID', 'keychain.service must be 1-64 characters: letters, digits, ".", "_" or "-".');
    }
  }

  async get(account: KeyAccount): Promise<string | null> {
    return this.call(() => keytar.getPassword(this.service, account));
  }

  async set(account: KeyAccount, value: string): Promise<void> {
    await this.call(() => keytar.setPassword(this.service, account, value));
  }

  async delete(account: KeyAccount): Promise<boolean> {
    return this.call(() => keytar.deletePassword(this.service, account));
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
