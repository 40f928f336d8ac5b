/** How the station's staff sign in, from config: one path for the app and the test harness. */
import type { StationConfig } from '../config';
import type { KeyStore } from '../keystore';
import type { Logger } from '../log';
import type { PracticeLogin } from './practice';
import { LocalAccountStore } from './accounts';
import { OidcSignIn } from './oidc';
import type { SsoProvider } from './session';

/** How staff sign in on this station: local accounts, or single sign-on. */
export interface StaffOptions {
  readonly accounts?: LocalAccountStore;
  readonly sso?: SsoProvider;
  /** The embedded sandbox's practice accounts, shown in its banner. */
  readonly practiceAccounts?: readonly PracticeLogin[];
}

export interface StaffPlaces {
  /** The local accounts file (the sandbox keeps its own). */
  readonly accountsFile: string;
  /** The keychain that holds the accounts file's key. */
  readonly keyStore: KeyStore;
  /** Opens the system browser for single sign-on (never a window of the app: RFC 8252). */
  readonly openBrowser: (url: string) => Promise<void> | void;
  readonly log?: Logger | null;
}

export function staffOptionsFor(config: StationConfig, places: StaffPlaces): StaffOptions {
  const oidc = config.auth.oidc;
  if (config.auth.provider === 'oidc' && oidc) {
    return { sso: new OidcSignIn(oidc, { openBrowser: places.openBrowser, ...(places.log ? { log: places.log } : {}) }) };
  }
  return { accounts: new LocalAccountStore(places.accountsFile, places.keyStore) };
}
