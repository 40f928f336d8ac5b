/**
 * Client for the Freedom Processing Card API `set_pin` call. It retries only
 * when nothing can have been sent (connection refused, name not resolved);
 * once the request may have reached the processor, a failure is reported as
 * "outcome unknown" so staff check before trying again.
 */
import http from 'node:http';
import { createHash, X509Certificate } from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { PRINTABLE_TOKEN } from '../../common/domain';
import { StationError } from '../../common/errors';
import type { ProcessorOutcome } from '../../common/ipc';
import { CERT_DATE_CODES, UNTRUSTED_CHAIN_CODES } from './tls-codes';

export const SET_PIN_PATH = '/v5/card-api/card/set_pin';
const MAX_RESPONSE_BYTES = 64 * 1024;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

const responseSchema = z.object({
  status: z.enum(['ok', 'error']),
  // Printable only: it is shown to staff and written to the audit trail.
  request_status: z
    .string()
    .max(200)
    .regex(/^[^\p{Cc}]*$/u),
  dt: z
    .string()
    .regex(RFC3339)
    .refine((value) => !Number.isNaN(Date.parse(value))),
});

export interface SetPinRequest {
  readonly cardId: string;
  /** Encrypted PIN; omitted when the processor generates the PIN. */
  readonly pin?: string;
  /** The bearer token when the caller has already read it (never part of the body). */
  readonly token?: string;
}

export interface CardApi {
  setPin(request: SetPinRequest): Promise<ProcessorOutcome>;
}

export interface CardApiClientOptions {
  readonly baseUrl: string;
  readonly connectTimeoutMs: number;
  readonly totalTimeoutMs: number;
  /** Reads the bearer token per call (from the keychain). */
  readonly getToken: () => Promise<string>;
  /** SPKI pins: base64 SHA-256 of the server key's SubjectPublicKeyInfo; when set, the key must match one. */
  readonly pins?: readonly string[];
  /** Extra trusted CA certificates (PEM), e.g. a processor's private CA. */
  readonly ca?: string;
  /** Automatic retries when the connection was refused or the name did not resolve (nothing sent). */
  readonly retries?: number;
  readonly retryDelayMs?: number;
}

/** Failures that prove the request never left this computer, so a retry cannot duplicate it. */
const NEVER_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);
const PIN_MISMATCH_CODE = 'PIN_STATION_SPKI_PIN_MISMATCH';

class RetryableError extends StationError {}

/** base64 SHA-256 of a certificate's SubjectPublicKeyInfo (the HPKP pin-sha256 form). */
export function spkiPin(cert: PeerCertificate): string | null {
  if (!cert.raw) return null;
  // cert.pubkey is the SPKI only for RSA (a raw point for EC, absent for Ed25519), so derive it from the certificate.
  const spki = new X509Certificate(cert.raw).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** HTTPS everywhere; plain HTTP only to this computer. */
export function parseProcessorUrl(baseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new StationError('CONFIG_INVALID', 'processor.baseUrl is not a valid URL.');
  }
  // Credentials in the address would be sent to whoever answers, and `a@b` hides the real host in plain sight.
  if (url.username !== '' || url.password !== '') {
    throw new StationError('CONFIG_INVALID', 'processor.baseUrl must not contain a user name or password.');
  }
  if (url.protocol === 'https:') return url;
  // Only a literal 127.x address is loopback; a DNS name such as 127.example.com is not.
  if (url.protocol === 'http:' && (LOOPBACK_HOSTS.has(url.hostname) || (isIPv4(url.hostname) && url.hostname.startsWith('127.')))) return url;
  throw new StationError('PROCESSOR_URL_INSECURE');
}

/**
 * The set_pin endpoint: the base URL's origin plus a normalised path, never a
 * URL resolved against the base (a path starting with `//` would name another
 * host). The result is checked again against the HTTPS/loopback rule.
 */
export function processorEndpoint(baseUrl: string): URL {
  if (baseUrl.includes('\\')) throw new StationError('CONFIG_INVALID', 'processor.baseUrl must not contain a backslash.');
  const base = parseProcessorUrl(baseUrl);
  if (base.search !== '' || base.hash !== '') throw new StationError('CONFIG_INVALID', 'processor.baseUrl must not contain a query or a fragment.');
  const segments = base.pathname.split('/').filter((segment) => segment !== '');
  // An encoded slash, backslash or percent sign, or a dot segment, means a different path to each server that decodes it.
  if (segments.some((segment) => /%2f|%5c|%25/i.test(segment) || /^(%2e|\.){1,2}$/i.test(segment))) {
    throw new StationError('CONFIG_INVALID', 'processor.baseUrl has an encoded slash or dot segment in its path.');
  }
  const path = (segments.length > 0 ? `/${segments.join('/')}` : '') + SET_PIN_PATH;
  const endpoint = new URL(base.origin);
  endpoint.pathname = path;
  parseProcessorUrl(endpoint.href);
  if (endpoint.origin !== base.origin || endpoint.pathname !== path) {
    throw new StationError('CONFIG_INVALID', 'processor.baseUrl does not give a usable set_pin address.');
  }
  return endpoint;
}

export class CardApiClient implements CardApi {
  private readonly endpoint: URL;
  private readonly agent: http.Agent;

  constructor(private readonly options: CardApiClientOptions) {
    this.endpoint = processorEndpoint(options.baseUrl);
    // A pin checks a TLS key; over plain HTTP there is none, so the setting would silently do nothing.
    if (this.endpoint.protocol !== 'https:' && (options.pins?.length ?? 0) > 0) {
      throw new StationError('CONFIG_INVALID', 'processor.pins needs an https:// processor.baseUrl.');
    }
    const AgentClass = this.endpoint.protocol === 'https:' ? https.Agent : http.Agent;
    // A fresh connection per call: a reused idle socket that the server has just
    // closed would turn a clean failure into "outcome unknown".
    this.agent = new AgentClass({ keepAlive: false });
  }

  async setPin(request: SetPinRequest): Promise<ProcessorOutcome> {
    const token = request.token ?? (await this.options.getToken());
    if (!PRINTABLE_TOKEN.test(token)) {
      throw new StationError('KEYCHAIN_ENTRY_MALFORMED', 'Entry "api-token" must be printable ASCII without spaces.');
    }
    const body = JSON.stringify(request.pin === undefined ? { card_id: request.cardId } : { card_id: request.cardId, pin: request.pin });
    const retries = this.options.retries ?? 2;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.post(body, token);
      } catch (error) {
        if (!(error instanceof RetryableError) || attempt >= retries) {
          throw error instanceof RetryableError ? new StationError('PROCESSOR_UNREACHABLE') : error;
        }
        await new Promise((resolve) => setTimeout(resolve, (this.options.retryDelayMs ?? 250) * 2 ** attempt));
      }
    }
  }

  /** Hostname check as usual, then the key pin when pins are configured. */
  private checkServerIdentity(host: string, cert: PeerCertificate): Error | undefined {
    const nameError = tls.checkServerIdentity(host, cert);
    if (nameError) return nameError;
    const pins = this.options.pins;
    const pin = spkiPin(cert);
    if (pins && pins.length > 0 && (pin === null || !pins.includes(pin))) {
      return Object.assign(new Error('SPKI pin mismatch'), { code: PIN_MISMATCH_CODE });
    }
    return undefined;
  }

  /** A connection-level error before anything was written: which one, in the operator's words. */
  private beforeSendError(error: NodeJS.ErrnoException): StationError {
    const code = error.code ?? '';
    if (code === PIN_MISMATCH_CODE) return new StationError('PROCESSOR_TLS_PIN_MISMATCH');
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return new StationError('PROCESSOR_TLS_NAME_MISMATCH');
    if (UNTRUSTED_CHAIN_CODES.has(code) || CERT_DATE_CODES.has(code)) return new StationError('PROCESSOR_TLS_UNTRUSTED');
    if (NEVER_SENT_CODES.has(code)) return new RetryableError('PROCESSOR_UNREACHABLE');
    return new StationError('PROCESSOR_UNREACHABLE');
  }

  close(): void {
    this.agent.destroy();
  }

  private post(body: string, token: string): Promise<ProcessorOutcome> {
    const transport = this.endpoint.protocol === 'https:' ? https : http;
    return new Promise<ProcessorOutcome>((resolve, reject) => {
      let settled = false;
      // False until a connection exists: before that, nothing can have reached the processor.
      let mayHaveBeenDelivered = false;
      let connectTimer: NodeJS.Timeout | undefined;
      const finish = (outcome: ProcessorOutcome | StationError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(totalTimer);
        clearTimeout(connectTimer);
        if (outcome instanceof StationError) {
          req.destroy();
          reject(outcome);
        } else resolve(outcome);
      };
      const failAfterSend = (detail?: string): StationError =>
        mayHaveBeenDelivered ? new StationError('OUTCOME_UNKNOWN', detail) : new StationError('PROCESSOR_UNREACHABLE', detail);

      const req = transport.request(this.endpoint, {
        method: 'POST',
        agent: this.agent,
        ...(this.endpoint.protocol === 'https:'
          ? {
              checkServerIdentity: (host: string, cert: PeerCertificate) => this.checkServerIdentity(host, cert),
              // `ca` replaces Node's trusted roots, so keep them and add the configured CA.
              ...(this.options.ca ? { ca: [...tls.rootCertificates, this.options.ca] } : {}),
            }
          : {}),
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${token}`,
        },
      });
      const totalTimer = setTimeout(() => finish(failAfterSend('(timed out)')), this.options.totalTimeoutMs);
      req.on('socket', (socket) => {
        const connected = (): void => {
          clearTimeout(connectTimer);
          mayHaveBeenDelivered = true;
        };
        if (!socket.connecting) return connected();
        connectTimer = setTimeout(() => finish(new StationError('PROCESSOR_UNREACHABLE', '(connection timed out)')), this.options.connectTimeoutMs);
        socket.once(this.endpoint.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
      });
      req.on('error', (error: NodeJS.ErrnoException) => finish(mayHaveBeenDelivered ? failAfterSend() : this.beforeSendError(error)));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) finish(new StationError('PROCESSOR_BAD_RESPONSE', '(answer too large)'));
          else chunks.push(chunk);
        });
        res.on('error', () => finish(failAfterSend()));
        res.on('aborted', () => finish(failAfterSend()));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          // A server error, a non-200 success or a request timeout may still have been processed.
          if (status >= 500 || (status >= 200 && status < 300 && status !== 200) || status === 408) {
            return finish(new StationError('OUTCOME_UNKNOWN', `(HTTP ${status})`));
          }
          if (status !== 200) return finish(new StationError('PROCESSOR_HTTP_ERROR', `(HTTP ${status})`));
          let json: unknown;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            return finish(new StationError('PROCESSOR_BAD_RESPONSE', '(not JSON)'));
          }
          const parsed = responseSchema.safeParse(json);
          if (!parsed.success) return finish(new StationError('PROCESSOR_BAD_RESPONSE', '(unexpected fields)'));
          finish({ status: parsed.data.status, requestStatus: parsed.data.request_status, dt: parsed.data.dt });
        });
      });
      req.end(body);
    });
  }
}
