/**
 * Staff sign-in with single sign-on, end to end: the operator window (browser harness) asks main to sign in,
 * main opens "the system browser" (here a page of a second Chromium) at a real OpenID provider started by the
 * test (npm oidc-provider, with its own login pages), the person types their credentials there, and the
 * provider redirects to main's loopback listener. Tampered and expired ID tokens and a wrong state are refused.
 */
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { readAuditKey, verifyAuditFile } from '../../main/core/audit';
import { completeProviderLogin, launchLoginBrowser, startTestIdentityProvider } from '../harness/oidc-provider';
import type { TestIdentityProvider } from '../harness/oidc-provider';
import { startCard, statusText } from '../harness/journeys';
import { useStation } from '../harness/launch-station';
import type { LaunchedStation } from '../harness/launch-station';

const ANNA = { username: 'anna', password: 'anna-correct-horse', groups: ['branch-staff'], name: 'Anna Kowalska', preferredUsername: 'anna.k' };
const BORIS = { username: 'boris', password: 'boris-staple-battery', groups: ['branch-supervisors', 'auditors'], preferredUsername: 'boris.s' };
const VISITOR = { username: 'visitor', password: 'visitor-battery-staple', groups: ['visitors'] };
/** Signed in at the provider with a password alone: its ID token has no amr. */
const PETRA = { username: 'petra', password: 'petra-horse-staple', groups: ['branch-staff'], preferredUsername: 'petra.n', amr: null };
/** A password alone (amr ["pwd"]) at the bank's multi-factor assurance level (acr). */
const MFA_ACR = 'urn:bank:loa:mfa';
const OLEG = { username: 'oleg', password: 'oleg-battery-horse', groups: ['branch-staff'], preferredUsername: 'oleg.v', amr: ['pwd'], acr: MFA_ACR };
const ROLE_GROUPS = { operator: ['branch-staff'], supervisor: ['branch-supervisors'], admin: ['it-admins'], auditor: ['auditors'] };

const launch = useStation();
let idp: TestIdentityProvider;
let loginBrowser: Browser;
let loginContext: BrowserContext;

beforeAll(async () => {
  [idp, loginBrowser] = await Promise.all([startTestIdentityProvider({ accounts: [ANNA, BORIS, VISITOR, PETRA, OLEG] }), launchLoginBrowser()]);
});
afterAll(async () => {
  await loginBrowser?.close();
  await idp?.close();
});
beforeEach(async () => {
  loginContext = await loginBrowser.newContext();
});
afterEach(async () => {
  idp.setTokenRewrite('none');
  for (const page of loginContext.pages()) await page.close({ runBeforeUnload: true });
  await loginContext.close();
});

interface SsoStation {
  readonly s: LaunchedStation;
  /** The next URL main opens in the system browser. */
  nextBrowserUrl(): Promise<string>;
}

async function launchSso(
  approval?: { require?: ('processor-generated' | 'repeat' | 'after-outcome-unknown' | 'every-set')[] },
  mfa: { acrValues?: string[] } = {},
): Promise<SsoStation> {
  const opened: string[] = [];
  const waiters: ((url: string) => void)[] = [];
  const s = await launch({
    config: {
      auth: {
        provider: 'oidc',
        oidc: { issuer: idp.issuer, clientId: idp.clientId, scopes: ['openid', 'profile', 'groups'], roleGroups: ROLE_GROUPS, timeoutSeconds: 60, ...mfa },
      },
      ...(approval ? { approval } : {}),
    },
    openSystemBrowser: (url) => {
      const waiter = waiters.shift();
      if (waiter) waiter(url);
      else opened.push(url);
    },
  });
  return {
    s,
    nextBrowserUrl: () => {
      const ready = opened.shift();
      return ready !== undefined ? Promise.resolve(ready) : new Promise<string>((resolve) => waiters.push(resolve));
    },
  };
}

/** Presses the window's single-sign-on button and completes the provider's login in the "system browser". */
async function signInThroughProvider(station: SsoStation, button: string, account: { username: string; password: string }): Promise<Page> {
  const url = station.nextBrowserUrl();
  await station.s.operator.getByRole('button', { name: button }).click();
  const page = await loginContext.newPage();
  await completeProviderLogin(page, await url, account.username, account.password);
  return page;
}

const staffRecords = (s: LaunchedStation): Record<string, unknown>[] =>
  readFileSync(s.auditPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.type === 'staff');

it('signs in through the provider: name and roles from the ID token, a PIN set on record under that name; lock and unlock', async () => {
  // Dual control off: a processor-generated PIN needs a supervisor by default; approval by sign-on is tested below.
  const station = await launchSso({ require: [] });
  const { s } = station;
  expect(await s.operator.getByRole('textbox', { name: 'User name' }).count()).toBe(0);
  await signInThroughProvider(station, 'Sign in with single sign-on', ANNA);
  await s.operator.getByText('Signed in: Anna Kowalska').waitFor();
  expect(s.core.staff.view()).toMatchObject({ state: 'signed-in', provider: 'oidc', username: 'anna.k', roles: ['operator'] });

  await startCard(s.operator, 'SSO-1', 'Processor generates PIN');
  await expect.poll(() => statusText(s.operator)).toContain('generated');
  await s.operator.getByRole('button', { name: 'Lock' }).click();
  await s.operator.getByRole('button', { name: 'Sign out' }).waitFor();
  await signInThroughProvider(station, 'Unlock with single sign-on', ANNA);
  await s.operator.getByText('Signed in: Anna Kowalska').waitFor();

  const card = readFileSync(s.auditPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((record) => record.cardId === 'SSO-1' && record.type === undefined);
  expect(card).toMatchObject({ operator: 'anna.k', outcome: 'pin-generated' });
  // The provider's amr showed a second factor: the sign-in and unlock records say so.
  expect(staffRecords(s).map((record) => [record.event, record.username, record.provider, record.factor])).toEqual([
    ['sign-in', 'anna.k', 'oidc', 'idp'],
    ['lock', 'anna.k', 'oidc', undefined],
    ['unlock', 'anna.k', 'oidc', 'idp'],
  ]);
  expect(verifyAuditFile(s.auditPath, await readAuditKey(s.keyStore))).toMatchObject({ ok: true });
});

it('a person whose groups grant no role cannot sign in; another person unlocking takes over the desk', async () => {
  const station = await launchSso();
  const { s } = station;
  await signInThroughProvider(station, 'Sign in with single sign-on', VISITOR);
  await expect.poll(() => s.operator.getByRole('alert').textContent()).toBe('Your groups at the identity provider grant no role on this station.');
  expect(s.core.staff.view().state).toBe('signed-out');

  await signInThroughProvider(station, 'Sign in with single sign-on', ANNA);
  await s.operator.getByText('Signed in: Anna Kowalska').waitFor();
  await s.operator.getByRole('button', { name: 'Lock' }).click();
  await signInThroughProvider(station, 'Unlock with single sign-on', BORIS);
  await s.operator.getByText('Signed in: boris.s').waitFor();
  expect(s.core.staff.view()).toMatchObject({ username: 'boris.s', roles: ['supervisor', 'auditor'] });
  expect(staffRecords(s).map((record) => `${String(record.event)}:${String(record.username)}:${String(record.reason)}`)).toEqual([
    'sign-in-failed:(single sign-on):SSO_NO_ROLE',
    'sign-in:anna.k:null',
    'lock:anna.k:manual',
    'sign-out:anna.k:other-user',
    'sign-in:boris.s:null',
  ]);
});

it('an ID token without amr (a password alone at the provider) is refused as SSO_MFA_MISSING, named in the window', async () => {
  const station = await launchSso();
  const { s } = station;
  const url = station.nextBrowserUrl();
  await s.operator.getByRole('button', { name: 'Sign in with single sign-on' }).click();
  // No acr_values configured: none is asked for.
  const authorization = new URL(await url);
  expect(authorization.searchParams.has('acr_values')).toBe(false);
  await completeProviderLogin(await loginContext.newPage(), authorization.href, PETRA.username, PETRA.password);
  await expect
    .poll(() => s.operator.getByRole('alert').textContent())
    .toBe('The identity provider did not confirm a second factor (multi-factor authentication) for this sign-in.');
  expect(s.core.staff.view().state).toBe('signed-out');
  expect(staffRecords(s)).toEqual([expect.objectContaining({ event: 'sign-in-failed', username: '(single sign-on)', reason: 'SSO_MFA_MISSING' })]);
  expect(staffRecords(s)[0]?.factor).toBeUndefined();

  // The same station signs in a person whose provider did ask for a second factor.
  await signInThroughProvider(station, 'Sign in with single sign-on', ANNA);
  await s.operator.getByText('Signed in: Anna Kowalska').waitFor();
});

it('auth.oidc.acrValues is sent as acr_values, and an ID token with that acr signs in though its amr is "pwd" alone', async () => {
  const station = await launchSso({ require: [] }, { acrValues: [MFA_ACR] });
  const { s } = station;
  const url = station.nextBrowserUrl();
  await s.operator.getByRole('button', { name: 'Sign in with single sign-on' }).click();
  const authorization = new URL(await url);
  expect(authorization.searchParams.get('acr_values')).toBe(MFA_ACR);
  await completeProviderLogin(await loginContext.newPage(), authorization.href, OLEG.username, OLEG.password);
  await s.operator.getByText('Signed in: oleg.v').waitFor();
  expect(staffRecords(s)).toEqual([expect.objectContaining({ event: 'sign-in', username: 'oleg.v', factor: 'idp' })]);
});

const refusals = [
  { what: 'a tampered ID token', rewrite: 'tamper', code: 'SSO_TOKEN_INVALID', text: "The identity provider's ID token failed its checks" },
  { what: 'an expired ID token', rewrite: 'expired', code: 'SSO_TOKEN_EXPIRED', text: "The identity provider's ID token has expired" },
] as const;

for (const refusal of refusals) {
  it(`${refusal.what} is refused with its own message, and nobody is signed in`, async () => {
    const station = await launchSso();
    const { s } = station;
    idp.setTokenRewrite(refusal.rewrite);
    await signInThroughProvider(station, 'Sign in with single sign-on', ANNA);
    await expect.poll(() => s.operator.getByRole('alert').textContent()).toContain(refusal.text);
    expect(s.core.staff.view().state).toBe('signed-out');
    expect(staffRecords(s)).toEqual([expect.objectContaining({ event: 'sign-in-failed', reason: refusal.code })]);
    // Nothing the provider sent reaches the log, the trail or the window.
    const token = idp.lastIdToken ?? '';
    expect(token.length).toBeGreaterThan(20);
    for (const text of [s.logLines.join('\n'), readFileSync(s.auditPath, 'utf8'), await s.operator.content()]) expect(text).not.toContain(token.split('.')[2]);
  });
}

it('a callback whose state was changed on the way is refused as a state mismatch before any token is asked for', async () => {
  const station = await launchSso();
  const { s } = station;
  const url = station.nextBrowserUrl();
  await s.operator.getByRole('button', { name: 'Sign in with single sign-on' }).click();
  const page = await loginContext.newPage();
  const authorization = new URL(await url);
  const redirect = new URL(authorization.searchParams.get('redirect_uri') ?? '');
  // page.route() does not see a request that follows a redirect; CDP's Fetch domain does.
  const cdp = await loginContext.newCDPSession(page);
  cdp.on('Fetch.requestPaused', (event: { requestId: string; request: { url: string } }) => {
    const callback = new URL(event.request.url);
    callback.searchParams.set('state', `${callback.searchParams.get('state') ?? ''}x`);
    void cdp.send('Fetch.continueRequest', { requestId: event.requestId, url: callback.href });
  });
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: `${redirect.origin}/callback*` }] });
  const tokensBefore = idp.tokenRequests;
  await completeProviderLogin(page, authorization.href, ANNA.username, ANNA.password);
  await expect.poll(() => s.operator.getByRole('alert').textContent()).toContain('The sign-in answer does not belong to this sign-in (state mismatch).');
  expect(idp.tokenRequests).toBe(tokensBefore);
  expect(s.core.staff.view().state).toBe('signed-out');
  expect(staffRecords(s)).toEqual([expect.objectContaining({ event: 'sign-in-failed', reason: 'SSO_STATE_MISMATCH' })]);
});

it('a supervisor approves with a fresh single sign-on in the dialog; the operator cannot approve their own Start', async () => {
  const station = await launchSso({ require: ['processor-generated'] });
  const { s } = station;
  await signInThroughProvider(station, 'Sign in with single sign-on', ANNA);
  await s.operator.getByText('Signed in: Anna Kowalska').waitFor();
  await startCard(s.operator, 'SSO-APPROVE-1', 'Processor generates PIN');
  const dialog = s.operator.getByRole('dialog', { name: 'Supervisor approval' });
  await dialog.waitFor();
  expect(await dialog.getByRole('textbox', { name: 'Supervisor user name' }).count()).toBe(0);
  // The operator signs in at the provider as the approver: refused as self-approval.
  await signInThroughProvider(station, 'Approve with single sign-on', ANNA);
  await expect.poll(() => dialog.getByRole('alert').textContent()).toBe('You cannot approve your own action: another supervisor must approve it.');
  expect(s.sandbox?.attempts).toBe(0);
  await signInThroughProvider(station, 'Approve with single sign-on', BORIS);
  await expect.poll(() => statusText(s.operator)).toContain('generated');
  expect(s.sandbox?.attempts).toBe(1);
  const card = readFileSync(s.auditPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((record) => record.cardId === 'SSO-APPROVE-1' && record.type === undefined);
  expect(card).toMatchObject({ operator: 'anna.k', approver: 'boris.s', approvalMethod: 'sso', approvalRule: 'processor-generated' });
  // The approver's provider showed a second factor: the grant says so.
  const granted = readFileSync(s.auditPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((record) => record.type === 'approval' && record.event === 'granted');
  expect(granted).toMatchObject({ approver: 'boris.s', method: 'sso', factor: 'idp' });
});
