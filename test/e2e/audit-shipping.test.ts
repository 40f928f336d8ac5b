/**
 * Shipping the audit trail from a running station (audit.ship) to a real rsyslogd over TLS on loopback: what a
 * PIN set writes arrives with its structured data; a collector the station cannot trust gets nothing and the
 * operator window says since when shipping is delayed; a station practising with the built-in sandbox processor
 * ships nothing (the shipper itself also passes over practice records: test/integration/audit-ship.test.ts).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditShippedPath, readAuditRecords } from '../../main/core/audit';
import { enterAndConfirm, launchGatedStation, startCard, statusText } from '../harness/journeys';
import { launchStation } from '../harness/launch-station';
import { makeTestCertificates, RsyslogCollector } from '../harness/rsyslog';
import type { TestCertificates } from '../harness/rsyslog';

let certs: TestCertificates;
let dir: string;
let caFile: string;

beforeAll(() => {
  certs = makeTestCertificates();
  dir = mkdtempSync(join(tmpdir(), 'pin-station-e2e-ship-'));
  caFile = join(dir, 'collector-ca.pem');
  writeFileSync(caFile, certs.ca.cert);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const shipTo = (port: number, noticeAfterMinutes = 15) => ({ audit: { ship: { host: '127.0.0.1', port, caFile, noticeAfterMinutes } } });

describe('audit shipping from the station', () => {
  it('a PIN set reaches the collector: every record of the trail, in order, with station, seq and mac', async () => {
    const collector = await RsyslogCollector.start({ server: certs.server, ca: certs.ca.cert });
    const gated = await launchGatedStation({ config: { station: { id: 'branch-e2e' }, ...shipTo(collector.port) } });
    try {
      const { operator, pinpad, auditPath } = gated.station;
      await startCard(operator, 'CARD-SHIP-1', 'Customer chooses PIN');
      await enterAndConfirm(pinpad, '2580');
      await expect.poll(() => statusText(operator)).toContain('PIN set.');
      const trail = readAuditRecords(auditPath);
      expect(trail.map((record) => record.type ?? 'card')).toEqual(expect.arrayContaining(['staff', 'attempt', 'card']));
      await expect.poll(() => collector.readMessages().length).toBeGreaterThanOrEqual(trail.length);
      const received = collector.readMessages();
      expect(received.map(({ station, seq, mac }) => ({ station, seq, mac }))).toEqual(
        trail.map((record) => ({ station: 'branch-e2e', seq: record.seq, mac: record.mac })),
      );
      // MSG is the trail line itself, so the SIEM can verify nothing else was needed.
      const lines = readFileSync(auditPath, 'utf8').trimEnd().split('\n');
      expect(received.map((message) => message.msg)).toEqual(lines);
      expect(await operator.getByText(/Audit shipping delayed/).count()).toBe(0);
    } finally {
      await gated.close();
      await collector.stop();
    }
  });

  it('a collector with a certificate from another CA gets nothing, and the operator window says since when shipping is delayed', async () => {
    const collector = await RsyslogCollector.start({ server: certs.wrongServer, ca: certs.wrongCa.cert });
    const gated = await launchGatedStation({ config: shipTo(collector.port, 0) });
    try {
      const notice = gated.station.operator.getByRole('status').filter({ hasText: 'Audit shipping delayed since' });
      await notice.waitFor({ timeout: 60_000 });
      expect(await notice.textContent()).toMatch(/^Audit shipping delayed since \d{2}:\d{2}$/);
      expect(collector.readMessages()).toEqual([]);
    } finally {
      await gated.close();
      await collector.stop();
    }
  });

  it('a station practising with the built-in sandbox processor ships nothing: its records are practice only', async () => {
    const collector = await RsyslogCollector.start({ server: certs.server, ca: certs.ca.cert });
    const auditPath = join(dir, 'sandbox', 'audit.jsonl');
    const station = await launchStation({ auditPath, config: shipTo(collector.port) });
    try {
      await startCard(station.operator, 'DEMO-0001', 'Customer chooses PIN');
      await enterAndConfirm(station.pinpad, '2580');
      await expect.poll(() => statusText(station.operator)).toContain('PIN set.');
      expect(station.logLines.some((line) => line.includes('"event":"audit.ship.off"') && line.includes('"reason":"sandbox"'))).toBe(true);
    } finally {
      await station.close();
    }
    try {
      const trail = readAuditRecords(auditPath);
      expect(trail.length).toBeGreaterThanOrEqual(3);
      expect(trail.every((record) => 'processor' in record && record.processor === 'sandbox')).toBe(true);
      // No shipper ran (no watermark), and the collector, which was up and trusted, got nothing.
      expect(existsSync(auditShippedPath(auditPath))).toBe(false);
      expect(collector.readMessages()).toEqual([]);
    } finally {
      await collector.stop();
    }
  });
});
