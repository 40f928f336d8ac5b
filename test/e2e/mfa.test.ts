/**
 * The second factor (TOTP) at every local sign-in, unlock, take-over and supervisor approval, through the
 * operator window: a missing, wrong or replayed code is refused and counted; the right one works; the
 * supervisor's code must come from the supervisor's own authentication app.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { LocalAccountStore } from '../../main/core/staff/accounts';
import { startCard } from '../harness/journeys';
import { useStation } from '../harness/launch-station';
import type { LaunchedStation, TestStaffAccount } from '../harness/launch-station';

const launch = useStation();

const ANNA: TestStaffAccount = { username: 'anna.k', password: 'river-lantern-4417', roles: ['operator'] };
const BORIS: TestStaffAccount = { username: 'boris.s', password: 'quiet-harbour-9023', roles: ['supervisor'] };
const WRONG = 'The user name, password or authentication code is wrong.';
// Each answer waits on Argon2, the keychain and an fsynced record: generous on a loaded machine.
const SLOW = { timeout: 60_000 } as const;

const records = (s: LaunchedStation): Record<string, unknown>[] =>
  readFileSync(s.auditPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const staffEvents = (s: LaunchedStation): string[] =>
  records(s)
    .filter((record) => record.type === 'staff')
    .map((record) => `${String(record.event)}:${String(record.username)}${record.reason ? `:${String(record.reason)}` : ''}`);
const failures = (s: LaunchedStation, username: string): number =>
  (JSON.parse(readFileSync(s.accountsPath, 'utf8')) as { accounts: { username: string; failures: number }[] }).accounts.find(
    (account) => account.username === username,
  )?.failures ?? -1;

async function fill(operator: Page, username: string, password: string, code: string, button: 'Sign in' | 'Unlock' = 'Sign in'): Promise<void> {
  await operator.getByRole('textbox', { name: 'User name' }).fill(username);
  await operator.getByLabel('Password', { exact: true }).fill(password);
  await operator.getByRole('textbox', { name: 'Authentication code' }).fill(code);
  await operator.getByRole('button', { name: button, exact: true }).click();
}

it('sign-in: a missing or wrong code is refused and counted; the right code signs in; the same code again is refused', async () => {
  const s = await launch({ staff: [ANNA], signIn: false });
  const code = s.operator.getByRole('textbox', { name: 'Authentication code' });
  expect(await code.getAttribute('autocomplete')).toBe('one-time-code');
  expect(await code.getAttribute('inputmode')).toBe('numeric');
  // Digits only, whatever is typed or pasted.
  await code.pressSequentially('12a 3b4');
  expect(await code.inputValue()).toBe('1234');

  // Right password, no code.
  await fill(s.operator, 'anna.k', ANNA.password, '');
  await expect.poll(() => s.operator.getByRole('alert').textContent(), SLOW).toBe(WRONG);
  expect(s.core.staff.view().state).toBe('signed-out');
  expect(failures(s, 'anna.k')).toBe(1);
  // Right password, a wrong code (the current code plus one, so it is never right by chance).
  const right = await s.authCode('anna.k');
  const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
  await fill(s.operator, 'anna.k', ANNA.password, wrong);
  await expect.poll(() => staffEvents(s).length, SLOW).toBe(2);
  await expect.poll(() => s.operator.getByRole('alert').textContent(), SLOW).toBe(WRONG);
  // Cleared after the try, like the password.
  expect(await code.inputValue()).toBe('');
  expect(await s.operator.getByLabel('Password', { exact: true }).inputValue()).toBe('');
  expect(s.core.staff.view().state).toBe('signed-out');
  expect(failures(s, 'anna.k')).toBe(2);

  // The right code.
  await fill(s.operator, 'anna.k', ANNA.password, right);
  await s.operator.getByText('Signed in: anna.k').waitFor();
  expect(failures(s, 'anna.k')).toBe(0);
  await s.operator.getByRole('button', { name: 'Sign out' }).click();
  await s.operator.getByRole('button', { name: 'Sign in', exact: true }).waitFor();

  // The same code again, within its step: refused, and counted.
  await fill(s.operator, 'anna.k', ANNA.password, right);
  await expect.poll(() => staffEvents(s).length, SLOW).toBe(5);
  await expect.poll(() => s.operator.getByRole('alert').textContent(), SLOW).toBe(WRONG);
  expect(s.core.staff.view().state).toBe('signed-out');
  expect(failures(s, 'anna.k')).toBe(1);

  expect(staffEvents(s)).toEqual([
    'sign-in-failed:anna.k:MFA_CODE_INVALID',
    'sign-in-failed:anna.k:MFA_CODE_INVALID',
    'sign-in:anna.k',
    'sign-out:anna.k:manual',
    'sign-in-failed:anna.k:MFA_CODE_INVALID',
  ]);
  expect(records(s).find((record) => record.event === 'sign-in')).toMatchObject({ factor: 'totp' });
  const trail = readFileSync(s.auditPath, 'utf8');
  expect(trail).not.toContain(right);
  expect(trail).not.toContain(s.staff[0]?.totpSecret ?? '(none)');
});

it('an account without a second factor cannot sign in: the message says to ask an admin, for a right and a wrong password alike, and each try counts', async () => {
  const s = await launch({ staff: [ANNA], signIn: false });
  await new LocalAccountStore(s.accountsPath, s.keyStore).resetTotp('anna.k');
  const notEnrolled = 'This account has no authentication app set up yet, so it cannot sign in. Ask an administrator to enrol it.';
  await fill(s.operator, 'anna.k', ANNA.password, '123456');
  await expect.poll(() => s.operator.getByRole('alert').textContent(), SLOW).toBe(notEnrolled);
  expect(s.core.staff.view().state).toBe('signed-out');
  // A wrong password gets the very same answer: it never confirms the password without a second factor.
  await fill(s.operator, 'anna.k', 'not-the-password-1', '123456');
  await expect.poll(() => staffEvents(s).length, SLOW).toBe(2);
  expect(await s.operator.getByRole('alert').textContent()).toBe(notEnrolled);
  expect(staffEvents(s)).toEqual(['sign-in-failed:anna.k:MFA_NOT_ENROLLED', 'sign-in-failed:anna.k:MFA_NOT_ENROLLED']);
  expect(failures(s, 'anna.k')).toBe(2);
});

it('unlock and take-over ask for the code', async () => {
  const s = await launch({ staff: [ANNA, BORIS], signIn: 'anna.k' });
  await s.operator.getByRole('button', { name: 'Lock' }).click();
  await s.operator.getByRole('heading', { name: 'Screen locked' }).waitFor();
  // The same person, password only: refused.
  await s.operator.getByLabel('Password', { exact: true }).fill(ANNA.password);
  await s.operator.getByRole('button', { name: 'Unlock', exact: true }).click();
  await expect.poll(() => s.operator.getByRole('alert').textContent(), SLOW).toBe(WRONG);
  expect(s.core.staff.view().state).toBe('locked');
  // With the code: unlocked.
  await fill(s.operator, 'anna.k', ANNA.password, await s.authCode('anna.k'), 'Unlock');
  await s.operator.getByText('Signed in: anna.k').waitFor();

  // Another person taking over needs their own code too.
  await s.operator.getByRole('button', { name: 'Lock' }).click();
  await fill(s.operator, 'boris.s', BORIS.password, '', 'Unlock');
  await expect.poll(() => s.operator.getByRole('alert').textContent(), SLOW).toBe(WRONG);
  expect(s.core.staff.view()).toMatchObject({ state: 'locked', username: 'anna.k' });
  await fill(s.operator, 'boris.s', BORIS.password, await s.authCode('boris.s'), 'Unlock');
  await s.operator.getByText('Signed in: boris.s').waitFor();

  expect(staffEvents(s)).toEqual([
    'sign-in:anna.k',
    'lock:anna.k:manual',
    'unlock-failed:anna.k:MFA_CODE_INVALID',
    'unlock:anna.k',
    'lock:anna.k:manual',
    'unlock-failed:boris.s:MFA_CODE_INVALID',
    'sign-out:anna.k:other-user',
    'sign-in:boris.s',
  ]);
  expect(records(s).filter((record) => record.event === 'unlock' || record.event === 'sign-in')).toEqual([
    expect.objectContaining({ factor: 'totp' }),
    expect.objectContaining({ factor: 'totp' }),
    expect.objectContaining({ factor: 'totp' }),
  ]);
});

it("a supervisor approval needs the supervisor's code: the operator's own code is refused", async () => {
  const s = await launch({ staff: [ANNA, BORIS], signIn: 'anna.k', config: { approval: {} } });
  await startCard(s.operator, 'MFA-1', 'Processor generates PIN');
  const dialog = s.operator.getByRole('dialog', { name: 'Supervisor approval' });
  await dialog.waitFor();
  const code = dialog.getByRole('textbox', { name: 'Supervisor authentication code' });
  expect(await code.getAttribute('autocomplete')).toBe('one-time-code');
  const approve = async (typed: string): Promise<void> => {
    await dialog.getByRole('textbox', { name: 'Supervisor user name' }).fill(BORIS.username);
    await dialog.getByLabel('Supervisor password', { exact: true }).fill(BORIS.password);
    await code.fill(typed);
    await dialog.getByRole('button', { name: 'Approve', exact: true }).click();
  };
  // The operator's current code, typed with the supervisor's name and password.
  await approve(await s.authCode('anna.k'));
  await expect.poll(() => dialog.getByRole('alert').textContent(), SLOW).toBe(WRONG);
  expect(await code.inputValue()).toBe('');
  expect(failures(s, 'boris.s')).toBe(1);
  expect(s.sandbox?.attempts).toBe(0);
  // The supervisor's own code.
  await approve(await s.authCode('boris.s'));
  await expect.poll(() => dialog.count(), SLOW).toBe(0);
  await expect.poll(() => s.sandbox?.attempts, SLOW).toBe(1);
  expect(records(s).filter((record) => record.type === 'approval')).toEqual([
    expect.objectContaining({ event: 'refused', approver: 'boris.s', errorCode: 'MFA_CODE_INVALID' }),
    expect.objectContaining({ event: 'granted', approver: 'boris.s', factor: 'totp' }),
  ]);
});
