/**
 * A real OpenID Connect provider for the staff sign-in tests: npm oidc-provider
 * on 127.0.0.1 with its own development login and consent pages, a native
 * public client (PKCE required, loopback redirect on any port), and a signing
 * key this harness keeps so that tests can rewrite the ID token it issues.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, base64url, exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

export type TokenRewrite = 'none' | 'tamper' | 'expired' | 'stale-auth-time';

export interface TestAccount {
  /** What the person types as login; also the subject (oidc-provider makes the account id the `sub`). */
  readonly username: string;
  readonly password: string;
  readonly groups: readonly string[];
  readonly name?: string;
  /** The `preferred_username` claim; the login when absent. */
  readonly preferredUsername?: string;
  /**
   * The ID token's `amr` (RFC 8176) for this person's logins: ["pwd", "otp"] when absent (a provider that asks
   * for a second factor); null leaves the claim out, as a provider that does not report methods.
   */
  readonly amr?: readonly string[] | null;
  /** The ID token's `acr` for this person's logins; none when absent. */
  readonly acr?: string;
}

export interface TestIdentityProviderOptions {
  readonly accounts: readonly TestAccount[];
  readonly clientId?: string;
}

export interface TestIdentityProvider {
  readonly issuer: string;
  readonly clientId: string;
  /** Token endpoint requests received so far (any outcome). */
  readonly tokenRequests: number;
  /** The last ID token the station received (after any rewrite), to check it never leaks into a message. */
  readonly lastIdToken: string | null;
  /**
   * Rewrites the id_token in the next token responses: 'tamper' edits payload claims keeping the signature;
   * 'expired' re-signs with the provider's key with exp 2 minutes in the past (iat 3 minutes); 'stale-auth-time'
   * re-signs with auth_time 1 hour ago; 'none' stops.
   */
  setTokenRewrite(mode: TokenRewrite): void;
  close(): Promise<void>;
}

/** The little of Koa's context the middleware below touches (oidc-provider ships no types). */
interface KoaContext {
  readonly method: string;
  readonly path: string;
  readonly req: IncomingMessage;
  readonly request: { body?: unknown };
  status: number;
  type: string;
  body: unknown;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface LoginResult {
  login?: { accountId: string; amr?: string[]; acr?: string };
}
interface ProviderInstance {
  use(middleware: Middleware): void;
  callback(): (request: IncomingMessage, response: ServerResponse) => void;
  interactionFinished(request: IncomingMessage, response: ServerResponse, result: LoginResult, options?: unknown): Promise<void>;
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;

/** A variable specifier keeps TypeScript from asking for the types oidc-provider does not ship. */
const OIDC_PROVIDER_MODULE = 'oidc-provider';

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function samePassword(typed: string, expected: string): boolean {
  const a = Buffer.from(typed, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

const REFUSED_PAGE =
  '<!DOCTYPE html><html lang="en"><head><title>Sign-in failed</title></head><body><h1>Sign-in failed</h1><p>Wrong user name or password.</p></body></html>';

export async function startTestIdentityProvider(options: TestIdentityProviderOptions): Promise<TestIdentityProvider> {
  const clientId = options.clientId ?? 'pin-station';
  const accounts = new Map(options.accounts.map((account) => [account.username, account]));

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingJwk: JWK = { ...(await exportJWK(privateKey)), kid: `test-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' };

  // Listen first: the issuer must name the port.
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { default: Provider } = (await import(OIDC_PROVIDER_MODULE)) as { default: ProviderConstructor };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        application_type: 'native',
        // RFC 8252 7.3: for a loopback redirect the provider accepts any port, so one registration serves every sign-in.
        redirect_uris: ['http://127.0.0.1/callback'],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [signingJwk] },
    // The acr values the accounts log in with (oidc-provider leaves acr out of every token without this list).
    acrValues: [...new Set(options.accounts.flatMap((account) => (account.acr ? [account.acr] : [])))],
    pkce: { required: () => true },
    // Scope-granted claims go into the ID token itself (the station reads no userinfo).
    conformIdTokenClaims: false,
    // amr and acr with the openid scope, so they are in every ID token whose login set them.
    claims: { openid: ['sub', 'acr', 'amr'], profile: ['name', 'preferred_username'], groups: ['groups'] },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    findAccount: (_ctx: unknown, id: string) => {
      const account = accounts.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        claims: () => ({ sub: id, name: account.name, preferred_username: account.preferredUsername ?? account.username, groups: [...account.groups] }),
      };
    },
  });

  // The development login page finishes a login with the account id alone; the methods and level the person
  // "used" are added here, so the ID token carries them as a real provider's would.
  const finishInteraction = provider.interactionFinished.bind(provider);
  provider.interactionFinished = (request, response, result, finishOptions) => {
    const account = result.login ? accounts.get(result.login.accountId) : undefined;
    if (result.login && account) {
      const amr = account.amr === undefined ? ['pwd', 'otp'] : account.amr;
      result = { ...result, login: { ...result.login, ...(amr ? { amr: [...amr] } : {}), ...(account.acr ? { acr: account.acr } : {}) } };
    }
    return finishInteraction(request, response, result, finishOptions);
  };

  let rewrite: TokenRewrite = 'none';
  let tokenRequests = 0;
  let lastIdToken: string | null = null;

  const rewriteIdToken = async (idToken: string): Promise<string> => {
    const [header = '', payload = ''] = idToken.split('.');
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as Record<string, unknown>;
    const now = Math.floor(Date.now() / 1000);
    if (rewrite === 'tamper') {
      const edited = { ...claims, name: 'Mallory', preferred_username: 'mallory' };
      return idToken.replace(payload, base64url.encode(JSON.stringify(edited)));
    }
    const protectedHeader = JSON.parse(new TextDecoder().decode(base64url.decode(header))) as { alg: string; kid?: string };
    const edited = rewrite === 'expired' ? { ...claims, iat: now - 180, exp: now - 120 } : { ...claims, auth_time: now - 3600 };
    return new SignJWT(edited).setProtectedHeader(protectedHeader).sign(privateKey);
  };

  provider.use(async (ctx, next) => {
    // The development login page accepts any password; a real provider does not, so check it before the page's handler.
    if (ctx.method === 'POST' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
      const raw = await readBody(ctx.req);
      ctx.request.body = raw; // oidc-provider's own body parser falls back to a body already read
      const form = new URLSearchParams(raw);
      if (form.get('prompt') === 'login') {
        const account = accounts.get(form.get('login') ?? '');
        if (!account || !samePassword(form.get('password') ?? '', account.password)) {
          ctx.status = 401;
          ctx.type = 'html';
          ctx.body = REFUSED_PAGE;
          return;
        }
      }
    }
    const isToken = ctx.method === 'POST' && ctx.path === '/token';
    if (isToken) tokenRequests += 1;
    await next();
    if (!isToken || ctx.status !== 200 || typeof ctx.body !== 'object' || ctx.body === null) return;
    const body = ctx.body as Record<string, unknown>;
    if (typeof body.id_token !== 'string') return;
    if (rewrite !== 'none') body.id_token = await rewriteIdToken(body.id_token);
    lastIdToken = body.id_token as string;
  });
  server.on('request', provider.callback());

  return {
    issuer,
    clientId,
    get tokenRequests() {
      return tokenRequests;
    },
    get lastIdToken() {
      return lastIdToken;
    },
    setTokenRewrite(mode) {
      rewrite = mode;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Chromium standing in for the system browser; the provider's pages load Google Fonts, and there is no internet here. */
export async function launchLoginBrowser(): Promise<Browser> {
  const args = [
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ];
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args });
}

/**
 * Drives the provider's own login (and consent) pages in a browser page, as a person would in the system browser.
 * Resolves once the browser has loaded the redirect_uri (the station's loopback callback); rejects when the
 * provider refuses the user name or password.
 */
export async function completeProviderLogin(page: Page, authorizationUrl: string, username: string, password: string): Promise<void> {
  const redirectUri = new URL(authorizationUrl).searchParams.get('redirect_uri');
  if (redirectUri === null) throw new Error('completeProviderLogin: the authorization URL has no redirect_uri');
  await page.goto(authorizationUrl);
  await page.locator('input[name=login]').fill(username);
  await page.locator('input[name=password]').fill(password);
  let loaded = page.waitForEvent('load');
  await page.locator('button[type=submit]').click();
  for (let step = 0; step < 3; step += 1) {
    await loaded;
    const url = new URL(page.url());
    if (`${url.origin}${url.pathname}` === redirectUri) return;
    if ((await page.getByText('Wrong user name or password').count()) > 0) throw new Error('the identity provider refused the user name or password');
    const consent = page.locator('form:has(input[name=prompt][value=consent]) button[type=submit]');
    if ((await consent.count()) === 0) throw new Error(`completeProviderLogin: unexpected page at ${url.pathname}`);
    loaded = page.waitForEvent('load');
    await consent.click();
  }
  throw new Error('completeProviderLogin: the provider did not redirect back');
}
