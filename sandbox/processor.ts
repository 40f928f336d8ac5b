/**
 * Sandbox card processor: a loopback HTTP server that implements
 * `POST /v5/card-api/card/set_pin` as the Freedom Processing Card API page
 * describes. It decrypts with node:crypto — an implementation independent of
 * the station's node-forge code — and keeps only a salted hash per card.
 */
import { createHash, createDecipheriv, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const SET_PIN_PATH = '/v5/card-api/card/set_pin';
/** Loopback-only test hook: `POST {card_id, pin}` answers `{pin_set: boolean}`. */
export const PIN_CHECK_PATH = '/sandbox/pin-check';

export interface SandboxKeys {
  /** AES-256 key, 64 hex characters (the sandbox's own copy of `pin-key`). */
  readonly pinKeyHex: string;
  readonly apiToken: string;
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
  private readonly key: Buffer;
  /** Every set_pin request received, in order (bodies carry only ciphertext). */
  readonly requests: RecordedRequest[] = [];

  constructor(private readonly keys: SandboxKeys) {
    if (!/^[0-9a-fA-F]{64}$/.test(keys.pinKeyHex)) throw new Error('sandbox pinKeyHex must be 64 hex characters');
    this.key = Buffer.from(keys.pinKeyHex, 'hex');
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
    if (!stored || !/^\d{4,12}$/.test(pinDigits)) return false;
    return timingSafeEqual(stored.hash, hashPin(stored.salt, Buffer.from(pinDigits, 'ascii')));
  }

  wasGenerated(cardId: string): boolean {
    return this.pins.get(cardId)?.generated ?? false;
  }

  /** Decrypts a `gcm` PIN as the processor would; returns the digits as text, or null if it does not open. */
  decryptPin(pin: string, cardId: string): string | null {
    const digits = decryptGcmPin(this.key, pin, cardId);
    return digits === null ? null : digits.join('');
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || (path !== SET_PIN_PATH && path !== PIN_CHECK_PATH)) {
      return reply(res, 404, answer('error', 'not_found'));
    }
    const bodyText = await readBody(req);
    if (bodyText === null) return reply(res, 413, answer('error', 'body_too_large'));
    if (path === PIN_CHECK_PATH) return this.pinCheck(req, res, bodyText);

    const authorized = bearerMatches(req.headers.authorization, this.keys.apiToken);
    this.requests.push({ method: req.method, path, contentType: req.headers['content-type'], bodyText, authorized });
    if (!authorized) return reply(res, 401, answer('error', 'unauthorized'));
    let body: unknown;
    try {
      body = JSON.parse(bodyText);
    } catch {
      return reply(res, 400, answer('error', 'malformed_json'));
    }
    if (!isRecord(body) || typeof body.card_id !== 'string' || body.card_id.length === 0) {
      return reply(res, 200, answer('error', 'invalid_card_id'));
    }
    const extra = Object.keys(body).filter((k) => k !== 'card_id' && k !== 'pin');
    if (extra.length > 0) return reply(res, 200, answer('error', 'unexpected_parameter'));
    const cardId = body.card_id;
    if (body.pin === undefined) {
      const generated = Array.from({ length: 4 }, () => randomInt(10));
      this.store(cardId, generated, true);
      generated.fill(0);
      return reply(res, 200, answer('ok', 'pin_generated'));
    }
    if (typeof body.pin !== 'string') return reply(res, 200, answer('error', 'invalid_pin_block'));
    const digits = decryptGcmPin(this.key, body.pin, cardId);
    if (digits === null) return reply(res, 200, answer('error', 'invalid_pin_block'));
    this.store(cardId, digits, false);
    digits.fill(0);
    return reply(res, 200, answer('ok', 'pin_set'));
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

/** base64(nonce(12) || ciphertext(16) || tag(16)), AAD = card_id, plaintext = ISO 9564-1 format 4 PIN field. */
function decryptGcmPin(key: Buffer, pin: string, cardId: string): number[] | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(pin)) return null;
  const sealed = Buffer.from(pin, 'base64');
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
  const nibbles: number[] = [];
  for (const byte of field.subarray(0, 8)) nibbles.push(byte >> 4, byte & 0x0f);
  field.fill(0);
  const length = nibbles[1] ?? 0;
  const valid =
    nibbles[0] === 4 &&
    length >= 4 &&
    length <= 12 &&
    nibbles.slice(2, 2 + length).every((n) => n <= 9) &&
    nibbles.slice(2 + length).every((n) => n === 0xa);
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
