/**
 * Shipping the audit trail from a running station over RELP (audit.ship.protocol "relp") to a real rsyslogd with
 * imrelp over TLS on loopback, the station presenting audit.ship.certFile with its private key from the keychain
 * entry `ship-key`: what PINs write arrives; a collector stopped with SIGSTOP while PINs keep being set shows the
 * operator notice, and once killed and restarted has every record; a station certificate the collector does not
 * trust gets nothing through and shows the notice; a missing or mismatched ship-key is the cannot-start screen.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditRecords } from '../../main/core/audit';
import { KeytarKeyStore } from '../../main/core/keytar-store';
import { enterAndConfirm, launchGatedStation, startCard, statusText } from '../harness/journeys';
import type { GatedStation } from '../harness/journeys';
import { makeTestCertificates, RsyslogCollector } from '../harness/rsyslog';
import type { CertifiedKey, TestCertificates } from '../harness/rsyslog';

let certs: TestCertificates;
let dir: string;
let caFile: string;
const keyStores: KeytarKeyStore[] = [];

beforeAll(() => {
  certs = makeTestCertificates();
  dir = mkdtempSync(join(tmpdir(), 'pin-station-e2e-relp-'));
  caFile = join(dir, 'collector-ca.pem');
  writeFileSync(caFile, certs.ca.cert);
}, 60_000);
afterAll(async () => {
  for (const store of keyStores) await store.delete('ship-key').catch(() => false);
  rmSync(dir, { recursive: true, force: true });
});

/** A keychain holding the station's ship-key, as `npm run keys -- import ship-key` leaves it; and the certificate file. */
async function identity(
  client: CertifiedKey | null,
  cert: string = client?.cert ?? certs.client.cert,
): Promise<{ keyStore: KeytarKeyStore; certFile: string }> {
  const keyStore = new KeytarKeyStore(`pin-station-test-${randomBytes(6).toString('hex')}`);
  keyStores.push(keyStore);
  if (client) await keyStore.set('ship-key', client.key);
  const certFile = join(dir, `station-${randomBytes(4).toString('hex')}.pem`);
  writeFileSync(certFile, cert);
  return { keyStore, certFile };
}

const relpTo = (port: number, certFile: string, noticeAfterMinutes = 15) => ({
  approval: { require: [] },
  audit: { ship: { protocol: 'relp' as const, host: '127.0.0.1', port, caFile, certFile, noticeAfterMinutes, ackTimeoutSeconds: 2 } },
});

async function setPin(gated: GatedStation, cardId: string): Promise<void> {
  const { operator, pinpad } = gated.station;
  await startCard(operator, cardId, 'Customer chooses PIN');
  await enterAndConfirm(pinpad, '2580');
  // The outcome's own status region (the shipping notice is another one).
  await operator
    .getByRole('status')
    .filter({ hasText: `PIN set. Card ID ${cardId}` })
    .waitFor({ timeout: 60_000 });
}

const shippingNotice = (gated: GatedStation) => gated.station.operator.getByRole('status').filter({ hasText: 'Audit shipping delayed since' });

describe('audit shipping over RELP from the station', () => {
  it('a PIN set reaches the collector, the station presenting its certificate with the key from the keychain entry ship-key', async () => {
    const collector = await RsyslogCollector.start({ server: certs.server, ca: certs.ca.cert, protocol: 'relp' });
    const { keyStore, certFile } = await identity(certs.client);
    const gated = await launchGatedStation({ keyStore, config: { station: { id: 'branch-relp' }, ...relpTo(collector.port, certFile) } });
    try {
      await setPin(gated, 'CARD-RELP-1');
      const trail = readAuditRecords(gated.station.auditPath);
      await expect.poll(() => collector.readMessages().length, { timeout: 60_000 }).toBeGreaterThanOrEqual(trail.length);
      expect(collector.readMessages().map(({ station, seq, mac }) => ({ station, seq, mac }))).toEqual(
        trail.map((record) => ({ station: 'branch-relp', seq: record.seq, mac: record.mac })),
      );
      expect(await shippingNotice(gated).count()).toBe(0);
    } finally {
      await gated.close();
      await collector.stop();
    }
  }, 240_000);

  it('a collector stopped (SIGSTOP) while PINs keep being set shows the notice; killed and restarted, it has every record', async () => {
    const collector = await RsyslogCollector.start({ server: certs.server, ca: certs.ca.cert, protocol: 'relp' });
    const { keyStore, certFile } = await identity(certs.client);
    const gated = await launchGatedStation({ keyStore, config: { station: { id: 'branch-relp-stall' }, ...relpTo(collector.port, certFile, 0) } });
    try {
      await setPin(gated, 'CARD-STALL-1');
      await expect.poll(() => collector.readMessages().length, { timeout: 60_000 }).toBeGreaterThanOrEqual(readAuditRecords(gated.station.auditPath).length);
      collector.pause();
      await setPin(gated, 'CARD-STALL-2');
      await setPin(gated, 'CARD-STALL-3');
      // The collector's connection is still up; its silence alone brings the notice.
      await shippingNotice(gated).waitFor({ timeout: 90_000 });
      await setPin(gated, 'CARD-STALL-4');
      await collector.kill('SIGKILL');
      await collector.restart();
      await setPin(gated, 'CARD-STALL-5');
      const trail = readAuditRecords(gated.station.auditPath);
      await expect
        .poll(
          () => {
            const seen = new Set(collector.readMessages().map((m) => m.seq));
            return trail.filter((record) => !seen.has(record.seq)).map((record) => record.seq);
          },
          { timeout: 90_000 },
        )
        .toEqual([]);
      await shippingNotice(gated).waitFor({ state: 'detached', timeout: 90_000 });
    } finally {
      await gated.close();
      await collector.stop();
    }
  }, 300_000);

  it('a station certificate the collector does not trust gets nothing through, and the notice shows', async () => {
    const collector = await RsyslogCollector.start({ server: certs.server, ca: certs.ca.cert, protocol: 'relp' });
    const { keyStore, certFile } = await identity(certs.wrongClient);
    const gated = await launchGatedStation({ keyStore, config: relpTo(collector.port, certFile, 0) });
    try {
      await shippingNotice(gated).waitFor({ timeout: 90_000 });
      expect(await shippingNotice(gated).textContent()).toMatch(/^Audit shipping delayed since \d{2}:\d{2}$/);
      expect(collector.readMessages()).toEqual([]);
    } finally {
      await gated.close();
      await collector.stop();
    }
  }, 240_000);

  it('a line put into the trail that claims to be a practice record is not passed over: the collector gets it and the operator sees the notice', async () => {
    const collector = await RsyslogCollector.start({ server: certs.server, ca: certs.ca.cert, protocol: 'relp' });
    const { keyStore, certFile } = await identity(certs.client);
    const gated = await launchGatedStation({ keyStore, config: { station: { id: 'branch-relp-forged' }, ...relpTo(collector.port, certFile) } });
    try {
      const { auditPath } = gated.station;
      await setPin(gated, 'CARD-FORGED-1');
      const trail = readAuditRecords(auditPath);
      await expect.poll(() => collector.readMessages().length, { timeout: 60_000 }).toBeGreaterThanOrEqual(trail.length);
      expect(await shippingNotice(gated).count()).toBe(0);
      // Someone with write access to the data directory adds a record that says "practice", chained by its prev but not signed.
      const last = trail[trail.length - 1] as { seq: number; mac: string };
      const forged = { ...last, seq: last.seq + 1, prev: last.mac, processor: 'sandbox', mac: 'f'.repeat(64) };
      appendFileSync(auditPath, `${JSON.stringify(forged)}\n`);
      await shippingNotice(gated).waitFor({ timeout: 90_000 });
      await expect.poll(() => collector.readMessages().map((m) => m.seq), { timeout: 60_000 }).toContain(last.seq + 1);
    } finally {
      await gated.close();
      await collector.stop();
    }
  }, 240_000);

  it('a missing ship-key, or one that is not the certificate’s key, is the cannot-start screen and names the entry', async () => {
    for (const [client, cert, expected] of [
      [null, certs.client.cert, 'Entry "ship-key" was not found'],
      [certs.wrongClient, certs.client.cert, 'Entry "ship-key" is not the private key of the certificate in audit.ship.certFile.'],
    ] as const) {
      const { keyStore, certFile } = await identity(client, cert);
      const gated = await launchGatedStation({ keyStore, config: relpTo(1, certFile) });
      try {
        await expect.poll(() => statusText(gated.station.operator)).toContain('PIN Station cannot start.');
        const text = (await statusText(gated.station.operator)) ?? '';
        expect(text).toContain(expected);
        expect(text).not.toContain('PRIVATE KEY');
        expect(gated.sandbox.requests).toHaveLength(0);
      } finally {
        await gated.close();
      }
    }
  }, 240_000);
});
