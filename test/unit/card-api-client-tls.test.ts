/** TLS, key pinning and the retry rule of the Card API client, against local servers with throw-away certificates. */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import forge from 'node-forge';
import { afterEach, describe, expect, it } from 'vitest';
import { StationError } from '../../common/errors';
import { CardApiClient } from '../../main/core/card-api-client';
import type { CardApiClientOptions } from '../../main/core/card-api-client';

const ANSWER = JSON.stringify({ status: 'ok', request_status: 'pin_set', dt: '2026-01-01T00:00:00+00:00' });

/** A self-signed certificate made in the test, for the given subject alternative names. */
function makeCertificate(altNames: { type: 2 | 7; value?: string; ip?: string }[]): { cert: string; key: string } {
  const pair = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pair.publicKey);
  cert.serialNumber = '01' + forge.util.bytesToHex(forge.random.getBytesSync(8));
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 3_600_000);
  const attrs = [{ name: 'commonName', value: 'test processor' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'subjectAltName', altNames },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(pair.privateKey), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: pair.privateKey };
}

const servers: (http.Server | https.Server)[] = [];
const clients: CardApiClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function listen(server: http.Server | https.Server, port = 0): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

function answering(received: string[]): http.RequestListener {
  return (req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER);
    });
  };
}

function client(options: Partial<CardApiClientOptions> & { baseUrl: string }): CardApiClient {
  const made = new CardApiClient({ connectTimeoutMs: 2_000, totalTimeoutMs: 5_000, getToken: async () => 'token-123', retryDelayMs: 50, ...options });
  clients.push(made);
  return made;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof StationError ? error.code : `unexpected: ${String(error)}`;
  }
}

describe('TLS', () => {
  const local = makeCertificate([{ type: 7, ip: '127.0.0.1' }]);
  const pinOf = (pem: string): string =>
    createHash('sha256')
      .update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64');

  it('a self-signed certificate is refused with its own message, and nothing reaches the server', async () => {
    const received: string[] = [];
    const port = await listen(https.createServer({ cert: local.cert, key: local.key }, answering(received)));
    expect(await codeOf(client({ baseUrl: `https://127.0.0.1:${port}` }).setPin({ cardId: 'C1', pin: 'X' }))).toBe('PROCESSOR_TLS_UNTRUSTED');
    expect(received).toEqual([]);
  });

  it('a trusted certificate (configured CA) works', async () => {
    const received: string[] = [];
    const port = await listen(https.createServer({ cert: local.cert, key: local.key }, answering(received)));
    const outcome = await client({ baseUrl: `https://127.0.0.1:${port}`, ca: local.cert }).setPin({ cardId: 'C1', pin: 'X' });
    expect(outcome).toEqual({ status: 'ok', requestStatus: 'pin_set', dt: '2026-01-01T00:00:00+00:00' });
    expect(received).toEqual(['{"card_id":"C1","pin":"X"}']);
  });

  it('a certificate for another name is refused as a name mismatch', async () => {
    const other = makeCertificate([{ type: 2, value: 'processor.example' }]);
    const received: string[] = [];
    const port = await listen(https.createServer({ cert: other.cert, key: other.key }, answering(received)));
    expect(await codeOf(client({ baseUrl: `https://127.0.0.1:${port}`, ca: other.cert }).setPin({ cardId: 'C1' }))).toBe('PROCESSOR_TLS_NAME_MISMATCH');
    expect(received).toEqual([]);
  });

  it('SPKI pinning: the right pin works, a wrong pin is refused before anything is sent', async () => {
    const received: string[] = [];
    const port = await listen(https.createServer({ cert: local.cert, key: local.key }, answering(received)));
    const base = { baseUrl: `https://127.0.0.1:${port}`, ca: local.cert };
    await expect(client({ ...base, pins: ['AAAA' + pinOf(local.cert).slice(4), pinOf(local.cert)] }).setPin({ cardId: 'C1' })).resolves.toMatchObject({
      status: 'ok',
    });
    const wrong = pinOf(makeCertificate([{ type: 7, ip: '127.0.0.1' }]).cert);
    expect(await codeOf(client({ ...base, pins: [wrong] }).setPin({ cardId: 'C2', pin: 'Y' }))).toBe('PROCESSOR_TLS_PIN_MISMATCH');
    expect(received).toEqual(['{"card_id":"C1"}']);
  });
});

describe('retry only when nothing can have been sent', () => {
  async function freePort(): Promise<number> {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return port;
  }

  it('connection refused is retried, and succeeds once the processor is up', async () => {
    const port = await freePort();
    const received: string[] = [];
    // The processor comes up after the first refusal.
    setTimeout(() => void listen(http.createServer(answering(received)), port), 80);
    const outcome = await client({ baseUrl: `http://127.0.0.1:${port}`, retries: 3, retryDelayMs: 100 }).setPin({ cardId: 'C1', pin: 'X' });
    expect(outcome.status).toBe('ok');
    expect(received).toEqual(['{"card_id":"C1","pin":"X"}']);
  });

  it('with retries exhausted it is PROCESSOR_UNREACHABLE (nothing sent)', async () => {
    const port = await freePort();
    expect(await codeOf(client({ baseUrl: `http://127.0.0.1:${port}`, retries: 1 }).setPin({ cardId: 'C1' }))).toBe('PROCESSOR_UNREACHABLE');
  });

  it('a connection dropped after the body was received is never resent: outcome unknown, one request', async () => {
    let requests = 0;
    const port = await listen(
      http.createServer((req) => {
        req.on('data', () => undefined);
        req.on('end', () => {
          requests++;
          req.socket.destroy();
        });
      }),
    );
    expect(await codeOf(client({ baseUrl: `http://127.0.0.1:${port}`, retries: 3 }).setPin({ cardId: 'C1', pin: 'X' }))).toBe('OUTCOME_UNKNOWN');
    await new Promise((r) => setTimeout(r, 300));
    expect(requests).toBe(1);
  });
});

describe('review fixes', () => {
  it('SPKI pinning works for an ECDSA certificate (the pin covers the SubjectPublicKeyInfo, not the raw point)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ec-cert-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-subj',
          '/CN=test',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-days',
          '1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      const received: string[] = [];
      const port = await listen(https.createServer({ cert, key: readFileSync(join(dir, 'key.pem')) }, answering(received)));
      const pin = createHash('sha256')
        .update(new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' }))
        .digest('base64');
      await expect(client({ baseUrl: `https://127.0.0.1:${port}`, ca: cert, pins: [pin] }).setPin({ cardId: 'EC1' })).resolves.toMatchObject({ status: 'ok' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const answeringWith =
    (status: number, body: string): http.RequestListener =>
    (req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end(body));
    };

  it('a 2xx other than 200, or a 408, is outcome unknown; other 4xx are refusals', async () => {
    for (const [status, code] of [
      [202, 'OUTCOME_UNKNOWN'],
      [204, 'OUTCOME_UNKNOWN'],
      [408, 'OUTCOME_UNKNOWN'],
      [429, 'PROCESSOR_HTTP_ERROR'],
      [403, 'PROCESSOR_HTTP_ERROR'],
    ] as const) {
      const port = await listen(http.createServer(answeringWith(status, status === 204 ? '' : ANSWER)));
      expect(await codeOf(client({ baseUrl: `http://127.0.0.1:${port}` }).setPin({ cardId: 'S1' }))).toBe(code);
    }
  });

  it('a request_status with control characters is an unreadable answer, not something to show or audit', async () => {
    const port = await listen(
      http.createServer(answeringWith(200, JSON.stringify({ status: 'ok', request_status: 'pin\u001b[2Jset', dt: '2026-01-01T00:00:00+00:00' }))),
    );
    expect(await codeOf(client({ baseUrl: `http://127.0.0.1:${port}` }).setPin({ cardId: 'S2' }))).toBe('PROCESSOR_BAD_RESPONSE');
  });
});
