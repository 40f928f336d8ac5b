/**
 * The shipper's link to the collector: one TLS connection (only the configured CA, optionally a pinned
 * fingerprint, optionally the station's client certificate), its failures as short codes, a polite end, and the
 * reconnect delay (exponential with jitter). Nothing here knows about records or the trail.
 */
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { CERT_DATE_CODES, UNTRUSTED_CHAIN_CODES } from '../tls-codes';

export interface LinkOptions {
  readonly host: string;
  readonly port: number;
  /** PEM text of the collector's CA. Only this CA is trusted (Node's roots are not added). */
  readonly ca: string;
  /** When set, the peer certificate's SHA-256 fingerprint (hex, colons optional) must match too. */
  readonly fingerprintSha256?: string;
  /** The station's certificate and private key (PEM), presented to the collector (mutual TLS). */
  readonly clientCert?: { readonly cert: string; readonly key: string };
}

const FINGERPRINT_MISMATCH = 'PIN_STATION_FINGERPRINT_MISMATCH';
const KEEPALIVE_MS = 30_000;
const CLOSE_WAIT_MS = 1000;

/** The failure as a short code; never the error's message (it may name the peer's certificate). */
export function shipFailureCode(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? String((error as NodeJS.ErrnoException).code ?? '') : '';
  if (code === FINGERPRINT_MISMATCH) return 'TLS_FINGERPRINT';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'TLS_NAME_MISMATCH';
  if (CERT_DATE_CODES.has(code)) return 'TLS_EXPIRED';
  if (UNTRUSTED_CHAIN_CODES.has(code)) return 'TLS_UNTRUSTED';
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'TLS_HANDSHAKE';
  if (code === 'ETIMEDOUT') return 'CONNECT_TIMEOUT';
  return 'CONNECT_FAILED';
}

/** An errno-style code fit for the log, or UNKNOWN. */
export function errnoCode(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as NodeJS.ErrnoException).code : undefined;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : 'UNKNOWN';
}

function normaliseFingerprint(value: string): string {
  return value.replace(/:/g, '').toLowerCase();
}

/**
 * Starts a TLS connection (keep-alive on, Nagle off). Throws the failure code when the options themselves are bad
 * (e.g. a CA that is not PEM): the caller retries like any failure, so fixing the file is enough.
 */
export function openLink(opts: LinkOptions): TLSSocket {
  const fingerprint = opts.fingerprintSha256 ? normaliseFingerprint(opts.fingerprintSha256) : null;
  const { host, port, ca, clientCert } = opts;
  let socket: TLSSocket;
  try {
    socket = tls.connect({
      host,
      port,
      ca,
      ...(clientCert ? { cert: clientCert.cert, key: clientCert.key } : {}),
      // SNI carries names only; an IP address is checked against the certificate's IP SANs.
      servername: isIP(host) ? undefined : host,
      minVersion: 'TLSv1.2',
      // The usual certificate name check, then the fingerprint when one is configured.
      checkServerIdentity: (name: string, cert: PeerCertificate): Error | undefined => {
        const nameError = tls.checkServerIdentity(name, cert);
        if (nameError) return nameError;
        if (fingerprint !== null && normaliseFingerprint(cert.fingerprint256 ?? '') !== fingerprint) {
          return Object.assign(new Error('collector certificate fingerprint mismatch'), { code: FINGERPRINT_MISMATCH });
        }
        return undefined;
      },
    });
  } catch (error) {
    const code = shipFailureCode(error);
    throw new LinkConfigError(code === 'CONNECT_FAILED' ? 'TLS_CONFIG' : code);
  }
  socket.setKeepAlive(true, KEEPALIVE_MS);
  socket.setNoDelay(true);
  return socket;
}

/** openLink() could not even start: the options are unusable. `code` is the short failure code. */
export class LinkConfigError extends Error {
  constructor(readonly code: string) {
    super(code);
    this.name = 'LinkConfigError';
  }
}

/** Ends a socket politely, and destroys it if the peer does not close within CLOSE_WAIT_MS. */
export function endSocket(socket: TLSSocket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, CLOSE_WAIT_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.end();
  });
}

/** Reconnect delays: exponential from minMs to maxMs, with equal jitter so stations do not reconnect in step. */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  /** The delay before the next attempt (and counts it). */
  next(): number {
    const base = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.min(this.maxMs, Math.max(this.minMs, base / 2 + (Math.random() * base) / 2));
  }

  /** A connection worked: the next reconnect starts from the shortest delay. */
  reset(): void {
    this.attempt = 0;
  }
}

/** Resolves when the socket has taken what it buffered, or closed; a socket that takes nothing for stallMs times out. */
export function whenDrained(socket: TLSSocket, stallMs: number): Promise<void> {
  if (socket.destroyed) return Promise.resolve(); // its 'close' may have passed already
  socket.setTimeout(stallMs);
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      if (!socket.destroyed) socket.setTimeout(0);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
