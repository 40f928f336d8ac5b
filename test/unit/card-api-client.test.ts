import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_MESSAGES, StationError } from '../../common/errors';
import { thrownStationError } from '../helpers/station-error';
import type { ErrorCode } from '../../common/errors';
import { CardApiClient, SET_PIN_PATH, parseProcessorUrl, processorEndpoint } from '../../main/core/card-api-client';
import type { CardApiClientOptions } from '../../main/core/card-api-client';

const TOKEN = 'tok-Secret_4711.abc';
const PIN = 'PINBLOCK-b64+/Zq9==';
const DT = '2026-01-01T00:00:00+00:00';

interface SeenRequest {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

interface TestServer {
  readonly base: string;
  readonly port: number;
  /** Requests whose headers arrived, in order (body filled once it has been read). */
  readonly requests: SeenRequest[];
  /** Number of requests whose headers arrived, counted before the body is read. */
  readonly arrived: () => number;
}

const servers: http.Server[] = [];
const clients: CardApiClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

async function startServer(handler: Handler): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  let arrived = 0;
  const server = http.createServer((req, res) => {
    arrived++;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  servers.push(server);
  const port = await listen(server);
  return { base: `http://127.0.0.1:${port}`, port, requests, arrived: () => arrived };
}

function json(status: number, body: unknown): Handler {
  return (_req, res) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
}

const okAnswer = json(200, { status: 'ok', request_status: 'pin_set', dt: DT });

function makeClient(baseUrl: string, overrides: Partial<CardApiClientOptions> = {}): CardApiClient {
  const client = new CardApiClient({
    baseUrl,
    connectTimeoutMs: 2_000,
    totalTimeoutMs: 5_000,
    getToken: async () => TOKEN,
    ...overrides,
  });
  clients.push(client);
  return client;
}

async function rejection(promise: Promise<unknown>): Promise<StationError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StationError) return error;
    throw error;
  }
  throw new Error('expected the call to fail with a StationError');
}

/** The error has the code, starts with the code's fixed text, and leaks neither secret. */
function expectSafeError(error: StationError, code: ErrorCode): void {
  expect(error.code).toBe(code);
  expect(error.message.startsWith(ERROR_MESSAGES[code])).toBe(true);
  expect(error.message).not.toContain(TOKEN);
  expect(error.message).not.toContain(PIN);
  expect(JSON.stringify(error.toInfo())).not.toContain(TOKEN);
  expect(JSON.stringify(error.toInfo())).not.toContain(PIN);
}

async function freePortThatRefuses(): Promise<number> {
  const server = http.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('CardApiClient request', () => {
  it('POSTs exactly {card_id, pin} as JSON with the bearer token to the set_pin path', async () => {
    const server = await startServer(okAnswer);
    const outcome = await makeClient(server.base).setPin({ cardId: 'C1', pin: 'X' });

    expect(outcome).toEqual({ status: 'ok', requestStatus: 'pin_set', dt: DT });
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/v5/card-api/card/set_pin');
    expect(request?.url).toBe(SET_PIN_PATH);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers['content-length']).toBe(String(Buffer.byteLength('{"card_id":"C1","pin":"X"}')));
    expect(request?.body).toBe('{"card_id":"C1","pin":"X"}');
  });

  it('sends {card_id} only when the pin is omitted', async () => {
    const server = await startServer(json(200, { status: 'ok', request_status: 'pin_generated', dt: DT }));
    const outcome = await makeClient(server.base).setPin({ cardId: 'C1' });
    expect(outcome).toEqual({ status: 'ok', requestStatus: 'pin_generated', dt: DT });
    expect(server.requests.map((r) => r.body)).toEqual(['{"card_id":"C1"}']);
  });

  it.each(['/prefix/', '/prefix', '/prefix//'])('keeps a base URL path prefix (%s)', async (prefix) => {
    const server = await startServer(okAnswer);
    await makeClient(`${server.base}${prefix}`).setPin({ cardId: 'C1', pin: 'X' });
    expect(server.requests.map((r) => r.url)).toEqual(['/prefix/v5/card-api/card/set_pin']);
  });

  it('reads the token for every call', async () => {
    const server = await startServer(okAnswer);
    const tokens = ['first-token', 'second-token'];
    let call = 0;
    const client = makeClient(server.base, { getToken: async () => tokens[call++] ?? 'none' });
    await client.setPin({ cardId: 'C1' });
    await client.setPin({ cardId: 'C2' });
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer first-token', 'Bearer second-token']);
  });
});

describe('CardApiClient answers', () => {
  it('returns status "error" as an outcome, not a throw', async () => {
    const server = await startServer(json(200, { status: 'error', request_status: 'invalid_pin_block', dt: '2026-03-04T05:06:07Z' }));
    const outcome = await makeClient(server.base).setPin({ cardId: 'C1', pin: PIN });
    expect(outcome).toEqual({ status: 'error', requestStatus: 'invalid_pin_block', dt: '2026-03-04T05:06:07Z' });
  });

  it('drops extra answer fields and keeps only status, requestStatus and dt', async () => {
    const server = await startServer(json(200, { status: 'ok', request_status: 'pin_set', dt: DT, pin: '1234', extra: true }));
    const outcome = await makeClient(server.base).setPin({ cardId: 'C1', pin: PIN });
    expect(outcome).toEqual({ status: 'ok', requestStatus: 'pin_set', dt: DT });
    expect(Object.keys(outcome).sort()).toEqual(['dt', 'requestStatus', 'status']);
  });

  it('HTTP 401 is PROCESSOR_HTTP_ERROR', async () => {
    const server = await startServer(json(401, { status: 'error', request_status: 'unauthorized', dt: DT }));
    const error = await rejection(makeClient(server.base).setPin({ cardId: 'C1', pin: PIN }));
    expectSafeError(error, 'PROCESSOR_HTTP_ERROR');
    expect(error.message).toContain('401');
  });

  it('a 3xx redirect is not followed and is PROCESSOR_HTTP_ERROR', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(307, { location: 'http://127.0.0.1:1/elsewhere', 'content-length': 0 });
      res.end();
    });
    const error = await rejection(makeClient(server.base).setPin({ cardId: 'C1', pin: PIN }));
    expectSafeError(error, 'PROCESSOR_HTTP_ERROR');
    expect(server.requests).toHaveLength(1);
  });

  it('HTTP 503 is OUTCOME_UNKNOWN', async () => {
    const server = await startServer(json(503, 'Service Unavailable'));
    const error = await rejection(makeClient(server.base).setPin({ cardId: 'C1', pin: PIN }));
    expectSafeError(error, 'OUTCOME_UNKNOWN');
    expect(error.message).toContain('503');
    expect(server.requests).toHaveLength(1);
  });

  it('a non-JSON 200 answer is PROCESSOR_BAD_RESPONSE', async () => {
    const server = await startServer(json(200, '<html>ok</html>'));
    const error = await rejection(makeClient(server.base).setPin({ cardId: 'C1', pin: PIN }));
    expectSafeError(error, 'PROCESSOR_BAD_RESPONSE');
  });

  it.each([
    ['missing dt', { status: 'ok', request_status: 'pin_set' }],
    ['status "maybe"', { status: 'maybe', request_status: 'pin_set', dt: DT }],
    ['dt "yesterday"', { status: 'ok', request_status: 'pin_set', dt: 'yesterday' }],
    ['impossible date', { status: 'ok', request_status: 'pin_set', dt: '2026-13-45T99:00:00Z' }],
    ['request_status a number', { status: 'ok', request_status: 7, dt: DT }],
    ['a JSON array', [{ status: 'ok', request_status: 'pin_set', dt: DT }]],
    ['JSON null', null],
  ])('a wrongly shaped answer (%s) is PROCESSOR_BAD_RESPONSE', async (_name, body) => {
    const server = await startServer(json(200, JSON.stringify(body)));
    const error = await rejection(makeClient(server.base).setPin({ cardId: 'C1', pin: PIN }));
    expectSafeError(error, 'PROCESSOR_BAD_RESPONSE');
  });

  it('an answer over 64 KiB is PROCESSOR_BAD_RESPONSE', async () => {
    const server = await startServer(json(200, { status: 'ok', request_status: 'pin_set', dt: DT, padding: 'x'.repeat(70 * 1024) }));
    const error = await rejection(makeClient(server.base).setPin({ cardId: 'C1', pin: PIN }));
    expectSafeError(error, 'PROCESSOR_BAD_RESPONSE');
  });
});

describe('CardApiClient failures in transit', () => {
  it('a server that never answers gives OUTCOME_UNKNOWN after totalTimeoutMs, with no retry', async () => {
    const server = await startServer(() => {
      /* read the body, never answer */
    });
    const client = makeClient(server.base, { totalTimeoutMs: 500 });
    const started = Date.now();
    const error = await rejection(client.setPin({ cardId: 'C1', pin: PIN }));
    const elapsed = Date.now() - started;
    expectSafeError(error, 'OUTCOME_UNKNOWN');
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(3_000);
    // Give a retry every chance to show up.
    await sleep(300);
    expect(server.arrived()).toBe(1);
    expect(server.requests).toHaveLength(1);
  });

  it('a refused connection is PROCESSOR_UNREACHABLE (nothing can have been delivered)', async () => {
    const port = await freePortThatRefuses();
    const error = await rejection(makeClient(`http://127.0.0.1:${port}`).setPin({ cardId: 'C1', pin: PIN }));
    expectSafeError(error, 'PROCESSOR_UNREACHABLE');
  });

  it('a socket destroyed after the body was read is OUTCOME_UNKNOWN', async () => {
    const server = await startServer((req) => req.socket.destroy());
    const error = await rejection(makeClient(server.base).setPin({ cardId: 'C1', pin: PIN }));
    expectSafeError(error, 'OUTCOME_UNKNOWN');
    expect(server.requests).toHaveLength(1);
  });

  it('a response cut off mid-body is OUTCOME_UNKNOWN', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 500 });
      res.write('{"status":"ok",');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const error = await rejection(makeClient(server.base).setPin({ cardId: 'C1', pin: PIN }));
    expectSafeError(error, 'OUTCOME_UNKNOWN');
  });
});

describe('token checks', () => {
  it.each([
    ['with a space', 'abc def'],
    ['empty', ''],
    ['with a newline', 'abc\r\nX-Injected: 1'],
    ['with a non-ASCII character', 'tökén'],
  ])('a token %s is KEYCHAIN_ENTRY_MALFORMED and nothing is sent', async (_name, token) => {
    const server = await startServer(okAnswer);
    const error = await rejection(makeClient(server.base, { getToken: async () => token }).setPin({ cardId: 'C1', pin: PIN }));
    expect(error.code).toBe('KEYCHAIN_ENTRY_MALFORMED');
    expect(error.message).not.toContain(PIN);
    if (token.length > 0) expect(error.message).not.toContain(token);
    await sleep(50);
    expect(server.arrived()).toBe(0);
  });

  it('an error from getToken propagates unchanged and nothing is sent', async () => {
    const server = await startServer(okAnswer);
    const error = await rejection(
      makeClient(server.base, {
        getToken: async () => {
          throw new StationError('KEYCHAIN_UNAVAILABLE');
        },
      }).setPin({ cardId: 'C1', pin: PIN }),
    );
    expect(error.code).toBe('KEYCHAIN_UNAVAILABLE');
    await sleep(50);
    expect(server.arrived()).toBe(0);
  });
});

describe('parseProcessorUrl and the constructor', () => {
  it.each(['http://example.com', 'http://example.com:8080/api', 'http://10.0.0.5', 'ftp://127.0.0.1'])('%s is PROCESSOR_URL_INSECURE', (url) => {
    expect(thrownStationError(() => parseProcessorUrl(url)).code).toBe('PROCESSOR_URL_INSECURE');
    expect(thrownStationError(() => makeClient(url)).code).toBe('PROCESSOR_URL_INSECURE');
  });

  it.each(['http://127.example.com', 'http://127.0.0.1.nip.io'])(
    'a DNS name that merely starts with "127." (%s) is not loopback: PROCESSOR_URL_INSECURE',
    (url) => {
      expect(thrownStationError(() => parseProcessorUrl(url)).code).toBe('PROCESSOR_URL_INSECURE');
    },
  );

  it.each([
    ['http://127.0.0.1', 'http:', '127.0.0.1'],
    ['http://127.0.0.1:8443/base/', 'http:', '127.0.0.1'],
    ['http://127.1.2.3', 'http:', '127.1.2.3'],
    ['http://localhost:9000', 'http:', 'localhost'],
    ['http://[::1]:9000', 'http:', '[::1]'],
    ['https://example.com', 'https:', 'example.com'],
    ['https://processor.example.com/prefix/', 'https:', 'processor.example.com'],
  ])('%s is accepted', (url, protocol, hostname) => {
    const parsed = parseProcessorUrl(url);
    expect(parsed.protocol).toBe(protocol);
    expect(parsed.hostname).toBe(hostname);
    expect(() => makeClient(url)).not.toThrow();
  });

  it.each(['not a url', '', 'sandbox', '127.0.0.1:8080'])('"%s" is CONFIG_INVALID', (url) => {
    const error = thrownStationError(() => parseProcessorUrl(url));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('processor.baseUrl');
    expect(thrownStationError(() => makeClient(url)).code).toBe('CONFIG_INVALID');
  });
});

describe('processorEndpoint: origin plus a normalised path, re-checked', () => {
  // Each row: configured base URL -> the exact endpoint, or the error code. A base whose path
  // starts with "//" once named another host (the bearer token and PIN block went there in clear).
  const table: readonly (readonly [string, string])[] = [
    ['http://127.0.0.1:8080', `http://127.0.0.1:8080${SET_PIN_PATH}`],
    ['http://127.0.0.1:8080/', `http://127.0.0.1:8080${SET_PIN_PATH}`],
    ['https://processor.example.com/prefix/', `https://processor.example.com/prefix${SET_PIN_PATH}`],
    ['http://127.0.0.1//evil.example', `http://127.0.0.1/evil.example${SET_PIN_PATH}`],
    ['http://127.0.0.1:9000//evil.example/x', `http://127.0.0.1:9000/evil.example/x${SET_PIN_PATH}`],
    ['http://127.0.0.1/..//evil.example', `http://127.0.0.1/evil.example${SET_PIN_PATH}`],
    ['http://127.0.0.1/a/./b/../c/', `http://127.0.0.1/a/c${SET_PIN_PATH}`],
    ['http://127.0.0.1/%2e%2e//evil.example', `http://127.0.0.1/evil.example${SET_PIN_PATH}`],
    ['http://127.0.0.1\\evil.example', 'CONFIG_INVALID'],
    ['http://127.0.0.1/\\\\evil.example', 'CONFIG_INVALID'],
    ['http://127.0.0.1/%2F%2Fevil.example', 'CONFIG_INVALID'],
    ['http://127.0.0.1/a%5cb', 'CONFIG_INVALID'],
    ['http://127.0.0.1/%252F%252Fevil.example', 'CONFIG_INVALID'],
    ['http://127.0.0.1@evil/', 'CONFIG_INVALID'],
    ['http://user:secret@127.0.0.1/', 'CONFIG_INVALID'],
    ['https://user@processor.example.com/', 'CONFIG_INVALID'],
    ['http://127.0.0.1/?next=//evil.example', 'CONFIG_INVALID'],
    ['http://127.0.0.1/#//evil.example', 'CONFIG_INVALID'],
    ['http://[::1]:9000//evil.example', `http://[::1]:9000/evil.example${SET_PIN_PATH}`],
    ['http://[0:0:0:0:0:0:0:1]/', `http://[::1]${SET_PIN_PATH}`],
    ['http://[::ffff:127.0.0.1]/', 'PROCESSOR_URL_INSECURE'],
    ['http://[::2]/', 'PROCESSOR_URL_INSECURE'],
    ['http://%31%32%37.0.0.1:8080/', `http://127.0.0.1:8080${SET_PIN_PATH}`],
    ['http://%65vil.example/', 'PROCESSOR_URL_INSECURE'],
    ['http://127.1/', `http://127.0.0.1${SET_PIN_PATH}`],
    ['https://processor.example.com/a%20b/', `https://processor.example.com/a%20b${SET_PIN_PATH}`],
  ];

  it.each(table)('%s -> %s', (baseUrl, expected) => {
    if (expected.includes('://')) {
      expect(processorEndpoint(baseUrl).href).toBe(expected);
      expect(() => makeClient(baseUrl)).not.toThrow();
    } else {
      expect(thrownStationError(() => processorEndpoint(baseUrl)).code).toBe(expected);
      expect(thrownStationError(() => makeClient(baseUrl)).code).toBe(expected);
    }
  });

  it('sends a "//host" base to loopback, never to the named host', async () => {
    const server = await startServer(okAnswer);
    const outcome = await makeClient(`${server.base}//evil.example`).setPin({ cardId: 'C1', pin: PIN });
    expect(outcome.status).toBe('ok');
    expect(server.requests[0]?.url).toBe(`/evil.example${SET_PIN_PATH}`);
  });

  it('refuses SPKI pins with a plain-HTTP processor (a pin checks a TLS key there is none of)', () => {
    const error = thrownStationError(() => makeClient('http://127.0.0.1:8080', { pins: ['A'.repeat(43) + '='] }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('processor.pins');
  });
});
