/**
 * Sandbox card processor: a loopback HTTP server that implements
 * `POST /v5/card-api/card/set_pin` as the Freedom Processing Card API page
 * describes. It decrypts with node:crypto — an implementation independent of
 * the station's node-forge code — and keeps only a salted hash per card.
 */
import { constants, createDecipheriv, createHash, privateDecrypt, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { AES256_KEY_HEX, PIN_MAX_LENGTH, PIN_MIN_LENGTH } from '../common/domain';
import type { ProfileName } from '../common/domain';
import type { AddressInfo } from 'node:net';

export const SET_PIN_PATH = '/v5/card-api/card/set_pin';
/** Loopback-only test hook: `POST {card_id, pin}` answers `{pin_set: boolean}`. */
export const PIN_CHECK_PATH = '/sandbox/pin-check';

/** The wire formats the emulator decrypts: the station's profiles. */
export type SandboxProfile = ProfileName;

export interface SandboxKeys {
  /** AES-256 key, 64 hex characters (the sandbox's own copy of `pin-key`). */
  readonly pinKeyHex: string;
  readonly apiToken: string;
  /** The processor's RSA private key (PEM), for the public-key profile. */
  readonly privateKeyPem?: string;
}

/**
 * Faults the sandbox can inject into set_pin answers, one per request in
 * order. "processed" means the PIN is applied before the fault strikes, as a
 * real processor may have done when the answer goes wrong.
 */
export type SandboxFault =
  | { readonly kind: 'latency'; readonly ms: number } // answers normally, late
  | { readonly kind: 'reset-before-body' } // drops the connection as soon as the request starts
  | { readonly kind: 'reset-after-body' } // processed, then the connection is dropped
  | { readonly kind: 'hang' } // processed, never answers
  | { readonly kind: 'http'; readonly status: number } // not processed; answers that HTTP status
  | { readonly kind: 'non-json' } // processed; the answer is not JSON
  | { readonly kind: 'wrong-shape' } // processed; JSON without the seed's fields
  | { readonly kind: 'status-error'; readonly requestStatus: string } // not processed; status "error"
  | { readonly kind: 'invalid-dt' }; // processed; dt is not RFC 3339

export interface SandboxOptions {
  /** The wire format agreed at onboarding (default gcm, so tests that hand it only an AES key need no RSA key). */
  readonly profile?: SandboxProfile;
  /** Faults for the first set_pin requests, in order (more can be queued with injectFaults). */
  readonly faults?: readonly SandboxFault[];
  /** Test hooks: the loopback pin-check endpoint and the record of request bodies (default on; off inside the app). */
  readonly testHooks?: boolean;
  /** Benchmark hook: called with `performance.now()` once a set_pin body has been fully read. */
  readonly onRequest?: (receivedAt: number) => void;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly bodyText: string;
  readonly authorized: boolean;
}

interface StoredPin {
  readonly salt: Buffer;
  readonly hash: Buffer;
  readonly generated: boolean;
}

const MAX_BODY_BYTES = 16 * 1024;

export class SandboxProcessor {
  private server: http.Server | null = null;
  private readonly pins = new Map<string, StoredPin>();
  /** card_id -> PAN, as a processor knows its cards; needed by the iso4 profile. */
  private readonly cards = new Map<string, string>();
  private readonly key: Buffer;
  readonly profile: SandboxProfile;
  /** Every set_pin request received, in order (bodies carry only ciphertext). */
  readonly requests: RecordedRequest[] = [];
  private readonly onRequest: ((receivedAt: number) => void) | undefined;
  private readonly faults: SandboxFault[] = [];
  private readonly testHooks: boolean;
  /** set_pin requests that arrived, counting those a fault cut off before their body was read. */
  attempts = 0;

  private readonly apiToken: string;
  private readonly privateKeyPem: string | undefined;

  // Keeps the key as bytes, never the hex string it came in, so a heap scan for the key's hex means the station.
  constructor(keys: SandboxKeys, options: SandboxOptions = {}) {
    this.apiToken = keys.apiToken;
    this.privateKeyPem = keys.privateKeyPem;
    this.onRequest = options.onRequest;
    this.faults.push(...(options.faults ?? []));
    this.testHooks = options.testHooks ?? true;
    if (!AES256_KEY_HEX.test(keys.pinKeyHex)) throw new Error('sandbox pinKeyHex must be 64 hex characters');
    this.key = Buffer.from(keys.pinKeyHex, 'hex');
    this.profile = options.profile ?? 'gcm';
    if (this.profile === 'public-key' && !keys.privateKeyPem) throw new Error('the public-key profile needs privateKeyPem');
  }

  /** Queues faults for the next set_pin requests, one per request. */
  injectFaults(...faults: SandboxFault[]): void {
    this.faults.push(...faults);
  }

  /** Tells the sandbox a card's PAN (a real processor knows it from issuance). */
  registerCard(cardId: string, pan: string): void {
    this.cards.set(cardId, pan);
  }

  /** Starts on 127.0.0.1 and returns the base URL. */
  async start(port = 0): Promise<string> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const { port: bound } = server.address() as AddressInfo;
    return `http://127.0.0.1:${bound}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** True when `pinDigits` (e.g. "1357") is the PIN now set for the card. */
  isPinSet(cardId: string, pinDigits: string): boolean {
    const stored = this.pins.get(cardId);
    if (!stored || !/^\d+$/.test(pinDigits) || pinDigits.length < PIN_MIN_LENGTH || pinDigits.length > PIN_MAX_LENGTH) return false;
    return timingSafeEqual(stored.hash, hashPin(stored.salt, Buffer.from(pinDigits, 'ascii')));
  }

  wasGenerated(cardId: string): boolean {
    return this.pins.get(cardId)?.generated ?? false;
  }

  /** Decrypts a PIN as the processor would; returns the digits as text, or null if it does not open. */
  decryptPin(pin: string, cardId: string): string | null {
    const digits = this.decrypt(pin, cardId);
    return digits === null ? null : digits.join('');
  }

  private decrypt(pin: string, cardId: string): number[] | null {
    switch (this.profile) {
      case 'gcm':
        return decryptGcmPin(this.key, pin, cardId);
      case 'iso4': {
        const pan = this.cards.get(cardId);
        return pan === undefined ? null : decryptIso4Pin(this.key, pin, pan);
      }
      case 'public-key':
        return decryptRsaOaepPin(this.privateKeyPem ?? '', pin, cardId);
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || (path !== SET_PIN_PATH && path !== PIN_CHECK_PATH)) {
      return reply(res, 404, answer('error', 'not_found'));
    }
    const fault = path === SET_PIN_PATH ? this.faults.shift() : undefined;
    if (path === SET_PIN_PATH) this.attempts++;
    if (fault?.kind === 'reset-before-body') return void req.socket.destroy();
    const bodyText = await readBody(req);
    if (bodyText === null) return reply(res, 413, answer('error', 'body_too_large'));
    if (path === PIN_CHECK_PATH) return this.testHooks ? this.pinCheck(req, res, bodyText) : reply(res, 404, answer('error', 'not_found'));
    this.onRequest?.(performance.now());
    if (fault) return this.withFault(fault, req, res, bodyText);
    const [status, body] = this.setPin(req, bodyText);
    reply(res, status, body);
  }

  private async withFault(fault: SandboxFault, req: http.IncomingMessage, res: http.ServerResponse, bodyText: string): Promise<void> {
    switch (fault.kind) {
      case 'latency': {
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        const [status, body] = this.setPin(req, bodyText);
        return reply(res, status, body);
      }
      case 'http':
        this.record(req, bodyText);
        return reply(res, fault.status, answer('error', `http_${fault.status}`));
      case 'status-error':
        this.record(req, bodyText);
        return reply(res, 200, answer('error', fault.requestStatus));
      case 'reset-before-body':
        return void req.socket.destroy();
    }
    // The remaining faults strike after the PIN was applied.
    this.setPin(req, bodyText);
    switch (fault.kind) {
      case 'reset-after-body':
        return void req.socket.destroy();
      case 'hang':
        return;
      case 'non-json':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Bad gateway</html>');
        return;
      case 'wrong-shape':
        return reply(res, 200, { result: 'done' });
      case 'invalid-dt':
        return reply(res, 200, { ...answer('ok', 'pin_set'), dt: 'yesterday' });
    }
  }

  private record(req: http.IncomingMessage, bodyText: string): boolean {
    const authorized = bearerMatches(req.headers.authorization, this.apiToken);
    if (this.testHooks)
      this.requests.push({ method: req.method ?? 'POST', path: SET_PIN_PATH, contentType: req.headers['content-type'], bodyText, authorized });
    return authorized;
  }

  /** Applies a set_pin request; returns the HTTP status and the seed's answer shape. */
  private setPin(req: http.IncomingMessage, bodyText: string): [number, unknown] {
    if (!this.record(req, bodyText)) return [401, answer('error', 'unauthorized')];
    let body: unknown;
    try {
      body = JSON.parse(bodyText);
    } catch {
      return [400, answer('error', 'malformed_json')];
    }
    if (!isRecord(body) || typeof body.card_id !== 'string' || body.card_id.length === 0) {
      return [200, answer('error', 'invalid_card_id')];
    }
    const extra = Object.keys(body).filter((k) => k !== 'card_id' && k !== 'pin');
    if (extra.length > 0) return [200, answer('error', 'unexpected_parameter')];
    const cardId = body.card_id;
    if (body.pin === undefined) {
      const generated = Array.from({ length: 4 }, () => randomInt(10));
      this.store(cardId, generated, true);
      generated.fill(0);
      return [200, answer('ok', 'pin_generated')];
    }
    if (typeof body.pin !== 'string') return [200, answer('error', 'invalid_pin_block')];
    const digits = this.decrypt(body.pin, cardId);
    if (digits === null) return [200, answer('error', 'invalid_pin_block')];
    this.store(cardId, digits, false);
    digits.fill(0);
    return [200, answer('ok', 'pin_set')];
  }

  private pinCheck(req: http.IncomingMessage, res: http.ServerResponse, bodyText: string): void {
    const remote = req.socket.remoteAddress ?? '';
    if (!(remote === '127.0.0.1' || remote === '::1' || remote === '::ffff:127.0.0.1')) {
      return reply(res, 403, { error: 'loopback only' });
    }
    let body: unknown;
    try {
      body = JSON.parse(bodyText);
    } catch {
      return reply(res, 400, { error: 'malformed JSON' });
    }
    if (!isRecord(body) || typeof body.card_id !== 'string' || typeof body.pin !== 'string') {
      return reply(res, 400, { error: 'expected {card_id, pin}' });
    }
    reply(res, 200, { pin_set: this.isPinSet(body.card_id, body.pin) });
  }

  private store(cardId: string, digits: number[], generated: boolean): void {
    const salt = randomBytes(16);
    const ascii = Buffer.from(digits.map((d) => 0x30 + d));
    this.pins.set(cardId, { salt, hash: hashPin(salt, ascii), generated });
    ascii.fill(0);
  }
}

function hashPin(salt: Buffer, asciiDigits: Buffer): Buffer {
  return createHash('sha256').update(salt).update(asciiDigits).digest();
}

/** nonce(12) || ciphertext(16) || tag(16), AAD = card_id, plaintext = ISO 9564-1 format 4 PIN field. */
function openGcmField(key: Buffer, sealed: Buffer, cardId: string): number[] | null {
  if (sealed.length !== 44) return null;
  let field: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
    decipher.setAAD(Buffer.from(cardId, 'utf8'));
    decipher.setAuthTag(sealed.subarray(28));
    field = Buffer.concat([decipher.update(sealed.subarray(12, 28)), decipher.final()]);
  } catch {
    return null;
  }
  return parsePinField(field);
}

function decryptGcmPin(key: Buffer, pin: string, cardId: string): number[] | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(pin)) return null;
  return openGcmField(key, Buffer.from(pin, 'base64'), cardId);
}

/** base64(wrappedKey || nonce || ciphertext || tag); the session key is RSA-OAEP (SHA-256, MGF1 SHA-256) wrapped. */
function decryptRsaOaepPin(privateKeyPem: string, pin: string, cardId: string): number[] | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(pin)) return null;
  const sealed = Buffer.from(pin, 'base64');
  if (sealed.length <= 44) return null;
  const wrappedLength = sealed.length - 44;
  let sessionKey: Buffer;
  try {
    sessionKey = privateDecrypt({ key: privateKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, sealed.subarray(0, wrappedLength));
  } catch {
    return null;
  }
  if (sessionKey.length !== 32) return null;
  const digits = openGcmField(sessionKey, sealed.subarray(wrappedLength), cardId);
  sessionKey.fill(0);
  return digits;
}

/** 32 hex characters: block = AES(K, AES(K, PIN field) xor PAN field). */
function decryptIso4Pin(key: Buffer, pin: string, pan: string): number[] | null {
  if (!/^[0-9A-Fa-f]{32}$/.test(pin) || !/^\d{1,19}$/.test(pan)) return null;
  const ecbDecrypt = (block: Buffer): Buffer => {
    const decipher = createDecipheriv('aes-256-ecb', key, null);
    decipher.setAutoPadding(false);
    return Buffer.concat([decipher.update(block), decipher.final()]);
  };
  const padded = pan.length < 12 ? pan.padStart(12, '0') : pan;
  const panField = Buffer.from((String(padded.length - 12) + padded).padEnd(32, '0'), 'hex');
  const intermediate = ecbDecrypt(Buffer.from(pin, 'hex'));
  for (let i = 0; i < 16; i++) intermediate[i] = (intermediate[i] as number) ^ (panField[i] as number);
  const field = ecbDecrypt(intermediate);
  intermediate.fill(0);
  return parsePinField(field);
}

/** Checks and reads an ISO 9564-1 format 4 plain PIN field; wipes it. */
function parsePinField(field: Buffer): number[] | null {
  const nibbles: number[] = [];
  for (const byte of field.subarray(0, 8)) nibbles.push(byte >> 4, byte & 0x0f);
  field.fill(0);
  const length = nibbles[1] ?? 0;
  const valid =
    nibbles[0] === 4 && length >= 4 && length <= 12 && nibbles.slice(2, 2 + length).every((n) => n <= 9) && nibbles.slice(2 + length).every((n) => n === 0xa);
  const digits = valid ? nibbles.slice(2, 2 + length) : null;
  nibbles.fill(0);
  return digits;
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const expected = Buffer.from(`Bearer ${token}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function answer(status: 'ok' | 'error', requestStatus: string): { status: string; request_status: string; dt: string } {
  return { status, request_status: requestStatus, dt: rfc3339Now() };
}

/** YYYY-MM-DDThh:mm:ss+hh:mm, as the API page gives it. */
export function rfc3339Now(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
