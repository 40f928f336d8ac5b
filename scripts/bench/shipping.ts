/**
 * Audit shipping and PIN entry: key press -> DOM updated on the pad, the same
 * press loop as the browser bench, in three conditions taken in turn within
 * one run (interleaved over `rounds`): no shipping configured; shipping to a
 * real rsyslogd over TLS on loopback while it takes a backlog of `backlog`
 * records (the station had been offline); and shipping configured to a
 * collector that is down (nothing listens on its port, so the shipper keeps
 * reconnecting with backoff). The same three over RELP (imrelp over TLS with
 * the station's certificate) plus a stalled RELP collector: stopped with
 * SIGSTOP once the station is sending, so its connection stays up and its
 * answers stop. Each condition is a fresh station whose trail already holds
 * the backlog, so the shipper is busy from the first press.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_GENESIS, signRecord } from '../../main/core/audit/format';
import type { AuditRecord } from '../../main/core/audit/format';
import { writeHead } from '../../main/core/audit/head';
import { writeMark } from '../../main/core/audit/mark';
import { KeytarKeyStore } from '../../main/core/keytar-store';
import type { KeyStore } from '../../main/core/keystore';
import { launchGatedStation } from '../../test/harness/journeys';
import { makeTestCertificates, RsyslogCollector } from '../../test/harness/rsyslog';
import { PRESS_LOOP } from './browser';
import { summarize } from './stats';
import type { Summary } from './stats';

export const SHIPPING_CONDITIONS = ['none', 'up', 'down', 'relp-up', 'relp-stalled', 'relp-down'] as const;
export type ShippingCondition = (typeof SHIPPING_CONDITIONS)[number];

export interface ShippingOptions {
  readonly presses: number;
  readonly rounds: number;
  readonly backlog: number;
  readonly progress?: (line: string) => void;
}

export interface ShippingResult {
  readonly backlog: number;
  /** Press -> DOM updated, pooled over the rounds, per condition. */
  readonly domMs: Readonly<Record<ShippingCondition, Summary>>;
  /** Records the collector received from the last "up" station, from its start to the end of the presses (shows it shipped). */
  readonly shippedDuringPresses: number;
  /** The same for the last "relp-up" station. */
  readonly relpShippedDuringPresses: number;
}

/** A busy branch writes about 200,000 records a year: the backlog's records are that far apart, ending now. */
const BUSY_BRANCH_SPACING_MS = Math.round((365.25 * 24 * 3_600_000) / 200_000);

/**
 * A trail of `count` card records, written at once (chain, head anchor and high-water mark as the station writes
 * them), streamed in 4 MiB writes so a million records (~377 MB) never sit in memory. Also the start-up bench's.
 */
export async function writeBacklog(path: string, keyStore: KeyStore, count: number): Promise<void> {
  const keyHex = randomBytes(32).toString('hex').toUpperCase();
  await keyStore.set('audit-key', keyHex);
  const key = Buffer.from(keyHex, 'hex');
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  const file = await open(path, 'w', 0o600);
  let prev = AUDIT_GENESIS;
  let last: AuditRecord | null = null;
  const start = Date.now() - count * BUSY_BRANCH_SPACING_MS;
  try {
    let chunk: string[] = [];
    let chunkLength = 0;
    for (let seq = 1; seq <= count; seq++) {
      const { record, line } = signRecord<AuditRecord>(
        {
          seq,
          time: new Date(start + seq * BUSY_BRANCH_SPACING_MS).toISOString(),
          stationId: 'bench-station',
          operator: 'operator.test',
          cardId: `BACKLOG-${seq}`,
          mode: 'customer',
          profile: 'gcm',
          outcome: 'pin-set',
          requestStatus: `REQ-${seq}`,
          errorCode: null,
          prev,
        },
        key,
      );
      chunk.push(line);
      chunkLength += line.length + 1;
      prev = record.mac;
      last = record;
      if (chunkLength >= 4 * 1024 * 1024 || seq === count) {
        await file.writeFile(`${chunk.join('\n')}\n`);
        chunk = [];
        chunkLength = 0;
      }
    }
  } finally {
    await file.close();
  }
  if (last) {
    await writeHead(path, last.seq, last.mac, key);
    await writeMark(keyStore, { seq: last.seq, mac: last.mac });
  }
  key.fill(0);
}

function outputBytes(collector: RsyslogCollector): number {
  return existsSync(collector.messagesPath) ? statSync(collector.messagesPath).size : 0;
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

export async function runShippingBench(options: ShippingOptions): Promise<ShippingResult> {
  const certs = makeTestCertificates();
  const collector = await RsyslogCollector.start({ server: certs.server, ca: certs.ca.cert, holdMs: 0 });
  const relpCollector = await RsyslogCollector.start({ server: certs.server, ca: certs.ca.cert, protocol: 'relp' });
  const dir = mkdtempSync(join(tmpdir(), 'pin-station-bench-ship-'));
  const caFile = join(dir, 'collector-ca.pem');
  writeFileSync(caFile, certs.ca.cert);
  const certFile = join(dir, 'station.pem');
  writeFileSync(certFile, certs.client.cert);
  const samples = Object.fromEntries(SHIPPING_CONDITIONS.map((condition) => [condition, [] as number[]])) as Record<ShippingCondition, number[]>;
  let shippedDuringPresses = 0;
  let relpShippedDuringPresses = 0;
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const condition of SHIPPING_CONDITIONS) {
        options.progress?.(`  shipping: round ${round + 1}, collector ${condition === 'none' ? 'not configured' : condition}, ${options.presses} presses`);
        const keyStore = new KeytarKeyStore(`pin-station-bench-${randomBytes(6).toString('hex')}`);
        const auditPath = join(dir, `${round}-${condition}`, 'audit', 'audit.jsonl');
        await writeBacklog(auditPath, keyStore, options.backlog);
        const relp = condition.startsWith('relp-');
        if (relp) await keyStore.set('ship-key', certs.client.key);
        const target = relp ? relpCollector : collector;
        const before = condition === 'up' || condition === 'relp-up' ? target.readMessages().length : 0;
        const port = condition === 'down' || condition === 'relp-down' ? await closedPort() : target.port;
        const ship =
          condition === 'none'
            ? {}
            : relp
              ? { audit: { ship: { protocol: 'relp' as const, host: '127.0.0.1', port, caFile, certFile, noticeAfterMinutes: 60 } } }
              : { audit: { ship: { host: '127.0.0.1', port, caFile, noticeAfterMinutes: 60 } } };
        let paused = false;
        let stall: Promise<void> = Promise.resolve();
        if (condition === 'relp-stalled') {
          // Stalled while the station is sending its backlog (watched from before the launch, as it starts at once):
          // the connection stays up, the answers stop.
          const seen = outputBytes(relpCollector);
          stall = (async () => {
            const deadline = Date.now() + 60_000;
            while (outputBytes(relpCollector) === seen) {
              if (Date.now() > deadline) throw new Error('the RELP collector received nothing before it was to be stalled');
              await new Promise((done) => setTimeout(done, 5));
            }
            relpCollector.pause();
            paused = true;
          })();
          stall.catch(() => undefined); // awaited below; a launch failure must not leave it unhandled
        }
        // A processor of its own (not the built-in sandbox, whose practice records are never shipped).
        const gated = await launchGatedStation({
          keyStore,
          auditPath,
          config: { station: { id: 'bench-station' }, pin: { sessionTimeoutMs: 1_800_000, inactivityTimeoutMs: 600_000 }, ...ship },
        });
        const station = gated.station;
        try {
          await stall;
          const started = await station.core.router.handle('operator', 'station:start', { cardId: 'BENCH-SHIP-0001', mode: 'customer' });
          if (!started.ok) throw new Error(`station:start failed: ${started.error.code}`);
          await station.pinpad.getByRole('button', { name: '5', exact: true }).waitFor();
          const measured = (await station.pinpad.evaluate(`(${PRESS_LOOP})(${JSON.stringify(options.presses)})`)) as { presses: [number, number, number][] };
          samples[condition].push(...measured.presses.map((press) => press[0]));
          if (condition === 'up' || condition === 'relp-up') {
            const shipped = target.readMessages().length - before;
            // Otherwise "collector up" would measure a station that ships nothing.
            if (shipped === 0) throw new Error(`the collector received nothing while the station with the collector ${condition} was measured`);
            if (condition === 'up') shippedDuringPresses = shipped;
            else relpShippedDuringPresses = shipped;
          }
        } finally {
          await gated.close();
          if (paused) relpCollector.resume();
          await keyStore.delete('audit-mark').catch(() => false);
          await keyStore.delete('ship-key').catch(() => false);
        }
      }
    }
  } finally {
    await collector.stop();
    await relpCollector.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    backlog: options.backlog,
    domMs: Object.fromEntries(SHIPPING_CONDITIONS.map((condition) => [condition, summarize(samples[condition])])) as Record<ShippingCondition, Summary>,
    shippedDuringPresses,
    relpShippedDuringPresses,
  };
}
