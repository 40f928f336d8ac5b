/** A staff session with one signed-in person, for tests that drive the router or the Station directly. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Role } from '../../common/staff';
import { parseConfig } from '../../main/core/config';
import { MemoryKeyStore } from '../../main/core/keystore';
import { LocalAccountStore } from '../../main/core/staff/accounts';
import { StaffSession } from '../../main/core/staff/session';
import { currentTotp } from '../../main/core/staff/totp';
import type { StaffSessionDeps } from '../../main/core/staff/session';

export const TEST_PASSWORD = 'correct horse battery staple';
/** RFC 6238's SHA-1 test key ("12345678901234567890"), base32. */
export const TEST_TOTP_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

/** A local account store in a fresh temporary folder, with its own in-memory keychain. */
export function tempAccountStore(): LocalAccountStore {
  return new LocalAccountStore(join(mkdtempSync(join(tmpdir(), 'pin-station-staff-')), 'accounts.json'), new MemoryKeyStore());
}

/** `username` with `roles`, signed in. */
export async function signedInStaff(roles: readonly Role[] = ['operator'], username = 'op.one', deps: Partial<StaffSessionDeps> = {}): Promise<StaffSession> {
  const accounts = tempAccountStore();
  await accounts.add({ username, roles, password: TEST_PASSWORD });
  await accounts.enrolTotp(username, TEST_TOTP_SECRET, null);
  const session = new StaffSession({
    auth: parseConfig({}).auth,
    stationId: 'test-station',
    accounts,
    onChange: () => undefined,
    onSessionEnd: () => undefined,
    ...deps,
  });
  await session.signIn(username, TEST_PASSWORD, currentTotp(TEST_TOTP_SECRET));
  return session;
}
