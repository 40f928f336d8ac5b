/**
 * Staff sign-in through a real OpenID Connect provider (npm oidc-provider) and
 * a real Chromium page standing in for the system browser: the station's
 * OidcSignIn opens the provider's own login page, the browser is redirected to
 * the station's loopback listener, and the station exchanges the code.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StationError } from '../../common/errors';
import type { OidcConfig } from '../../main/core/config';
import { Logger, memorySink } from '../../main/core/log';
import { OidcSignIn } from '../../main/core/staff/oidc';
import type { OidcIdentity } from '../../main/core/staff/oidc';
import { completeProviderLogin, launchLoginBrowser, startTestIdentityProvider } from '../harness/oidc-provider';
import type { TestIdentityProvider } from '../harness/oidc-provider';
import { thrownStationError } from '../helpers/station-error';

const ANNA = {
  username: 'anna',
  password: 'anna-correct-horse',
  groups: ['branch-staff', 'branch-supervisors'],
  name: 'Anna Kowalska',
  preferredUsername: 'anna.k',
};
const VISITOR = { username: 'visitor', password: 'visitor-battery-staple', groups: ['visitors'] };
/** A provider that signs this person in with a password alone and reports no methods (no amr claim). */
const PETRA = { username: 'petra', password: 'petra-horse-staple', groups: ['branch-staff'], amr: null };
/** A password alone (amr ["pwd"]), but at the bank's multi-factor assurance level (acr). */
const OLEG = { username: 'oleg', password: 'oleg-battery-horse', groups: ['branch-staff'], amr: ['pwd'], acr: 'urn:bank:loa:mfa' };
const MFA_ACR = 'urn:bank:loa:mfa';
const ROLE_GROUPS = { operator: ['branch-staff'], supervisor: ['branch-supervisors'], admin: ['it-admins'], auditor: ['auditors'] };

let idp: TestIdentityProvider;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  [idp, browser] = await Promise.all([startTestIdentityProvider({ accounts: [ANNA, VISITOR, PETRA, OLEG] }), launchLoginBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await idp?.close();
});
beforeEach(async () => {
  context = await browser.newContext();
});
afterEach(async () => {
  idp.setTokenRewrite('none');
  for (const page of context.pages()) await page.close({ runBeforeUnload: true });
  await context.close();
});

function settings(overrides: Partial<OidcConfig> = {}): OidcConfig {
  return {
    issuer: idp.issuer,
    clientId: idp.clientId,
    scopes: ['openid', 'profile', 'groups'],
    groupsClaim: 'groups',
    usernameClaim: 'preferred_username',
    roleGroups: ROLE_GROUPS,
    clockSkewSeconds: 60,
    timeoutSeconds: 60,
    mfa: true,
    mfaAmr: ['mfa', 'otp', 'hwk', 'swk'],
    ...overrides,
  };
}

interface Started {
  readonly signIn: OidcSignIn;
  readonly result: Promise<OidcIdentity>;
  readonly url: URL;
  readonly page: Page;
  readonly logLines: string[];
  settled(): boolean;
}

/** Starts a sign-in and waits for the station to "open the system browser" at the authorization URL. */
async function startSignIn(overrides: Partial<OidcConfig> = {}): Promise<Started> {
  const logLines: string[] = [];
  let opened: (url: string) => void = () => undefined;
  const authorizationUrl = new Promise<string>((resolve) => {
    opened = resolve;
  });
  const signIn = new OidcSignIn(settings(overrides), { openBrowser: (url) => opened(url), log: new Logger('debug', [memorySink(logLines)]) });
  let done = false;
  const result = signIn.signIn().finally(() => {
    done = true;
  });
  result.catch(() => undefined); // each test awaits it; this only keeps an early rejection from being reported as unhandled
  const url = new URL(await Promise.race([authorizationUrl, result.then(() => 'resolved before opening the browser')]));
  return { signIn, result, url, page: await context.newPage(), logLines, settled: () => done };
}

async function failure(promise: Promise<unknown>): Promise<StationError> {
  const error = await promise.then(
    () => new Error('expected the sign-in to fail, but it succeeded'),
    (e: unknown) => e,
  );
  if (error instanceof StationError) return error;
  throw error;
}

/** The code and state the provider sent back (from the callback URL the browser loaded) and the ID token, none of which may leak. */
function expectNoSecrets(started: Started, error: StationError | null): void {
  const callback = new URL(started.page.url());
  const secrets = [callback.searchParams.get('code'), callback.searchParams.get('state'), started.url.searchParams.get('state'), idp.lastIdToken];
  secrets.push(started.url.searchParams.get('nonce'), started.url.searchParams.get('code_challenge'));
  const texts = [...started.logLines, error?.message ?? ''];
  for (const secret of secrets.filter((value): value is string => value !== null && value.length > 0)) {
    for (const text of texts) expect(text).not.toContain(secret);
  }
}

/** True once nothing listens at the loopback redirect_uri any more. */
async function listenerClosed(redirectUri: string): Promise<boolean> {
  return fetch(redirectUri).then(
    () => false,
    () => true,
  );
}

describe('OidcSignIn against a real identity provider', () => {
  it('signs in through the provider’s own login page: PKCE S256, prompt=login, max_age=0, loopback redirect; roles from groups', async () => {
    const started = await startSignIn();
    const { url, page } = started;
    expect(`${url.origin}${url.pathname}`).toBe(`${idp.issuer}/auth`);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('client_id')).toBe(idp.clientId);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get('prompt')).toBe('login');
    expect(url.searchParams.get('max_age')).toBe('0');
    expect(url.searchParams.get('scope')).toBe('openid profile groups');
    expect(url.searchParams.get('state')).toMatch(/^[\w-]{20,}$/);
    expect(url.searchParams.get('nonce')).toMatch(/^[\w-]{20,}$/);
    const redirect = new URL(url.searchParams.get('redirect_uri') ?? '');
    expect(redirect.protocol).toBe('http:');
    expect(redirect.hostname).toBe('127.0.0.1');
    expect(Number(redirect.port)).toBeGreaterThan(0);
    expect(redirect.pathname).toBe('/callback');

    // Only GET /callback is answered, and nothing is consumed by a stray request.
    expect((await fetch(new URL('/other', redirect))).status).toBe(404);
    expect((await fetch(redirect, { method: 'POST' })).status).toBe(404);

    const before = idp.tokenRequests;
    await completeProviderLogin(page, url.href, ANNA.username, ANNA.password);
    const identity = await started.result;
    expect(identity).toEqual({
      subject: 'anna',
      username: 'anna.k',
      displayName: 'Anna Kowalska',
      roles: ['operator', 'supervisor'],
      authTime: expect.any(Number),
      factor: 'idp',
    });
    expect(url.searchParams.has('acr_values')).toBe(false);
    expect(Math.abs((identity.authTime ?? 0) - Date.now() / 1000)).toBeLessThan(30);
    expect(idp.tokenRequests).toBe(before + 1);

    // The page the browser shows echoes nothing; the listener is gone.
    const callback = new URL(page.url());
    expect(callback.searchParams.get('code')).toBeTruthy();
    const shown = await page.content();
    expect(shown).toContain('close this window');
    expect(shown).not.toContain(callback.searchParams.get('code'));
    expect(await listenerClosed(redirect.href)).toBe(true);
    expect(started.logLines.some((line) => line.includes('"event":"sso.ok"') && line.includes('"roles":"operator,supervisor"'))).toBe(true);
    expectNoSecrets(started, null);
  });

  it('a wrong password at the provider does not sign in; cancel() then ends the wait with SSO_CANCELLED and closes the listener', async () => {
    const started = await startSignIn();
    const redirectUri = started.url.searchParams.get('redirect_uri') ?? '';
    const before = idp.tokenRequests;
    await expect(completeProviderLogin(started.page, started.url.href, ANNA.username, 'not-the-password')).rejects.toThrow(/refused/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(started.settled()).toBe(false);
    expect(idp.tokenRequests).toBe(before);
    started.signIn.cancel();
    const error = await failure(started.result);
    expect(error.code).toBe('SSO_CANCELLED');
    expect(await listenerClosed(redirectUri)).toBe(true);
  });

  it('groups that grant no role: SSO_NO_ROLE', async () => {
    const started = await startSignIn();
    await completeProviderLogin(started.page, started.url.href, VISITOR.username, VISITOR.password);
    const error = await failure(started.result);
    expect(error.code).toBe('SSO_NO_ROLE');
    expectNoSecrets(started, error);
  });

  it('an ID token edited after signing (signature no longer matches): SSO_TOKEN_INVALID', async () => {
    idp.setTokenRewrite('tamper');
    const started = await startSignIn();
    await completeProviderLogin(started.page, started.url.href, ANNA.username, ANNA.password);
    const error = await failure(started.result);
    expect(error.code).toBe('SSO_TOKEN_INVALID');
    expect(idp.lastIdToken).toBeTruthy();
    expectNoSecrets(started, error);
  });

  it('an expired ID token (validly signed): SSO_TOKEN_EXPIRED', async () => {
    idp.setTokenRewrite('expired');
    const started = await startSignIn();
    await completeProviderLogin(started.page, started.url.href, ANNA.username, ANNA.password);
    const error = await failure(started.result);
    expect(error.code).toBe('SSO_TOKEN_EXPIRED');
    expectNoSecrets(started, error);
  });

  it('clockSkewSeconds is the tolerance applied: the same token 2 minutes past exp passes with 300 s', async () => {
    idp.setTokenRewrite('expired');
    const started = await startSignIn({ clockSkewSeconds: 300 });
    await completeProviderLogin(started.page, started.url.href, ANNA.username, ANNA.password);
    expect((await started.result).username).toBe('anna.k');
  });

  it('an ID token whose auth_time is an hour old (validly signed): SSO_TOKEN_EXPIRED', async () => {
    idp.setTokenRewrite('stale-auth-time');
    const started = await startSignIn();
    await completeProviderLogin(started.page, started.url.href, ANNA.username, ANNA.password);
    const error = await failure(started.result);
    expect(error.code).toBe('SSO_TOKEN_EXPIRED');
    expectNoSecrets(started, error);
  });

  it('a callback whose state was changed on the way: SSO_STATE_MISMATCH, and the code never reaches the token endpoint', async () => {
    const started = await startSignIn();
    const redirect = new URL(started.url.searchParams.get('redirect_uri') ?? '');
    // Playwright's page.route() does not see requests that follow a redirect, so pause the callback with CDP's Fetch domain.
    const cdp = await context.newCDPSession(started.page);
    let rewritten = 0;
    cdp.on('Fetch.requestPaused', (event: { requestId: string; request: { url: string } }) => {
      const url = new URL(event.request.url);
      url.searchParams.set('state', `${url.searchParams.get('state') ?? ''}x`);
      rewritten += 1;
      void cdp.send('Fetch.continueRequest', { requestId: event.requestId, url: url.href });
    });
    await cdp.send('Fetch.enable', { patterns: [{ urlPattern: `${redirect.origin}/callback*` }] });
    const before = idp.tokenRequests;
    await completeProviderLogin(started.page, started.url.href, ANNA.username, ANNA.password);
    const error = await failure(started.result);
    expect(rewritten).toBe(1);
    expect(error.code).toBe('SSO_STATE_MISMATCH');
    expect(idp.tokenRequests).toBe(before);
    expectNoSecrets(started, error);
  });

  it('"Cancel" on the provider’s login page (error=access_denied): SSO_CANCELLED', async () => {
    const started = await startSignIn();
    await started.page.goto(started.url.href);
    const loaded = started.page.waitForEvent('load');
    await started.page.getByRole('link', { name: '[ Cancel ]' }).click();
    await loaded;
    expect(new URL(started.page.url()).searchParams.get('error')).toBe('access_denied');
    const error = await failure(started.result);
    expect(error.code).toBe('SSO_CANCELLED');
  });
});

describe('OidcSignIn: multi-factor at the provider (auth.oidc.mfa)', () => {
  it('an ID token without amr (a password alone at the provider): SSO_MFA_MISSING, nobody signed in', async () => {
    const started = await startSignIn();
    await completeProviderLogin(started.page, started.url.href, PETRA.username, PETRA.password);
    const error = await failure(started.result);
    expect(error.code).toBe('SSO_MFA_MISSING');
    expect(error.message).toContain('did not confirm a second factor');
    expect(started.logLines.some((line) => line.includes('"event":"sso.failed"') && line.includes('SSO_MFA_MISSING'))).toBe(true);
    expectNoSecrets(started, error);
  });

  it('amr values outside auth.oidc.mfaAmr do not count: ["pwd", "otp"] is refused when only "hwk" is accepted', async () => {
    const started = await startSignIn({ mfaAmr: ['hwk'] });
    await completeProviderLogin(started.page, started.url.href, ANNA.username, ANNA.password);
    expect((await failure(started.result)).code).toBe('SSO_MFA_MISSING');
  });

  it('acrValues: sent as acr_values, and an ID token with that acr is accepted though its amr is "pwd" alone', async () => {
    const started = await startSignIn({ acrValues: [MFA_ACR, 'urn:bank:loa:high'] });
    expect(started.url.searchParams.get('acr_values')).toBe(`${MFA_ACR} urn:bank:loa:high`);
    await completeProviderLogin(started.page, started.url.href, OLEG.username, OLEG.password);
    expect(await started.result).toMatchObject({ subject: 'oleg', roles: ['operator'], factor: 'idp' });
  });

  it('the same acr is not enough when it is not one of auth.oidc.acrValues (none configured): SSO_MFA_MISSING', async () => {
    const started = await startSignIn();
    await completeProviderLogin(started.page, started.url.href, OLEG.username, OLEG.password);
    expect((await failure(started.result)).code).toBe('SSO_MFA_MISSING');
  });

  it('with auth.oidc.mfa false, an ID token without amr signs in, no factor is claimed and no acr_values is sent', async () => {
    const started = await startSignIn({ mfa: false, acrValues: [MFA_ACR] });
    expect(started.url.searchParams.has('acr_values')).toBe(false);
    await completeProviderLogin(started.page, started.url.href, PETRA.username, PETRA.password);
    const identity = await started.result;
    expect(identity.subject).toBe('petra');
    expect(identity.factor).toBeUndefined();
  });
});

describe('OidcSignIn without a browser', () => {
  const noBrowser = { openBrowser: () => undefined };

  it('an http:// issuer off this computer is refused (CONFIG_INVALID); HTTPS and loopback HTTP are accepted', () => {
    const error = thrownStationError(() => new OidcSignIn(settings({ issuer: 'http://idp.bank.example' }), noBrowser));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(() => new OidcSignIn(settings({ issuer: 'https://idp.bank.example' }), noBrowser)).not.toThrow();
    expect(() => new OidcSignIn(settings({ issuer: 'http://localhost:9' }), noBrowser)).not.toThrow();
  });

  it('a provider that is down: SSO_UNREACHABLE, and no browser is opened', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    let opened = 0;
    const signIn = new OidcSignIn(settings({ issuer: `http://127.0.0.1:${port}` }), { openBrowser: () => void (opened += 1) });
    const error = await failure(signIn.signIn());
    expect(error.code).toBe('SSO_UNREACHABLE');
    expect(opened).toBe(0);
  });

  it('a second signIn() cancels the first; the timeout ends a sign-in nobody completes (SSO_CANCELLED)', async () => {
    const opened: string[] = [];
    const signIn = new OidcSignIn(settings({ timeoutSeconds: 1 }), { openBrowser: (url) => void opened.push(url) });
    const first = signIn.signIn();
    await expect.poll(() => opened.length).toBe(1);
    const second = signIn.signIn();
    expect((await failure(first)).code).toBe('SSO_CANCELLED');
    const startedAt = Date.now();
    expect((await failure(second)).code).toBe('SSO_CANCELLED');
    expect(Date.now() - startedAt).toBeGreaterThan(500);
    expect(opened).toHaveLength(2);
    expect(await listenerClosed(new URL(opened[1] ?? '').searchParams.get('redirect_uri') ?? '')).toBe(true);
  });
});
