/**
 * `npm run keys -- import ship-key` (main/admin/keys/cli.ts) against a real Secret Service: the private key of the
 * certificate the station presents to its RELP collector (audit.ship.certFile). Checked as a PEM private key,
 * its public key's fingerprint printed (never the key), and accepted by the station's start-up check
 * (main/core/audit/ship-identity.ts) together with its certificate. Runs only inside scripts/with-test-keyring.sh.
 */
import { X509Certificate, createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadShipIdentity } from '../../main/core/audit/ship-identity';
import { KeytarKeyStore } from '../../main/core/keytar-store';
import { EXIT_CODES, runKeysCli } from '../../main/admin/keys/cli';
import { makeTestCertificates } from '../harness/rsyslog';
import type { TestCertificates } from '../harness/rsyslog';

const service = `pin-station-ship-key-it-${randomBytes(4).toString('hex')}`;
const store = new KeytarKeyStore(service);
let certs: TestCertificates;
let dir: string;

beforeAll(() => {
  if (process.env.PIN_STATION_TEST_KEYRING !== '1') {
    throw new Error('integration tests must run inside scripts/with-test-keyring.sh (private Secret Service)');
  }
  certs = makeTestCertificates();
  dir = mkdtempSync(join(tmpdir(), 'pin-station-ship-key-'));
}, 60_000);
afterEach(async () => {
  await store.delete('ship-key');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: readonly string[], input: string): Promise<{ code: number; out: string }> {
  let out = '';
  const sink = { write: (text: string): boolean => ((out += text), true) };
  const stdin = Readable.from(input.length > 0 ? [Buffer.from(input, 'utf8')] : []);
  const code = await runKeysCli(argv, { stdin, stdout: sink, stderr: sink });
  return { code, out };
}

/** SHA-256 of the certificate's SubjectPublicKeyInfo, first 10 hex characters, computed here independently. */
function certFingerprint(pem: string): string {
  const der = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 10).toUpperCase();
}

/** No 10-character run of the key's base64 body appears in the output. */
function expectNoLeak(out: string, pem: string): void {
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  for (let i = 0; i + 10 <= body.length; i++) expect(out.includes(body.slice(i, i + 10)), `output holds part of the key at ${i}`).toBe(false);
}

describe('keys import ship-key', () => {
  it('stores the PEM private key, prints its fingerprint KCV (that of its certificate), and the station accepts it with its certificate', async () => {
    const fingerprint = certFingerprint(certs.client.cert);
    const result = await run(['import', 'ship-key', '--service', service, '--kcv', fingerprint], `${certs.client.key}\n`);
    expect(result.code).toBe(EXIT_CODES.OK);
    expect(result.out).toBe(`stored ship-key in service "${service}"; RSA 2048 bits, fingerprint KCV (SHA-256 of SPKI) ${fingerprint}\n`);
    expectNoLeak(result.out, certs.client.key);
    const status = await run(['status', '--service', service], '');
    expect(status.out).toContain(`ship-key: present; RSA 2048 bits, fingerprint KCV (SHA-256 of SPKI) ${fingerprint}\n`);
    expectNoLeak(status.out, certs.client.key);

    const certFile = join(dir, 'station.pem');
    writeFileSync(certFile, certs.client.cert);
    const identity = await loadShipIdentity(certFile, store);
    expect(identity.cert).toBe(certs.client.cert);
    // Another station's certificate with this key: refused at start, naming the entry and never the key.
    writeFileSync(certFile, certs.wrongClient.cert);
    await expect(loadShipIdentity(certFile, store)).rejects.toMatchObject({
      code: 'KEYCHAIN_ENTRY_MALFORMED',
      message: expect.stringContaining('Entry "ship-key" is not the private key of the certificate in audit.ship.certFile.'),
    });
  });

  it('refuses what is not an unencrypted PEM private key of 2048 bits or more, stores nothing and shows none of it', async () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const encrypted = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret-passphrase' })
      .toString();
    const cases: [string, string, RegExp][] = [
      ['a certificate', certs.client.cert, /must be a PEM private key/],
      ['a public key', new X509Certificate(certs.client.cert).publicKey.export({ type: 'spki', format: 'pem' }).toString(), /must be a PEM private key/],
      ['an encrypted key', encrypted, /must be a PEM private key/],
      ['RSA 1024', small, /RSA key of 1024 bits; at least 2048/],
      [
        'a damaged key',
        certs.client.key
          .split('\n')
          .filter((_, i) => i < 3 || i > 8)
          .join('\n'),
        /could not be read as a private key/,
      ],
    ];
    for (const [name, input, message] of cases) {
      const result = await run(['import', 'ship-key', '--service', service], input);
      expect(result.code, name).toBe(EXIT_CODES.MALFORMED_VALUE);
      expect(result.out, name).toMatch(message);
      expect(result.out, name).toContain('Nothing was stored.');
      expectNoLeak(result.out, input);
      expect(await store.get('ship-key'), name).toBeNull();
    }
    const mismatch = await run(['import', 'ship-key', '--service', service, '--kcv', certFingerprint(certs.wrongClient.cert)], certs.client.key);
    expect(mismatch.code).toBe(EXIT_CODES.KCV_MISMATCH);
    expect(await store.get('ship-key')).toBeNull();
  });
});
