/**
 * Staff sign-in through the operator window (the browser harness runs the real renderer, preload and main
 * core): sign-in, wrong passwords and lockout, the idle lock during an entry, unlock by the same person or
 * take-over by another, and roles that may not set PINs, also when main is called directly.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { StationApi } from '../../common/ipc';
import { readAuditKey, verifyAuditFile } from '../../main/core/audit';
import { EXIT_CODES, runAuditCli } from '../../main/admin/audit/cli';
import { enterAndConfirm, startCard, statusText, typeDigits, waitForCount } from '../harness/journeys';
import { useStation } from '../harness/launch-station';
import type { LaunchedStation, TestStaffAccount } from '../harness/launch-station';

const launch = useStation();

const ANNA: TestStaffAccount = { username: 'anna.k', password: 'river-lantern-4417', roles: ['operator'] };
const BORIS: TestStaffAccount = { username: 'boris.s', password: 'quiet-harbour-9023', roles: ['supervisor'] };
const ADMIN: TestStaffAccount = { username: 'ada.admin', password: 'granite-window-5531', roles: ['admin'] };
const AUDITOR: TestStaffAccount = { username: 'otto.audit', password: 'silver-meadow-7702', roles: ['auditor'] };

const records = (s: LaunchedStation): Record<string, unknown>[] =>
  readFileSync(s.auditPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const staffEvents = (s: LaunchedStation): string[] =>
  records(s)
    .filter((record) => record.type === 'staff')
    .map((record) => `${String(record.event)}:${String(record.username)}${record.reason ? `:${String(record.reason)}` : ''}`);

async function fillSignIn(operator: Page, username: string, password: string, button: 'Sign in' | 'Unlock' = 'Sign in', code = ''): Promise<void> {
  await operator.getByRole('textbox', { name: 'User name' }).fill(username);
  await operator.getByLabel('Password', { exact: true }).fill(password);
  await operator.getByRole('textbox', { name: 'Authentication code' }).fill(code);
  await operator.getByRole('button', { name: button, exact: true }).click();
}

const WRONG = 'The user name, password or authentication code is wrong.';

async function expectVerified(s: LaunchedStation): Promise<void> {
  const key = await readAuditKey(s.keyStore);
  expect(verifyAuditFile(s.auditPath, key)).toMatchObject({ ok: true });
  // And through the admin command itself (npm run audit -- verify), on the station's own keychain.
  const out: string[] = [];
  const io = { write: (text: string) => void out.push(text) };
  expect(await runAuditCli(['verify', s.auditPath], { stdout: io, stderr: io, openStore: () => s.keyStore })).toBe(EXIT_CODES.OK);
}

it('sign in, set a PIN, sign out: the record names the operator and the trail verifies', async () => {
  const s = await launch({ staff: [ANNA], signIn: false });
  await s.operator.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  // Nothing to start before sign-in, and main refuses it too.
  expect(await s.operator.getByRole('button', { name: 'Start' }).count()).toBe(0);
  const early = await s.operator.evaluate(() => (window as unknown as { station: StationApi }).station.start({ cardId: 'EARLY-1', mode: 'processor' }));
  expect(early).toMatchObject({ ok: false, error: { code: 'SIGN_IN_REQUIRED' } });

  await fillSignIn(s.operator, 'Anna.K ', ANNA.password, 'Sign in', await s.authCode('anna.k'));
  await s.operator.getByText('Signed in: anna.k').waitFor();
  await s.operator.getByRole('button', { name: 'Lock' }).waitFor();
  await startCard(s.operator, 'STAFF-1', 'Customer chooses PIN');
  await enterAndConfirm(s.pinpad, '4826');
  await expect.poll(() => statusText(s.operator)).toContain('PIN set.');
  await s.operator.getByRole('button', { name: 'Sign out' }).click();
  await s.operator.getByRole('button', { name: 'Sign in', exact: true }).waitFor();

  expect(s.sandbox?.requests).toHaveLength(1);
  expect(records(s).find((record) => record.cardId === 'STAFF-1' && record.type === undefined)).toMatchObject({ operator: 'anna.k', outcome: 'pin-set' });
  // The screen changes at once; its record follows.
  await expect.poll(() => staffEvents(s)).toEqual(['sign-in:anna.k', 'sign-out:anna.k:manual']);
  await expectVerified(s);
});

it('a wrong password: an alert, no session, and the failure is recorded without the password', async () => {
  const s = await launch({ staff: [ANNA], signIn: false });
  await fillSignIn(s.operator, 'anna.k', 'not-the-password-1');
  await expect.poll(() => s.operator.getByRole('alert').textContent()).toBe(WRONG);
  expect(await s.operator.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
  // The password field was emptied; the name stays for the next try.
  expect(await s.operator.getByLabel('Password', { exact: true }).inputValue()).toBe('');
  expect(await s.operator.getByRole('textbox', { name: 'User name' }).inputValue()).toBe('anna.k');
  expect(s.core.staff.view().state).toBe('signed-out');
  // An unknown name gets the same answer: the screen does not tell a guesser which names exist. This one is a
  // password typed into the name field, as happens at a desk.
  await fillSignIn(s.operator, 'river-lantern-4417', 'not-the-password-2');
  await expect.poll(() => staffEvents(s).length).toBe(2);
  await expect.poll(() => s.operator.getByRole('alert').textContent()).toBe(WRONG);

  // An unknown name is not written down: it may be a password typed into the wrong field.
  expect(staffEvents(s)).toEqual(['sign-in-failed:anna.k:SIGN_IN_FAILED', 'sign-in-failed:(unknown user name):SIGN_IN_FAILED']);
  const text = readFileSync(s.auditPath, 'utf8');
  expect(text).not.toContain('not-the-password');
  expect(text).not.toContain('river-lantern');
  expect(s.logLines.join('\n')).not.toContain('river-lantern');
  await expectVerified(s);
});

it('ten failures lock the account with the time left; the eleventh, with the right password, is refused', async () => {
  const s = await launch({ staff: [ANNA, BORIS], signIn: false });
  for (let attempt = 1; attempt <= 9; attempt++) {
    await fillSignIn(s.operator, 'anna.k', `wrong-password-${attempt}`);
    // Each answer is on record before it shows; wait for it so the next attempt is not a double click.
    await expect.poll(() => staffEvents(s).length, { timeout: 15_000 }).toBe(attempt);
    await expect.poll(() => s.operator.getByRole('alert').textContent()).toBe(WRONG);
  }
  await fillSignIn(s.operator, 'anna.k', 'wrong-password-10');
  await expect.poll(() => staffEvents(s).length, { timeout: 15_000 }).toBe(11);
  await expect.poll(() => s.operator.getByRole('alert').textContent()).toBe('Too many failed sign-ins: this account is locked. Try again in 30 minutes.');
  await fillSignIn(s.operator, 'anna.k', ANNA.password, 'Sign in', await s.authCode('anna.k'));
  await expect.poll(() => staffEvents(s).length, { timeout: 15_000 }).toBe(12);
  await expect.poll(() => s.operator.getByRole('alert').textContent()).toBe('Too many failed sign-ins: this account is locked. Try again in 30 minutes.');
  expect(s.core.staff.view().state).toBe('signed-out');
  // Another person's account is not affected.
  await fillSignIn(s.operator, 'boris.s', BORIS.password, 'Sign in', await s.authCode('boris.s'));
  await s.operator.getByText('Signed in: boris.s').waitFor();

  const events = staffEvents(s);
  expect(events.filter((event) => event === 'sign-in-failed:anna.k:SIGN_IN_FAILED')).toHaveLength(9);
  expect(events.slice(9)).toEqual([
    'sign-in-failed:anna.k:ACCOUNT_LOCKED_OUT',
    'lockout:anna.k',
    'sign-in-failed:anna.k:ACCOUNT_LOCKED_OUT',
    'sign-in:boris.s',
  ]);
  await expectVerified(s);
});

it('the idle lock warns, then cancels and wipes the entry; the same person unlocks; another person takes over', async () => {
  // 15 s idle lock, the warning for the last 7: long enough for the Start and two digits on a loaded machine.
  const s = await launch({ staff: [ANNA, BORIS], signIn: 'anna.k', config: { auth: { idleLockMinutes: 0.25 }, pin: { inactivityTimeoutMs: 60_000 } } });
  await startCard(s.operator, 'IDLE-1', 'Customer chooses PIN');
  await typeDigits(s.pinpad, '58');
  await waitForCount(s.pinpad, 2);
  await s.operator.getByText(/The screen locks in \d seconds? unless you continue\./).waitFor({ timeout: 30_000 });
  await s.operator.getByRole('heading', { name: 'Screen locked' }).waitFor({ timeout: 30_000 });
  await s.operator.getByText('You were away too long: the screen locked.').waitFor();
  // The entry ended: the pad is back at its waiting screen, and main holds no digit.
  await s.pinpad.getByRole('heading', { name: 'Please wait' }).waitFor();
  expect(s.core.station.pinpadView()).toMatchObject({ active: false, count: 0 });
  // Its record lands just after the lock (which dropped the held audit key, so the keychain is read again).
  await expect
    .poll(() => records(s).find((record) => record.cardId === 'IDLE-1'))
    .toMatchObject({ operator: 'anna.k', outcome: 'cancelled', errorCode: 'PIN_CANCELLED' });
  // Locked: nothing starts, also when main is called directly.
  const refused = await s.operator.evaluate(() => (window as unknown as { station: StationApi }).station.start({ cardId: 'IDLE-2', mode: 'processor' }));
  expect(refused).toMatchObject({ ok: false, error: { code: 'SESSION_LOCKED' } });

  // The same person: the name is already there, the password unlocks.
  expect(await s.operator.getByRole('textbox', { name: 'User name' }).inputValue()).toBe('anna.k');
  await s.operator.getByLabel('Password', { exact: true }).fill(ANNA.password);
  await s.operator.getByRole('textbox', { name: 'Authentication code' }).fill(await s.authCode('anna.k'));
  await s.operator.getByRole('button', { name: 'Unlock', exact: true }).click();
  await s.operator.getByText('Signed in: anna.k').waitFor();

  // Locked by hand; another person's credentials sign anna.k out and boris.s in.
  await s.operator.getByRole('button', { name: 'Lock' }).click();
  await fillSignIn(s.operator, 'boris.s', BORIS.password, 'Unlock', await s.authCode('boris.s'));
  await s.operator.getByText('Signed in: boris.s').waitFor();
  // The newcomer is told the first person's session ended.
  await s.operator.getByText('The previous person was signed out when another person signed in. (anna.k)').waitFor();
  expect(s.core.staff.view()).toMatchObject({ state: 'signed-in', username: 'boris.s', roles: ['supervisor'] });

  expect(s.sandbox?.requests).toHaveLength(0);
  expect(staffEvents(s)).toEqual([
    'sign-in:anna.k',
    'lock:anna.k:idle',
    'unlock:anna.k',
    'lock:anna.k:manual',
    'sign-out:anna.k:other-user',
    'sign-in:boris.s',
  ]);
  await expectVerified(s);
});

for (const account of [ADMIN, AUDITOR]) {
  it(`an ${account.roles[0]}-only account cannot start a PIN session, in the window or by calling main`, async () => {
    const s = await launch({ staff: [account], signIn: account.username });
    await s.operator.getByText(`Signed in: ${account.username}`).waitFor();
    await s.operator.getByText('Your role does not set PINs. Sign out so that an operator can use the station.').waitFor();
    expect(await s.operator.getByRole('textbox', { name: 'Card ID' }).count()).toBe(0);
    expect(await s.operator.getByRole('button', { name: 'Start' }).count()).toBe(0);
    for (const mode of ['processor', 'customer'] as const) {
      const result = await s.operator.evaluate((m) => (window as unknown as { station: StationApi }).station.start({ cardId: 'ROLE-1', mode: m }), mode);
      expect(result).toMatchObject({ ok: false, error: { code: 'ROLE_NOT_ALLOWED' } });
    }
    // Straight to the router, as a compromised renderer would.
    expect(await s.core.router.handle('operator', 'station:start', { cardId: 'ROLE-2', mode: 'processor' })).toMatchObject({
      ok: false,
      error: { code: 'ROLE_NOT_ALLOWED' },
    });
    expect(s.core.station.pinpadView().active).toBe(false);
    expect(s.sandbox?.requests).toHaveLength(0);
  });
}

it('with the embedded sandbox, practice accounts and their passwords are in the banner and work', async () => {
  const s = await launch({ staff: [], signIn: false });
  const banner = s.operator.locator('.sandbox-banner');
  await expect.poll(() => banner.textContent()).toContain('Practice accounts');
  const text = (await banner.textContent()) ?? '';
  const trainee = /Operator: User name trainee, Password ([a-z2-9]{4}(?:-[a-z2-9]{4}){3}), code now (\d{6})/.exec(text.replace(/\s+/g, ' '));
  expect(trainee).not.toBeNull();
  expect(text).toContain('trainer');
  await fillSignIn(s.operator, 'trainee', trainee?.[1] ?? '', 'Sign in', trainee?.[2] ?? '');
  await s.operator.getByText('Signed in: trainee').waitFor();
  // Signed in, the passwords are no longer on screen.
  await expect.poll(() => banner.textContent()).not.toContain('Practice accounts');
  expect(records(s).filter((record) => record.type === 'staff')).toEqual([
    expect.objectContaining({ event: 'sign-in', username: 'trainee', processor: 'sandbox' }),
  ]);
});

it('a station with a real processor has no practice accounts', async () => {
  const s = await launch({ staff: [ANNA], signIn: false, config: { processor: { baseUrl: 'http://127.0.0.1:9' } } });
  expect(await s.operator.locator('.sandbox-banner').count()).toBe(0);
  await fillSignIn(s.operator, 'trainee', 'any-password-at-all');
  await expect.poll(() => s.operator.getByRole('alert').textContent()).toBe(WRONG);
  expect(JSON.parse(readFileSync(s.accountsPath, 'utf8')).accounts.map((account: { username: string }) => account.username)).toEqual(['anna.k']);
});
