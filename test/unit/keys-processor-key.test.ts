/**
 * The keys CLI and the processor's key: a certificate kept with its validity, days to expiry in status, a next
 * key staged with --next and made current by `promote`, on record. Driven through runKeysCli with injected
 * streams and a MemoryKeyStore.
 */
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditFilePath, verifyAuditFile } from '../../main/core/audit';
import { MemoryKeyStore } from '../../main/core/keystore';
import type { KeyStore } from '../../main/core/keystore';
import { EXIT_CODES, runKeysCli } from '../../main/admin/keys/cli';
import { issueProcessorCertificate } from '../../sandbox/certificate';

const SERVICE = 'pin-station-test';
const DAY = 86_400_000;
const NOW = new Date(Date.UTC(2026, 5, 1, 12, 0, 0));
const now = (): Date => new Date(NOW);

function pair(): { publicKey: string; privateKey: string; kcv: string } {
  const keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const sha = createHash('sha256')
    .update(createPublicKey(keys.publicKey).export({ type: 'spki', format: 'der' }))
    .digest('hex');
  return { ...keys, kcv: sha.slice(0, 10).toUpperCase() };
}
const CURRENT = pair();
const NEXT = pair();
const certificate = (keys: { publicKey: string; privateKey: string }, from: Date, to: Date): string =>
  issueProcessorCertificate({ publicKeyPem: keys.publicKey, signingKeyPem: keys.privateKey, notBefore: from, notAfter: to });

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'pin-station-keys-pk-'));
  writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ station: { id: 'desk-9' }, keychain: { service: SERVICE } }));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

async function run(argv: readonly string[], input: string, store: KeyStore): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runKeysCli([...argv, '--service', SERVICE], {
    stdin: Readable.from(input.length > 0 ? [Buffer.from(input, 'utf8')] : []),
    stdout: { write: (text: string) => ((stdout += text), true) },
    stderr: { write: (text: string) => ((stderr += text), true) },
    openStore: () => store,
    now,
  });
  return { code, stdout, stderr };
}

describe('keys import pin-public-key with a certificate', () => {
  it('stores the certificate itself and prints its validity and days to expiry', async () => {
    const store = new MemoryKeyStore();
    const cert = certificate(CURRENT, new Date(NOW.getTime() - DAY), new Date(NOW.getTime() + 45 * DAY));
    const result = await run(['import', 'pin-public-key', '--kcv', CURRENT.kcv], cert, store);
    expect(result.code).toBe(EXIT_CODES.OK);
    expect(result.stdout).toContain(`fingerprint KCV (SHA-256 of SPKI) ${CURRENT.kcv}; certificate valid `);
    expect(result.stdout).toContain('45 day(s) to expiry');
    expect(await store.get('pin-public-key')).toMatch(/^-----BEGIN CERTIFICATE-----/);

    const status = await run(['status'], '', store);
    expect(status.stdout).toContain(`pin-public-key: present; RSA 2048 bits, fingerprint KCV (SHA-256 of SPKI) ${CURRENT.kcv}; certificate valid`);
    expect(status.stdout).toContain('45 day(s) to expiry');
    expect(status.stdout).toContain('pin-public-key (next): none staged');
  });

  it('a bare key shows "no expiry known"; an expired certificate is shown as such', async () => {
    const store = new MemoryKeyStore({ 'pin-public-key': CURRENT.publicKey });
    expect((await run(['status'], '', store)).stdout).toContain(`${CURRENT.kcv}; no expiry known\n`);
    await store.set('pin-public-key', certificate(CURRENT, new Date(NOW.getTime() - 400 * DAY), new Date(NOW.getTime() - 3 * DAY)));
    expect((await run(['status'], '', store)).stdout).toContain('EXPIRED 3 day(s) ago');
  });

  it('a damaged certificate is refused and nothing is stored', async () => {
    const store = new MemoryKeyStore();
    const cert = certificate(CURRENT, NOW, new Date(NOW.getTime() + DAY));
    const result = await run(['import', 'pin-public-key'], `${cert.slice(0, 300)}\n-----END CERTIFICATE-----\n`, store);
    expect(result.code).toBe(EXIT_CODES.MALFORMED_VALUE);
    expect(result.stderr).toContain('is not a usable certificate');
    expect(await store.get('pin-public-key')).toBeNull();
  });
});

describe('rotation: --next and promote', () => {
  it('--next stages the key beside the current one; status shows both; only pin-public-key takes --next', async () => {
    const store = new MemoryKeyStore({ 'pin-public-key': certificate(CURRENT, new Date(NOW.getTime() - DAY), new Date(NOW.getTime() + 20 * DAY)) });
    const from = new Date(NOW.getTime() + 10 * DAY);
    const staged = await run(['import', 'pin-public-key', '--next'], certificate(NEXT, from, new Date(from.getTime() + 365 * DAY)), store);
    expect(staged.code).toBe(EXIT_CODES.OK);
    expect(staged.stdout).toContain(`it becomes current on ${from.toISOString()}`);
    expect(await store.get('pin-public-key-next')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const status = (await run(['status'], '', store)).stdout;
    expect(status).toContain(`pin-public-key: present; RSA 2048 bits, fingerprint KCV (SHA-256 of SPKI) ${CURRENT.kcv}`);
    expect(status).toContain(`pin-public-key (next): staged; RSA 2048 bits, fingerprint KCV (SHA-256 of SPKI) ${NEXT.kcv}`);
    expect(status).toContain(`becomes current on ${from.toISOString()}`);

    expect((await run(['import', 'pin-public-key', '--next'], NEXT.publicKey, store)).code).toBe(EXIT_CODES.ENTRY_EXISTS);
    expect((await run(['import', 'api-token', '--next'], 'x'.repeat(20), store)).code).toBe(EXIT_CODES.USAGE);
  });

  it('promote makes the staged key current and writes the switch to the trail, which verifies', async () => {
    const store = new MemoryKeyStore({ 'pin-public-key': CURRENT.publicKey, 'pin-public-key-next': NEXT.publicKey });
    const result = await run(['promote', '--data-dir', dataDir], '', store);
    expect(result.code).toBe(EXIT_CODES.OK);
    expect(result.stdout).toContain(`fingerprint KCV ${NEXT.kcv} is now current (was ${CURRENT.kcv})`);
    expect(await store.get('pin-public-key')).toBe(NEXT.publicKey);
    expect(await store.get('pin-public-key-next')).toBeNull();
    const records = readFileSync(auditFilePath(dataDir), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      type: 'processor-key',
      stationId: 'desk-9',
      event: 'promoted',
      cause: 'promote',
      oldKcv: CURRENT.kcv,
      newKcv: NEXT.kcv,
      notAfter: null,
    });
    expect(verifyAuditFile(auditFilePath(dataDir), Buffer.from((await store.get('audit-key')) ?? '', 'hex'))).toEqual({ ok: true, records: 1 });
  });

  it('promote with nothing staged changes nothing', async () => {
    const store = new MemoryKeyStore({ 'pin-public-key': CURRENT.publicKey });
    const result = await run(['promote', '--data-dir', dataDir], '', store);
    expect(result.code).toBe(EXIT_CODES.NOTHING_STAGED);
    expect(await store.get('pin-public-key')).toBe(CURRENT.publicKey);
  });
});
