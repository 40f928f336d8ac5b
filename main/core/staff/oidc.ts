/**
 * Staff sign-in at the bank's OpenID Connect identity provider: authorization
 * code flow with PKCE (S256) in the system browser, answered on a loopback
 * redirect (RFC 8252, section 7.3). Only the ID token's claims are used; the
 * access and refresh tokens are dropped. Codes, tokens, state, nonce and the
 * PKCE verifier are never logged nor put in an error.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { StationError } from '../../../common/errors';
import { ROLES, type Role } from '../../../common/staff';
import type { OidcConfig } from '../config';
import type { Logger } from '../log';

export interface OidcIdentity {
  readonly subject: string;
  /** settings.usernameClaim when a non-empty string, else sub; at most 128 characters, no control characters. */
  readonly username: string;
  readonly displayName: string | null;
  /** In ROLES order; never empty. */
  readonly roles: readonly Role[];
  /** When the person last entered their credentials at the provider (seconds since the epoch). */
  readonly authTime: number | null;
  /** 'idp' when the provider showed a second factor (auth.oidc.mfa); absent when the check is off. */
  readonly factor?: 'idp';
}

export interface OidcSignInDeps {
  /** Opens the system browser at the authorization URL (shell.openExternal in the app; a Playwright page in tests). */
  readonly openBrowser: (url: string) => Promise<void> | void;
  readonly log?: Logger;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
const CALLBACK_PATH = '/callback';
const USERNAME_MAX = 128;
const DISPLAY_NAME_MAX = 256;
/** C0/C1 controls, line separators and bidi overrides: they could forge lines or reorder text in the audit trail. */
const UNSAFE_TEXT = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
/** The only IdP value that may reach a message: an OAuth error code such as "access_denied". */
const OAUTH_ERROR_TOKEN = /^[a-z_]{1,64}$/;

const CALLBACK_PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>PIN Station</title></head>
<body><p>PIN Station received the sign-in answer. You can close this window and return to the station.</p></body></html>
`;

/** Throws CONFIG_INVALID unless the issuer is HTTPS, or plain HTTP on this computer (tests, a local IdP). */
function checkIssuer(issuer: string): { url: URL; insecure: boolean } {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new StationError('CONFIG_INVALID', 'auth.oidc.issuer is not a URL.');
  }
  if (url.protocol === 'https:') return { url, insecure: false };
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return { url, insecure: true };
  throw new StationError('CONFIG_INVALID', 'auth.oidc.issuer must use HTTPS (plain HTTP is allowed only on this computer).');
}

/** Constant-time comparison; hashing first hides the length too. */
function sameSecret(a: string, b: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

function oauthErrorToken(value: unknown): string | undefined {
  return typeof value === 'string' && OAUTH_ERROR_TOKEN.test(value) ? value : undefined;
}

function safeText(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  return text.length > 0 && text.length <= max && !UNSAFE_TEXT.test(text) ? text : null;
}

/** The groups claim: an array of strings (other members ignored) or a single string. */
function groupsOf(value: unknown): Set<string> {
  if (typeof value === 'string') return new Set([value]);
  if (Array.isArray(value)) return new Set(value.filter((group): group is string => typeof group === 'string'));
  return new Set();
}

/**
 * Whether the ID token shows multi-factor: an `amr` (RFC 8176) value in auth.oidc.mfaAmr, or an `acr` in
 * auth.oidc.acrValues. Only the verified token counts; what the station asked for proves nothing.
 */
function provesMfa(claims: client.IDToken, settings: OidcConfig): boolean {
  const amr: unknown = claims.amr;
  if (Array.isArray(amr) && amr.some((method) => typeof method === 'string' && settings.mfaAmr.includes(method))) return true;
  const acr: unknown = claims.acr;
  return typeof acr === 'string' && (settings.acrValues ?? []).includes(acr);
}

function identityFrom(claims: client.IDToken | undefined, settings: OidcConfig): OidcIdentity {
  // authorizationCodeGrant with a nonce always requires an ID token; this guards a future refactor.
  if (!claims) throw new StationError('SSO_TOKEN_INVALID', '(no ID token)');
  if (settings.mfa && !provesMfa(claims, settings)) throw new StationError('SSO_MFA_MISSING');
  const claimed = claims[settings.usernameClaim];
  const username = typeof claimed === 'string' && claimed.length > 0 ? claimed : claims.sub;
  if (username.length > USERNAME_MAX || UNSAFE_TEXT.test(username)) throw new StationError('SSO_TOKEN_INVALID', '(unusable user name claim)');
  const groups = groupsOf(claims[settings.groupsClaim]);
  const roles = ROLES.filter((role) => settings.roleGroups[role].some((group) => groups.has(group)));
  if (roles.length === 0) throw new StationError('SSO_NO_ROLE');
  return {
    subject: claims.sub,
    username,
    displayName: safeText(claims.name, DISPLAY_NAME_MAX),
    roles,
    authTime: typeof claims.auth_time === 'number' ? claims.auth_time : null,
    ...(settings.mfa ? { factor: 'idp' as const } : {}),
  };
}

/** A connection-level failure of fetch (refused, reset, DNS, TLS), as opposed to an answer the IdP gave. */
function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError && (error.message === 'fetch failed' || (error.cause instanceof Error && 'code' in error.cause));
}

/** openid-client nests oauth4webapi's error (whose cause says which claim failed) in its ClientError. */
function failedTimestampClaim(error: client.ClientError): unknown {
  const inner = error.cause;
  if (inner instanceof Error && typeof inner.cause === 'object' && inner.cause !== null && 'claim' in inner.cause) return inner.cause.claim;
  return undefined;
}

/** Maps what openid-client throws to one specific, secret-free StationError. */
function toStationError(error: unknown, phase: 'discovery' | 'exchange'): StationError {
  if (error instanceof StationError) return error;
  if (isNetworkError(error)) return new StationError('SSO_UNREACHABLE');
  if (error instanceof client.ResponseBodyError) return new StationError('SSO_FAILED', oauthErrorToken(error.error));
  if (error instanceof client.AuthorizationResponseError) {
    return error.error === 'access_denied' ? new StationError('SSO_CANCELLED') : new StationError('SSO_FAILED', oauthErrorToken(error.error));
  }
  if (error instanceof client.ClientError) {
    const code = error.code;
    if (code === 'OAUTH_TIMEOUT') return new StationError('SSO_UNREACHABLE');
    if (code === 'OAUTH_HTTP_REQUEST_FORBIDDEN' || code === 'OAUTH_REQUEST_PROTOCOL_FORBIDDEN') return new StationError('CONFIG_INVALID', '(issuer protocol)');
    if (phase === 'discovery') {
      // The metadata names another issuer than the one configured: the configuration (or the address) is wrong.
      if (code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') return new StationError('CONFIG_INVALID', "(the provider's issuer differs from auth.oidc.issuer)");
      return new StationError('SSO_FAILED', '(discovery)');
    }
    switch (code) {
      case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED': {
        const claim = failedTimestampClaim(error);
        // exp in the past or auth_time older than max_age; an nbf/iat in the future is a bad token, not an old one.
        return claim === 'exp' || claim === 'auth_time' ? new StationError('SSO_TOKEN_EXPIRED') : new StationError('SSO_TOKEN_INVALID');
      }
      case 'OAUTH_INVALID_RESPONSE': // bad signature, malformed JWT, missing claims, wrong "iss" parameter
      case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED': // iss, aud, azp, nonce
      case 'OAUTH_KEY_SELECTION_FAILED': // no key in the JWKS matches the token's header
      case 'OAUTH_PARSE_ERROR':
      case 'OAUTH_UNSUPPORTED_OPERATION': // e.g. an HS* or unknown alg
        return new StationError('SSO_TOKEN_INVALID');
    }
  }
  return new StationError('SSO_FAILED');
}

/** One sign-in in progress: its loopback listener, its deadline and the way to abandon it. */
class Attempt {
  readonly cancelled: Promise<never>;
  server: http.Server | null = null;
  reason: 'cancel' | 'timeout' | null = null;
  private rejectCancelled: (error: StationError) => void = () => undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(timeoutSeconds: number) {
    this.cancelled = new Promise<never>((_resolve, reject) => {
      this.rejectCancelled = reject;
    });
    this.cancelled.catch(() => undefined); // observed through race(); never an unhandled rejection
    this.timer = setTimeout(() => this.abandon('timeout'), timeoutSeconds * 1000);
    this.timer.unref();
  }

  /** Whatever `work` resolves to, unless the attempt is cancelled (or times out) first. */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.cancelled]);
  }

  abandon(reason: 'cancel' | 'timeout'): void {
    if (this.reason !== null) return;
    this.reason = reason;
    this.rejectCancelled(new StationError('SSO_CANCELLED'));
    this.close();
  }

  close(): void {
    clearTimeout(this.timer);
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.close();
    server.closeAllConnections();
  }
}

export class OidcSignIn {
  private readonly issuer: URL;
  private readonly insecure: boolean;
  private discovered: Promise<client.Configuration> | null = null;
  private current: Attempt | null = null;

  /** Throws CONFIG_INVALID for an issuer that is plain HTTP off this computer. */
  constructor(
    private readonly settings: OidcConfig,
    private readonly deps: OidcSignInDeps,
  ) {
    ({ url: this.issuer, insecure: this.insecure } = checkIssuer(settings.issuer));
  }

  /** One fresh sign-in: prompt=login and max_age=0 every time (auth_time checked), so an unlock or an approval is never an old session. */
  async signIn(): Promise<OidcIdentity> {
    this.cancel(); // one sign-in at a time: a new one replaces the one in progress
    const attempt = new Attempt(this.settings.timeoutSeconds);
    this.current = attempt;
    let phase: 'discovery' | 'exchange' = 'discovery';
    this.deps.log?.info('sso.start', {});
    try {
      const config = await attempt.race(this.configuration());
      phase = 'exchange';
      const identity = await attempt.race(this.authorize(config, attempt));
      this.deps.log?.info('sso.ok', { username: identity.username, roles: identity.roles.join(',') });
      return identity;
    } catch (error) {
      const failure = toStationError(error, phase);
      this.deps.log?.warn('sso.failed', { code: failure.code, ...(attempt.reason ? { reason: attempt.reason } : {}) });
      throw failure;
    } finally {
      attempt.close();
      if (this.current === attempt) this.current = null;
    }
  }

  /** Abandons a sign-in in progress: its promise rejects with SSO_CANCELLED and the loopback listener closes. */
  cancel(): void {
    this.current?.abandon('cancel');
    this.current = null;
  }

  /** Discovery once, on first use; a failure is not cached, so the next sign-in tries again. */
  private configuration(): Promise<client.Configuration> {
    if (!this.discovered) {
      const execute = [client.enableNonRepudiationChecks]; // without it openid-client v6 does not verify the ID token signature
      if (this.insecure) execute.push(client.allowInsecureRequests);
      // clockTolerance (not clockSkew, which shifts "now" one way) is the leeway for exp, nbf and auth_time.
      const metadata: Partial<client.ClientMetadata> = { [client.clockTolerance]: this.settings.clockSkewSeconds };
      const discovered = client.discovery(this.issuer, this.settings.clientId, metadata, client.None(), { execute });
      discovered.catch(() => {
        if (this.discovered === discovered) this.discovered = null;
      });
      this.discovered = discovered;
    }
    return this.discovered;
  }

  private async authorize(config: client.Configuration, attempt: Attempt): Promise<OidcIdentity> {
    const { port, callback } = await listenForCallback(attempt);
    const redirectUri = `http://127.0.0.1:${port}${CALLBACK_PATH}`;
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: this.settings.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      prompt: 'login',
      max_age: '0',
      // A request only: the provider may ignore it, so the ID token's amr/acr is what is checked.
      ...(this.settings.mfa && this.settings.acrValues ? { acr_values: this.settings.acrValues.join(' ') } : {}),
    });
    if (attempt.reason !== null) throw new StationError('SSO_CANCELLED');
    try {
      await this.deps.openBrowser(url.href);
    } catch {
      throw new StationError('SSO_FAILED', '(the system browser could not be opened)');
    }
    const received = await callback;
    const params = received.searchParams;
    // Checked here, in constant time, before anything else: an answer for another sign-in must never reach the token endpoint.
    const returnedState = params.get('state');
    if (returnedState === null || !sameSecret(returnedState, state)) throw new StationError('SSO_STATE_MISMATCH');
    const error = params.get('error');
    if (error !== null) throw error === 'access_denied' ? new StationError('SSO_CANCELLED') : new StationError('SSO_FAILED', oauthErrorToken(error));
    const tokens = await client.authorizationCodeGrant(config, received, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, maxAge: 0 });
    // The access and refresh tokens are not kept: the station only needs who signed in, from the verified ID token.
    return identityFrom(tokens.claims(), this.settings);
  }
}

/** Starts the loopback listener (127.0.0.1, a port the system picks); `callback` resolves with the first GET /callback. */
async function listenForCallback(attempt: Attempt): Promise<{ port: number; callback: Promise<URL> }> {
  let deliver: (url: URL) => void = () => undefined;
  const callback = new Promise<URL>((resolve) => {
    deliver = resolve;
  });
  let port = 0;
  let answered = false;
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`);
    // Only our own address as Host: a page elsewhere cannot reach this listener through DNS rebinding.
    const ours = request.method === 'GET' && url.pathname === CALLBACK_PATH && request.headers.host === `127.0.0.1:${port}` && !answered;
    if (!ours) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
      response.end('Not found\n');
      return;
    }
    answered = true;
    response.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'",
      'referrer-policy': 'no-referrer',
      connection: 'close',
    });
    response.end(CALLBACK_PAGE, () => {
      server.close();
      server.closeAllConnections();
    });
    deliver(url);
  });
  attempt.server = server;
  // Not raced: binding completes asynchronously, so a cancel meanwhile is handled once the port is really open.
  await new Promise<void>((resolve, reject) => {
    server.on('error', () => reject(new StationError('SSO_FAILED', '(the loopback listener could not start)'))); // kept: a later error must not crash the app
    server.listen(0, '127.0.0.1', () => resolve());
  });
  if (attempt.reason !== null) {
    server.close();
    throw new StationError('SSO_CANCELLED');
  }
  port = (server.address() as AddressInfo).port;
  return { port, callback: attempt.race(callback) };
}
