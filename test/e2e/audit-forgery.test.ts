/**
 * Someone who can write the data directory, but not the keychain, edits the trail between runs. Two ways:
 * records cut off with a forged (unsigned) reset line put first, naming the keychain's high-water mark to pass
 * for an acknowledged loss; and one record edited in the middle, its JSON still valid. Either way the next start
 * is the cannot-start screen naming what was lost or edited, nothing is appended, and no request reaches the
 * processor.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { auditHeadPath, readAuditRecords, readMark } from '../../main/core/audit';
import { writeHead } from '../../main/core/audit/head';
import { KeytarKeyStore } from '../../main/core/keytar-store';
import type { KeyStore } from '../../main/core/keystore';
import { enterAndConfirm, startCard, statusText } from '../harness/journeys';
import { launchStation } from '../harness/launch-station';
import type { LaunchedStation, StationTestKeys } from '../harness/launch-station';

const dir = mkdtempSync(join(tmpdir(), 'pin-station-audit-forgery-'));
const keychain = new KeytarKeyStore(`pin-station-test-${randomBytes(6).toString('hex')}`);
// The keys and the mark outlive each run, as on a real station (the harness empties the keychain at close).
const keyStore: KeyStore = {
  get: (a) => keychain.get(a),
  set: (a, v) => keychain.set(a, v),
  delete: async (a) => (a.startsWith('staff-') ? keychain.delete(a) : false),
};
let keys: Partial<StationTestKeys> | undefined;

afterAll(async () => {
  for (const account of ['pin-key', 'api-token', 'pin-public-key', 'audit-key', 'audit-mark', 'staff-key', 'staff-generation'] as const) {
    await keychain.delete(account).catch(() => false);
  }
  rmSync(dir, { recursive: true, force: true });
});

async function launch(trail: string): Promise<LaunchedStation> {
  const station = await launchStation({ keyStore, auditPath: trail, config: { approval: { require: [] } }, ...(keys ? { keys } : {}) });
  keys ??= station.keys;
  return station;
}

async function setPin(station: LaunchedStation, cardId: string): Promise<void> {
  await startCard(station.operator, cardId, 'Customer chooses PIN');
  await enterAndConfirm(station.pinpad, '2580');
  await expect.poll(() => statusText(station.operator)).toContain('PIN set.');
}

/** Starts the station on the edited trail: the cannot-start screen, the trail untouched, the processor not asked. */
async function expectRefused(trail: string, ...says: string[]): Promise<void> {
  const before = readFileSync(trail);
  const refused = await launch(trail);
  try {
    await expect.poll(() => statusText(refused.operator)).toContain('PIN Station cannot start.');
    const text = (await statusText(refused.operator)) ?? '';
    for (const part of says) expect(text).toContain(part);
    expect(text).toContain('npm run audit -- reset --acknowledge');
    expect(await refused.operator.getByRole('button', { name: 'Start' }).isDisabled()).toBe(true);
    expect(refused.sandbox?.requests ?? []).toHaveLength(0);
  } finally {
    await refused.close();
  }
  expect(readFileSync(trail).equals(before)).toBe(true);
}

it('a forged reset line in place of records 2..N (head anchor removed): cannot start, the lost range named', async () => {
  const trail = join(dir, 'forged', 'audit', 'audit.jsonl');
  const station = await launch(trail);
  try {
    await setPin(station, 'CARD-0001');
  } finally {
    await station.close();
  }
  const mark = await readMark(keyStore);
  expect(mark?.seq).toBeGreaterThan(1);
  if (!mark) return;
  const record1 = readFileSync(trail, 'utf8').split('\n')[0] as string;
  // The mark's seq and mac are readable in the trail (and in the head anchor): all a forger needs.
  const forged = JSON.stringify({
    seq: 1,
    time: new Date().toISOString(),
    type: 'reset',
    cause: 'trail-missing',
    lostFrom: 1,
    lostTo: mark.seq,
    markSeq: mark.seq,
    markMac: mark.mac,
    keptAs: null,
    acknowledgedBy: 'admin',
    prev: '0'.repeat(64),
    mac: randomBytes(32).toString('hex'),
  });
  writeFileSync(trail, `${forged}\n${record1}\n`);
  rmSync(auditHeadPath(trail));

  await expectRefused(trail, 'AUDIT_TRAIL_LOST', `records 2 to ${mark.seq} are missing`);
  expect((await readMark(keyStore))?.seq).toBe(mark.seq);
}, 120_000);

it('record 2 of 5 edited between runs, its JSON still valid: cannot start, record 2 named', async () => {
  const trail = join(dir, 'edited', 'audit', 'audit.jsonl');
  await keychain.delete('audit-mark');
  await keychain.delete('audit-key');
  const station = await launch(trail);
  try {
    await setPin(station, 'CARD-0002');
    await station.operator.getByRole('button', { name: 'Next card' }).click();
    await setPin(station, 'CARD-0003');
  } finally {
    await station.close();
  }
  // Keep exactly five records, as a station that stopped there would have left them (head and mark with them).
  const lines = readFileSync(trail, 'utf8').split('\n').filter(Boolean);
  expect(lines.length).toBeGreaterThanOrEqual(5);
  const five = lines.slice(0, 5);
  const last = JSON.parse(five[4] as string) as { seq: number; mac: string };
  writeFileSync(trail, `${five.join('\n')}\n`);
  const key = Buffer.from((await keychain.get('audit-key')) ?? '', 'hex');
  await writeHead(trail, last.seq, last.mac, key);
  key.fill(0);
  await keychain.set('audit-mark', JSON.stringify({ seq: last.seq, mac: last.mac }));
  expect(readAuditRecords(trail)).toHaveLength(5);

  const edited = (five[1] as string).replace(/"time":"([^"]+)"/, '"time":"2020-01-01T00:00:00.000Z"');
  expect(edited).not.toBe(five[1]);
  JSON.parse(edited);
  writeFileSync(trail, `${[five[0], edited, ...five.slice(2)].join('\n')}\n`);

  await expectRefused(trail, 'AUDIT_CHAIN_BROKEN', 'Record 2 (line 2)', 'the record was edited');
}, 180_000);
