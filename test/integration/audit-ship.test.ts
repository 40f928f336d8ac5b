/**
 * Audit shipping (main/core/audit/ship.ts) against a real rsyslogd over
 * loopback TLS (test/harness/rsyslog.ts), with real trails written by
 * AuditLog. Every assertion is about what the collector wrote to its file:
 * order, structured data, MSG equal to the trail line, no practice records,
 * at-least-once across SIGKILLed collectors with duplicates only just before
 * a kill, TLS refusals, and the watermark across shipper restarts.
 */
import { X509Certificate } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, auditFilePath, auditHeadPath } from '../../main/core/audit';
import type { AuditEntry } from '../../main/core/audit';
import { AuditShipper, auditShippedPath } from '../../main/core/audit';
import type { AuditShipStatus, AuditShipperOptions } from '../../main/core/audit';
import { MemoryKeyStore } from '../../main/core/keystore';
import { Logger, memorySink } from '../../main/core/log';
import { RsyslogCollector, makeTestCertificates } from '../harness/rsyslog';
import type { CollectorMessage, TestCertificates } from '../harness/rsyslog';

const KEY_HEX = '5A1D3E7F9A0B2C4D6E8F0A1B3C5D7E9F1A2B3C4D5E6F708192A3B4C5D6E7F8AB';
const SETTLE_MS = 300;
const RETRY = { minMs: 50, maxMs: 500 };
/**
 * A duplicate's first copy must have reached the collector at most this long before a kill: settleMs plus timer and
 * scheduling lag, which on a busy machine is seconds, not milliseconds.
 */
const DUPLICATE_WINDOW_MS = SETTLE_MS + 3_000;

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
  root = mkdtempSync(join(tmpdir(), 'pin-station-audit-ship-'));
  certs = makeTestCertificates();
  collector = await RsyslogCollector.start({ server: certs.server, ca: certs.ca.cert });
  collectors.push(collector);
});

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
    // Fixed width, so two trails of the same length put their records at the same offsets.
    cardId: `C-${String(n).padStart(6, '0')}`,
    mode: n % 2 === 0 ? 'customer' : 'processor',
    profile: 'gcm',
    ...(practice ? { processor: 'sandbox' as const } : {}),
    outcome: 'pin-set',
    requestStatus: 'pin_set',
    errorCode: null,
  };
}

/** The trail's lines by seq, as on disk (without newline), with each line's start offset. */
function trailLines(path: string): Map<number, { line: string; mac: string; offset: number; practice: boolean }> {
  const data = readFileSync(path);
  const lines = new Map<number, { line: string; mac: string; offset: number; practice: boolean }>();
  let start = 0;
  for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a, start)) {
    const line = data.subarray(start, nl).toString('utf8');
    const record = JSON.parse(line) as { seq: number; mac: string; processor?: string };
    lines.set(record.seq, { line, mac: record.mac, offset: start, practice: record.processor === 'sandbox' });
    start = nl + 1;
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
    // The trail's key, with which the shipper checks each line before passing over a practice record.
    auditKey: () => Promise.resolve(Buffer.from(KEY_HEX, 'hex')),
    noticeAfterMs: 60_000,
    hostname: 'teller-pc-7',
    retry: RETRY,
    settleMs: SETTLE_MS,
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

/** Each collected message carries the trail's seq, mac and exact line, after the BOM. */
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

describe('shipping the audit trail to a syslog collector over TLS', () => {
  it('delivers 1,000 records in order, with their structured data and the exact trail line', async () => {
    const trail = newTrail('order');
    const shipper = ship(trail, 'ship-order');
    const started = Date.now();
    for (let n = 1; n <= 1000; n++) {
      await trail.log.append(cardEntry('ship-order', n));
      shipper.kick();
    }
    const appendedMs = Date.now() - started;
    await waitFor('1,000 records at the collector', () => messagesOf(collector, 'ship-order').length >= 1000);
    await waitFor('the watermark to commit record 1,000', () => shipper.status().shippedSeq === 1000);
    const messages = messagesOf(collector, 'ship-order');
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
    console.info(`audit-ship: 1,000 appends in ${appendedMs} ms, all at the collector ${Date.now() - started} ms after the first`);
  });

  it('leaves a line still being written for later, and sends it once it is complete', async () => {
    const trail = newTrail('torn');
    for (let n = 1; n <= 4; n++) await trail.log.append(cardEntry('ship-torn', n));
    const data = readFileSync(trail.path);
    const line4 = trailLines(trail.path).get(4);
    const cut = (line4?.offset ?? 0) + 40;
    writeFileSync(trail.path, data.subarray(0, cut)); // record 4 half written, no newline yet
    const shipper = ship(trail, 'ship-torn');
    await waitFor('records 1-3 committed', () => shipper.status().shippedSeq === 3);
    await sleep(SETTLE_MS);
    expect(messagesOf(collector, 'ship-torn').map((m) => m.seq)).toEqual([1, 2, 3]);
    appendFileSync(trail.path, data.subarray(cut));
    shipper.kick();
    await waitFor('record 4 committed', () => shipper.status().shippedSeq === 4);
    const messages = messagesOf(collector, 'ship-torn');
    expect(messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expectMatchesTrail(messages, trail);
  });

  it('survives a collector SIGKILLed and restarted 5 times mid-stream: every record arrives, duplicates only just before a kill, no practice records', async () => {
    const trail = newTrail('kill');
    const station = 'ship-kill';
    const shipper = ship(trail, station);
    const practice = new Set<number>();
    let appended = 0;
    let writing = true;
    // The writer never waits for the shipper: it appends and kicks, as the station does.
    const writer = (async () => {
      for (let n = 1; writing; n++) {
        const record = await trail.log.append(cardEntry(station, n, n % 10 === 0));
        if (n % 10 === 0) practice.add(record.seq);
        appended = record.seq;
        shipper.kick();
      }
    })();

    const kills: { at: number; segmentEnd: number }[] = [];
    /** Waits until the collector has a record appended from now on: the backlog is through and records flow live. */
    const live = async (): Promise<void> => {
      const mark = appended;
      await waitFor('records flowing live to the collector', () => messagesOf(collector, station).some((m) => m.seq > mark + 5));
    };
    for (let k = 0; k < 5; k++) {
      await live();
      // Longer than the duplicate window, so a copy sent while catching up after the restart would fall outside it.
      await sleep(1000 + Math.random() * 400);
      const at = Date.now();
      await collector.kill('SIGKILL');
      kills.push({ at, segmentEnd: messagesOf(collector, station).length });
      await sleep(150 + Math.random() * 250); // records keep being appended while the collector is down
      await collector.restart();
    }
    await live();
    await waitFor('at least 1,000 records appended', () => appended >= 1000, 120_000);
    writing = false;
    await writer;
    const expected = [...trailLines(trail.path).entries()].filter(([, line]) => !line.practice).map(([seq]) => seq);
    // On time-out, the assertions below name the missing records.
    await waitFor('every record at the collector', () => {
      const seen = new Set(messagesOf(collector, station).map((m) => m.seq));
      return expected.every((seq) => seen.has(seq));
    }).catch(() => undefined);

    const messages = messagesOf(collector, station);
    expect(appended).toBeGreaterThanOrEqual(1000);
    expect(kills).toHaveLength(5);
    expectMatchesTrail(messages, trail);
    // No practice record ever reaches the collector.
    expect(messages.filter((m) => practice.has(m.seq))).toEqual([]);
    expect(practice.size).toBeGreaterThanOrEqual(100);
    // Every real record arrived at least once.
    const seen = new Set(messages.map((m) => m.seq));
    expect(expected.filter((seq) => !seen.has(seq))).toEqual([]);
    await waitFor('the watermark to commit the last record', () => shipper.status().shippedSeq === appended);

    // Within one collector lifetime records arrive in order, each once: duplicates only across reconnects.
    const bounds = [0, ...kills.map((kill) => kill.segmentEnd), messages.length];
    const segments = bounds.slice(1).map((end, i) => messages.slice(bounds[i], end));
    for (const segment of segments) {
      const seqs = segment.map((m) => m.seq);
      expect(
        seqs.every((seq, i) => i === 0 || seq > (seqs[i - 1] ?? 0)),
        'seqs increase within a segment',
      ).toBe(true);
    }
    // Every copy but the last of a duplicated seq reached the collector shortly before the kill that ended its segment.
    const duplicatesPerKill = kills.map(() => 0);
    const copies = new Map<number, number[]>();
    messages.forEach((m, index) => copies.set(m.seq, [...(copies.get(m.seq) ?? []), index]));
    for (const [seq, indexes] of copies) {
      for (const index of indexes.slice(0, -1)) {
        const k = kills.findIndex((kill) => index < kill.segmentEnd);
        const kill = kills[k];
        expect(kill, `seq ${seq}: an earlier copy after the last kill`).toBeDefined();
        if (!kill) continue;
        const message = messages[index];
        const before = kill.at - (message?.receivedAt ?? 0);
        expect(before, `seq ${seq} was received ${before} ms before kill ${k + 1}`).toBeLessThanOrEqual(DUPLICATE_WINDOW_MS);
        expect(before, `seq ${seq} was received before kill ${k + 1}`).toBeGreaterThanOrEqual(-20);
        duplicatesPerKill[k] = (duplicatesPerKill[k] ?? 0) + 1;
      }
    }
    console.info(
      `audit-ship: ${appended} records appended (${practice.size} practice), ${messages.length} messages collected, ` +
        `duplicates per kill: ${duplicatesPerKill.join(', ')}`,
    );
  }, 300_000);

  it('sends nothing to a collector whose certificate is from another CA or has another fingerprint, and says so', async () => {
    const wrong = await RsyslogCollector.start({ server: certs.wrongServer, ca: certs.wrongCa.cert });
    collectors.push(wrong);
    const trail = newTrail('tls');
    for (let n = 1; n <= 5; n++) await trail.log.append(cardEntry('ship-tls', n));

    const statuses: AuditShipStatus[] = [];
    const logLines: string[] = [];
    const untrusted = ship(trail, 'ship-tls', { port: wrong.port, noticeAfterMs: 0, onStatus: (s) => statuses.push(s) }, logLines);
    await waitFor('a TLS refusal with the notice due', () => untrusted.status().lastError === 'TLS_UNTRUSTED' && untrusted.status().noticeDue);
    await waitFor('a few retries', () => logLines.filter((line) => line.includes('"audit.ship.failed"')).length >= 3);
    const status = untrusted.status();
    expect(status.connected).toBe(false);
    expect(status.delayedSince).toBeInstanceOf(Date);
    expect(status.shippedSeq).toBe(0);
    expect(status.pending).toBe(5);
    expect(statuses.some((s) => s.noticeDue && s.delayedSince !== null)).toBe(true);
    expect(wrong.readOutput()).toBe('');
    // The log names the failure by code, never a record.
    expect(logLines.join('\n')).not.toContain('C-000001');
    expect(logLines.some((line) => JSON.parse(line).code === 'TLS_UNTRUSTED')).toBe(true);
    await untrusted.close();

    // The right CA, but the certificate's fingerprint is not the configured one.
    const otherFingerprint = new X509Certificate(certs.wrongServer.cert).fingerprint256;
    const pinned = ship(trail, 'ship-fingerprint', { fingerprintSha256: otherFingerprint, noticeAfterMs: 0 });
    await waitFor('a fingerprint refusal', () => pinned.status().lastError === 'TLS_FINGERPRINT' && pinned.status().noticeDue);
    await sleep(500);
    expect(pinned.status().lastError).toBe('TLS_FINGERPRINT');
    expect(messagesOf(collector, 'ship-fingerprint')).toEqual([]);
    await pinned.close();

    // Control: the collector's own fingerprint (lowercase, no colons) is accepted and the records arrive.
    const rightFingerprint = new X509Certificate(certs.server.cert).fingerprint256.replace(/:/g, '').toLowerCase();
    const matching = ship(trail, 'ship-fingerprint-ok', { fingerprintSha256: rightFingerprint });
    await waitFor('records with the right fingerprint', () => messagesOf(collector, 'ship-fingerprint-ok').length >= 5);
    expect(messagesOf(collector, 'ship-fingerprint-ok').map((m) => m.seq)).toEqual(range(1, 5));
    expect(matching.status().lastError).toBeNull();
  });

  it('keeps a watermark: a second shipper resends nothing committed; a garbage or stale watermark restarts from the first record', async () => {
    const trail = newTrail('watermark');
    for (let n = 1; n <= 50; n++) await trail.log.append(cardEntry('ship-wm', n));
    const first = ship(trail, 'ship-wm');
    await waitFor('50 records committed', () => first.status().shippedSeq === 50);
    await first.close();
    const lines = trailLines(trail.path);
    const watermark = JSON.parse(readFileSync(auditShippedPath(trail.path), 'utf8')) as { seq: number; mac: string; offset: number };
    expect(watermark).toEqual({ seq: 50, mac: lines.get(50)?.mac, offset: lines.get(50)?.offset });

    for (let n = 51; n <= 80; n++) await trail.log.append(cardEntry('ship-wm', n));
    const second = ship(trail, 'ship-wm');
    await waitFor('80 records committed', () => second.status().shippedSeq === 80);
    await second.close();
    const messages = messagesOf(collector, 'ship-wm');
    expect(messages.map((m) => m.seq)).toEqual(range(1, 80)); // no duplicates
    expectMatchesTrail(messages, trail);

    // A garbage watermark: start again from record 1, without throwing.
    writeFileSync(auditShippedPath(trail.path), 'not a watermark {');
    const garbageLog: string[] = [];
    const third = ship(trail, 'ship-wm-garbage', {}, garbageLog);
    await waitFor('80 records committed again', () => third.status().shippedSeq === 80);
    await third.close();
    expect(messagesOf(collector, 'ship-wm-garbage').map((m) => m.seq)).toEqual(range(1, 80));
    expect(garbageLog.some((line) => line.includes('"audit.ship.restart"'))).toBe(true);

    // The trail is reset and written again, the same length per record: the watermark's offset now holds
    // record 80 of the new trail, with another mac. It must not be taken for the old one.
    const stale = JSON.parse(readFileSync(auditShippedPath(trail.path), 'utf8')) as { seq: number; offset: number };
    rmSync(trail.path);
    rmSync(auditHeadPath(trail.path));
    await sleep(5); // another time, so other MACs
    const reset: Trail = { path: trail.path, log: new AuditLog(trail.path, new MemoryKeyStore({ 'audit-key': KEY_HEX })) };
    for (let n = 1; n <= 90; n++) await reset.log.append(cardEntry('ship-wm', n));
    const atOffset = [...trailLines(reset.path).values()].find((line) => line.offset === stale.offset);
    expect(JSON.parse(atOffset?.line ?? '{}')).toMatchObject({ seq: stale.seq });
    const resetLog: string[] = [];
    const fourth = ship(reset, 'ship-wm-reset', {}, resetLog);
    await waitFor('the new trail committed', () => fourth.status().shippedSeq === 90);
    await fourth.close();
    const resent = messagesOf(collector, 'ship-wm-reset');
    expect(resent.map((m) => m.seq)).toEqual(range(1, 90));
    expectMatchesTrail(resent, reset);
    expect(resetLog.some((line) => line.includes('"audit.ship.restart"'))).toBe(true);

    // Reset again to a shorter trail: the watermark points past its end.
    rmSync(trail.path);
    rmSync(auditHeadPath(trail.path));
    const short: Trail = { path: trail.path, log: new AuditLog(trail.path, new MemoryKeyStore({ 'audit-key': KEY_HEX })) };
    for (let n = 1; n <= 10; n++) await short.log.append(cardEntry('ship-wm', n));
    const fifth = ship(short, 'ship-wm-short');
    await waitFor('the short trail committed', () => fifth.status().shippedSeq === 10);
    await fifth.close();
    expect(messagesOf(collector, 'ship-wm-short').map((m) => m.seq)).toEqual(range(1, 10));
    expectMatchesTrail(messagesOf(collector, 'ship-wm-short'), short);
  });
});
