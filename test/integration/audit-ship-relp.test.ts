/**
 * Audit shipping over RELP (main/core/audit/relp.ts, ship.ts) to a real rsyslogd
 * with imrelp over TLS and client certificates (test/harness/rsyslog.ts), with
 * real trails written by AuditLog: order, commit only on the collector's
 * answer, a collector stopped with SIGSTOP (up but not reading) noticed and
 * then SIGKILLed and restarted without losing a record, mutual TLS refusals,
 * and the check of each line's MAC and chain before a practice record is
 * passed over.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { AuditLog, auditFilePath } from '../../main/core/audit';
import type { AuditEntry } from '../../main/core/audit';
import { AuditShipper } from '../../main/core/audit';
import type { AuditShipStatus, AuditShipperOptions } from '../../main/core/audit';
import { MemoryKeyStore } from '../../main/core/keystore';
import { Logger, memorySink } from '../../main/core/log';
import { RsyslogCollector, makeTestCertificates } from '../harness/rsyslog';
import type { CollectorMessage, TestCertificates } from '../harness/rsyslog';

const KEY_HEX = '5A1D3E7F9A0B2C4D6E8F0A1B3C5D7E9F1A2B3C4D5E6F708192A3B4C5D6E7F8AB';
const RETRY = { minMs: 50, maxMs: 500 };
const ACK_TIMEOUT_MS = 1500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(40);
  }
}

let root: string;
let certs: TestCertificates;
let collector: RsyslogCollector;
const collectors: RsyslogCollector[] = [];
const shippers: AuditShipper[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pin-station-audit-relp-'));
  certs = makeTestCertificates();
  collector = await RsyslogCollector.start({ server: certs.server, ca: certs.ca.cert, protocol: 'relp' });
  collectors.push(collector);
}, 30_000);

afterEach(async () => {
  await Promise.all(shippers.splice(0).map((shipper) => shipper.close()));
});

afterAll(async () => {
  await Promise.all(collectors.map((c) => c.stop()));
  rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
});

interface Trail {
  readonly path: string;
  readonly log: AuditLog;
}

function newTrail(name: string): Trail {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const path = auditFilePath(dir);
  return { path, log: new AuditLog(path, new MemoryKeyStore({ 'audit-key': KEY_HEX })) };
}

function cardEntry(stationId: string, n: number, practice = false): AuditEntry {
  return {
    stationId,
    operator: 'ann',
    cardId: `C-${String(n).padStart(6, '0')}`,
    mode: 'customer',
    profile: 'gcm',
    ...(practice ? { processor: 'sandbox' as const } : {}),
    outcome: 'pin-set',
    requestStatus: 'pin_set',
    errorCode: null,
  };
}

function trailLines(path: string): Map<number, { line: string; mac: string; practice: boolean }> {
  const lines = new Map<number, { line: string; mac: string; practice: boolean }>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    const record = JSON.parse(line) as { seq: number; mac: string; processor?: string };
    lines.set(record.seq, { line, mac: record.mac, practice: record.processor === 'sandbox' });
  }
  return lines;
}

function ship(trail: Trail, stationId: string, overrides: Partial<AuditShipperOptions> = {}, logLines: string[] = []): AuditShipper {
  const shipper = new AuditShipper({
    trailPath: trail.path,
    stationId,
    host: '127.0.0.1',
    port: collector.port,
    ca: certs.ca.cert,
    protocol: 'relp',
    clientCert: certs.client,
    auditKey: () => Promise.resolve(Buffer.from(KEY_HEX, 'hex')),
    noticeAfterMs: 60_000,
    hostname: 'teller-pc-7',
    retry: RETRY,
    ackTimeoutMs: ACK_TIMEOUT_MS,
    connectTimeoutMs: 2000,
    log: new Logger('debug', [memorySink(logLines)]),
    ...overrides,
  });
  shippers.push(shipper);
  shipper.start();
  return shipper;
}

function messagesOf(from: RsyslogCollector, stationId: string): CollectorMessage[] {
  return from.readMessages().filter((m) => m.station === stationId);
}

function expectMatchesTrail(messages: readonly CollectorMessage[], trail: Trail): void {
  const lines = trailLines(trail.path);
  for (const message of messages) {
    const expected = lines.get(message.seq);
    expect(expected, `seq ${message.seq} is in the trail`).toBeDefined();
    expect(message.mac).toBe(expected?.mac);
    expect(message.msg).toBe(expected?.line);
    expect(message.bom).toBe(true);
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const codesIn = (logLines: readonly string[]): string[] =>
  logLines
    .map((line) => JSON.parse(line) as { event: string; code?: string })
    .flatMap((entry) => (entry.event === 'audit.ship.failed' && entry.code ? [entry.code] : []));

describe('shipping the audit trail over RELP (imrelp, TLS, client certificate)', () => {
  it('delivers 1,000 records in order, each once, committed as the collector answers', async () => {
    const trail = newTrail('order');
    const shipper = ship(trail, 'relp-order');
    for (let n = 1; n <= 1000; n++) {
      await trail.log.append(cardEntry('relp-order', n));
      shipper.kick();
    }
    await waitFor('the watermark to commit record 1,000', () => shipper.status().shippedSeq === 1000);
    const messages = messagesOf(collector, 'relp-order');
    // Committed means answered, and the collector writes before it answers: all 1,000 are in its file now.
    expect(messages.map((m) => m.seq)).toEqual(range(1, 1000));
    expectMatchesTrail(messages, trail);
    expect(shipper.status()).toEqual({
      connected: true,
      shippedSeq: 1000,
      pending: 0,
      delayedSince: null,
      noticeDue: false,
      lastError: null,
      unverified: null,
    });
  }, 180_000);

  it('a collector stopped (SIGSTOP) while records keep coming is noticed though its connection stays up; killed and restarted, it gets every record', async () => {
    const own = await RsyslogCollector.start({ server: certs.server, ca: certs.ca.cert, protocol: 'relp' });
    collectors.push(own);
    const trail = newTrail('stall');
    const station = 'relp-stall';
    const statuses: AuditShipStatus[] = [];
    const logLines: string[] = [];
    const shipper = ship(trail, station, { port: own.port, noticeAfterMs: 0, onStatus: (s) => statuses.push(s) }, logLines);
    let appended = 0;
    let writing = true;
    // Stopped by the test, or when the test ends whatever its outcome (its trail is deleted afterwards).
    onTestFinished(() => {
      writing = false;
    });
    const writer = (async () => {
      for (let n = 1; writing; n++) {
        appended = (await trail.log.append(cardEntry(station, n))).seq;
        shipper.kick();
        await sleep(2);
      }
    })();
    await waitFor('records flowing', () => messagesOf(own, station).length >= 50);
    expect(shipper.status().noticeDue).toBe(false);

    own.pause();
    const stoppedAt = appended;
    // The connection stays up (the kernel keeps it), but no answers come: that alone must raise the notice.
    await waitFor('the operator notice while the collector is stopped', () => shipper.status().noticeDue, ACK_TIMEOUT_MS + 45_000);
    expect(codesIn(logLines)).toContain('ACK_TIMEOUT');
    expect(statuses.some((s) => s.noticeDue && s.delayedSince !== null)).toBe(true);
    await waitFor('records appended while stopped', () => appended >= stoppedAt + 100);

    await own.kill('SIGKILL');
    // Nothing is committed that the collector does not have: a commit needs its answer, which it sends after writing.
    const atKill = new Set(messagesOf(own, station).map((m) => m.seq));
    const committed = shipper.status().shippedSeq;
    expect(range(1, committed).filter((seq) => !atKill.has(seq))).toEqual([]);
    expect(committed).toBeLessThan(appended);

    await own.restart();
    // A fixed target: the writer goes on appending, and under load the resend of the backlog may never catch a moving one.
    const beforeRestart = appended;
    await waitFor('records flowing after the restart', () => messagesOf(own, station).some((m) => m.seq > beforeRestart), 60_000);
    writing = false;
    await writer;
    await waitFor('the watermark to commit the last record', () => shipper.status().shippedSeq === appended, 60_000);
    const messages = messagesOf(own, station);
    const seen = new Set(messages.map((m) => m.seq));
    expect(range(1, appended).filter((seq) => !seen.has(seq))).toEqual([]);
    expectMatchesTrail(messages, trail);
    await waitFor('the notice to clear', () => !shipper.status().noticeDue && shipper.status().delayedSince === null);
    console.info(`audit-ship-relp: ${appended} records, ${messages.length} messages at the collector, ${committed} committed at the kill`);
  }, 300_000);

  it('gets nothing through with a collector from another CA, a station certificate the collector does not trust, or none; and says so', async () => {
    const trail = newTrail('mtls');
    for (let n = 1; n <= 5; n++) await trail.log.append(cardEntry('relp-mtls', n));

    // The collector's certificate is from a CA the station does not trust.
    const impostor = await RsyslogCollector.start({ server: certs.wrongServer, ca: certs.wrongCa.cert, clientCa: certs.ca.cert, protocol: 'relp' });
    collectors.push(impostor);
    const wrongCa = ship(trail, 'relp-wrong-ca', { port: impostor.port, noticeAfterMs: 0 });
    await waitFor(
      'a refusal of the collector with the notice due',
      () => wrongCa.status().lastError === 'TLS_UNTRUSTED' && wrongCa.status().noticeDue && wrongCa.status().pending === 5,
    );
    expect(wrongCa.status()).toMatchObject({ connected: false, shippedSeq: 0, pending: 5 });
    await wrongCa.close();
    expect(impostor.readOutput()).toBe('');

    // The station's certificate is from a CA the collector does not trust; then no certificate at all.
    for (const [station, overrides] of [
      ['relp-untrusted-station', { clientCert: certs.wrongClient }],
      ['relp-no-certificate', { clientCert: undefined }],
    ] as const) {
      const logLines: string[] = [];
      const refused = ship(trail, station, { ...overrides, noticeAfterMs: 0 }, logLines);
      await waitFor(
        `${station}: the notice due after a few refusals`,
        () => refused.status().noticeDue && refused.status().pending === 5 && codesIn(logLines).length >= 3,
      );
      expect(refused.status()).toMatchObject({ connected: false, shippedSeq: 0, pending: 5 });
      await refused.close();
      expect(messagesOf(collector, station)).toEqual([]);
    }

    // Control: the right certificate gets the same records through.
    const trusted = ship(trail, 'relp-trusted');
    await waitFor('the records with a trusted certificate', () => trusted.status().shippedSeq === 5);
    expect(messagesOf(collector, 'relp-trusted').map((m) => m.seq)).toEqual(range(1, 5));
  }, 180_000);
});

describe('the shipper checks a line before it believes it', () => {
  it('passes over a genuine practice record, but ships a line that only claims to be practice and tells the operator', async () => {
    const trail = newTrail('forged-practice');
    const station = 'relp-forged';
    for (let n = 1; n <= 6; n++) await trail.log.append(cardEntry(station, n, n === 2));
    // Record 4 is edited to claim it was practice (JSON still valid, the mac left as it was).
    const lines = readFileSync(trail.path, 'utf8').split('\n');
    lines[3] = (lines[3] ?? '').replace('"profile":"gcm",', '"profile":"gcm","processor":"sandbox",');
    writeFileSync(trail.path, lines.join('\n'));
    const logLines: string[] = [];
    const statuses: AuditShipStatus[] = [];
    const shipper = ship(trail, station, { onStatus: (s) => statuses.push(s) }, logLines);
    await waitFor('all six committed', () => shipper.status().shippedSeq === 6);
    // Record 2 (real practice) is not shipped; record 4 is, as it is on disk, for the SIEM to see.
    const messages = messagesOf(collector, station);
    expect(messages.map((m) => m.seq)).toEqual([1, 3, 4, 5, 6]);
    expect(messages.find((m) => m.seq === 4)?.msg).toContain('"processor":"sandbox"');
    expect(shipper.status().unverified).toMatchObject({ seq: 4 });
    expect(shipper.status().unverified?.since).toBeInstanceOf(Date);
    expect(statuses.some((s) => s.unverified?.seq === 4)).toBe(true);
    expect(logLines.some((line) => line.includes('"audit.ship.unverified"') && line.includes('"seq":4'))).toBe(true);
  }, 30_000);

  it('puts an edited line on record: a ship-refused record naming its seq and why, without its content, and ships it', async () => {
    const trail = newTrail('refused-record');
    const station = 'relp-refused';
    for (let n = 1; n <= 4; n++) await trail.log.append(cardEntry(station, n));
    // Record 2's operator is changed (JSON still valid, the mac left as it was): its MAC no longer holds.
    const lines = readFileSync(trail.path, 'utf8').split('\n');
    lines[1] = (lines[1] ?? '').replace('"operator":"ann"', '"operator":"mallory"');
    writeFileSync(trail.path, lines.join('\n'));
    const calls: [number | null, string][] = [];
    const shipper = ship(trail, station, {
      recordUnverified: async (seq, reason) => {
        calls.push([seq, reason]);
        await trail.log.append({ type: 'ship-refused', stationId: station, lineSeq: seq, reason });
      },
    });
    await waitFor('the refusal record shipped', () => shipper.status().shippedSeq === 5, 30_000);
    const refusal = JSON.parse(readFileSync(trail.path, 'utf8').split('\n')[4] ?? '') as Record<string, unknown>;
    expect(refusal).toMatchObject({ seq: 5, type: 'ship-refused', stationId: station, lineSeq: 2, reason: 'MAC_MISMATCH' });
    expect(JSON.stringify(refusal)).not.toContain('mallory');
    expect(shipper.status().unverified).toMatchObject({ seq: 2, reason: 'MAC_MISMATCH' });
    const messages = messagesOf(collector, station);
    expect(messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(messages.find((m) => m.seq === 5)?.msg).toContain('"type":"ship-refused"');
    expect(calls).toEqual([[2, 'MAC_MISMATCH']]);
  }, 30_000);

  it('ships a correctly signed practice record that is out of its place in the chain (copied in), and tells the operator', async () => {
    const trail = newTrail('copied-practice');
    const station = 'relp-copied';
    for (let n = 1; n <= 3; n++) await trail.log.append(cardEntry(station, n, n === 3));
    const practiceLine = readFileSync(trail.path, 'utf8').split('\n')[2] ?? '';
    // The signed practice record 3 is put in again after record 4: its MAC holds, its place in the chain does not.
    await trail.log.append(cardEntry(station, 4));
    writeFileSync(trail.path, `${readFileSync(trail.path, 'utf8')}${practiceLine}\n`);
    const shipper = ship(trail, station);
    await waitFor('the copied line handled', () => shipper.status().unverified !== null && messagesOf(collector, station).length >= 4);
    expect(messagesOf(collector, station).map((m) => m.seq)).toEqual([1, 2, 4, 3]);
    expect(shipper.status().unverified).toMatchObject({ seq: 3 });
  }, 30_000);

  it('without the trail key, nothing counts as verified: practice records are shipped and the operator is told', async () => {
    const trail = newTrail('no-key');
    const station = 'relp-no-key';
    for (let n = 1; n <= 3; n++) await trail.log.append(cardEntry(station, n, true));
    const shipper = ship(trail, station, { auditKey: undefined });
    await waitFor('three committed', () => shipper.status().shippedSeq === 3);
    expect(messagesOf(collector, station).map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(shipper.status().unverified).toMatchObject({ seq: 1 });
  }, 30_000);
});
