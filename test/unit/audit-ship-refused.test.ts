/**
 * A trail line the shipper cannot verify goes on record (main/core/audit/ship.ts, ship-status.ts): a real trail in
 * a temp folder, one record edited, and no collector listening, so every failed connect rewinds and rereads the
 * edited line. It must be put on record once, as a `ship-refused` record that holds its seq and why but nothing of
 * the line, and the record itself must verify as part of the chain.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog, auditFilePath } from '../../main/core/audit';
import type { AuditEntry, AuditShipperOptions } from '../../main/core/audit';
import { checkLine } from '../../main/core/audit/format';
import { AuditShipper } from '../../main/core/audit';
import { MemoryKeyStore } from '../../main/core/keystore';
import { Logger, memorySink } from '../../main/core/log';

const KEY_HEX = '5A1D3E7F9A0B2C4D6E8F0A1B3C5D7E9F1A2B3C4D5E6F708192A3B4C5D6E7F8AB';
const dirs: string[] = [];
const shippers: AuditShipper[] = [];

afterEach(async () => {
  await Promise.all(shippers.splice(0).map((shipper) => shipper.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address !== null ? address.port : 9;
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function card(n: number): AuditEntry {
  return {
    stationId: 'branch-01',
    operator: 'ann',
    cardId: `CARD-${n}`,
    mode: 'customer',
    profile: 'gcm',
    outcome: 'pin-set',
    requestStatus: 'ok',
    errorCode: null,
  };
}

/**
 * A trail of `cards` records in a temp folder, edited by `edit`, and a started shipper over it aiming at a
 * loopback port where nothing listens; `more` adds to the shipper's options (it is given the trail's writer).
 */
async function shipEditedTrail(
  cards: number,
  edit: (text: string) => string,
  more: (log: AuditLog) => Partial<AuditShipperOptions> = () => ({}),
): Promise<{ path: string; shipper: AuditShipper }> {
  const dir = mkdtempSync(join(tmpdir(), 'pin-station-ship-refused-'));
  dirs.push(dir);
  const path = auditFilePath(dir);
  const log = new AuditLog(path, new MemoryKeyStore({ 'audit-key': KEY_HEX }));
  for (let n = 1; n <= cards; n++) await log.append(card(n));
  writeFileSync(path, edit(readFileSync(path, 'utf8')));
  const shipper = new AuditShipper({
    trailPath: path,
    stationId: 'branch-01',
    host: '127.0.0.1',
    port: await closedPort(),
    ca: '',
    noticeAfterMs: 60_000,
    retry: { minMs: 10, maxMs: 20 },
    auditKey: () => Promise.resolve(Buffer.from(KEY_HEX, 'hex')),
    ...more(log),
  });
  shippers.push(shipper);
  shipper.start();
  return { path, shipper };
}

describe('a line the shipper cannot verify', () => {
  it('is put on record once (seq and reason, no content), even though every reconnect rereads it', async () => {
    const logLines: string[] = [];
    const recorded: [number | null, string][] = [];
    const { path, shipper } = await shipEditedTrail(
      3,
      (text) => {
        const lines = text.split('\n');
        lines[1] = (lines[1] ?? '').replace('"cardId":"CARD-2"', '"cardId":"CARD-9"');
        return lines.join('\n');
      },
      (log) => ({
        log: new Logger('debug', [memorySink(logLines)]),
        recordUnverified: async (seq, reason) => {
          recorded.push([seq, reason]);
          await log.append({ type: 'ship-refused', stationId: 'branch-01', lineSeq: seq, reason });
        },
      }),
    );
    // Each failed connect rewinds to the start of the trail and reads the edited line again.
    const rereads = (): number => logLines.filter((line) => line.includes('"audit.ship.unverified"')).length;
    await waitFor('the edited line read five times', () => rereads() >= 5);

    expect(recorded).toEqual([[2, 'MAC_MISMATCH']]);
    expect(shipper.status()).toMatchObject({ connected: false, unverified: { seq: 2, reason: 'MAC_MISMATCH' } });
    const trail = readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line !== '');
    expect(trail).toHaveLength(4);
    const refusal = trail[3] ?? '';
    expect(JSON.parse(refusal)).toMatchObject({ seq: 4, type: 'ship-refused', stationId: 'branch-01', lineSeq: 2, reason: 'MAC_MISMATCH' });
    expect(refusal).not.toMatch(/CARD-/);
    // The refusal is a record like any other: it verifies and chains to the line before it.
    const check = checkLine(Buffer.from(refusal, 'utf8'), Buffer.from(KEY_HEX, 'hex'));
    expect(check.ok).toBe(true);
    expect(check.ok && check.record.prev).toBe(JSON.parse(trail[2] ?? '{}').mac);
  }, 60_000);

  it('is not shipped silently when no recorder is given: the status names it', async () => {
    const { shipper } = await shipEditedTrail(2, (text) => text.replace('"prev":"0000', '"prev":"1111'));
    await waitFor('the line reported', () => shipper.status().unverified !== null);
    expect(shipper.status().unverified).toMatchObject({ seq: 1, reason: 'MAC_MISMATCH' });
  }, 60_000);
});
