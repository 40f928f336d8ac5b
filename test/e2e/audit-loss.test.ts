/**
 * A trail that lost records refuses start-up on the station's own screen, naming the range the keychain's
 * high-water mark says is gone; `npm run audit -- reset --acknowledge` then starts a new trail whose first
 * record is the reset, and the station starts and records on it. Three ways to lose records: the trail deleted,
 * the trail and its head deleted, and the trail cut short with an older head anchor put back.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { auditHeadPath, readAuditRecords, verifyAuditFile } from '../../main/core/audit';
import { KeytarKeyStore } from '../../main/core/keytar-store';
import type { KeyStore } from '../../main/core/keystore';
import { EXIT_CODES, runAuditCli } from '../../main/admin/audit/cli';
import { enterAndConfirm, startCard, statusText } from '../harness/journeys';
import { launchStation } from '../harness/launch-station';
import type { LaunchedStation, StationTestKeys } from '../harness/launch-station';

const dir = mkdtempSync(join(tmpdir(), 'pin-station-audit-loss-'));
const trail = join(dir, 'audit', 'audit.jsonl');
const keychain = new KeytarKeyStore(`pin-station-test-${randomBytes(6).toString('hex')}`);
// The harness empties the keychain when a station closes; here the keys and the mark must outlive each run, as on a
// real station. Staff entries still go: each run makes its own accounts file.
const keyStore: KeyStore = {
  get: (a) => keychain.get(a),
  set: (a, v) => keychain.set(a, v),
  delete: async (a) => (a.startsWith('staff-') ? keychain.delete(a) : false),
};
let keys: Partial<StationTestKeys> | undefined;
let fullMark = '';
let fullRecords = 0;

function copyTrail(from: string, to: string): void {
  copyFileSync(from, to);
  copyFileSync(auditHeadPath(from), auditHeadPath(to));
}

async function launch(): Promise<LaunchedStation> {
  // Signs in the harness's operator.test when the station starts.
  return launchStation({ keyStore, auditPath: trail, ...(keys ? { keys } : {}) });
}

async function setPin(station: LaunchedStation, cardId: string): Promise<void> {
  await startCard(station.operator, cardId, 'Customer chooses PIN');
  await enterAndConfirm(station.pinpad, '2580');
  await expect.poll(() => statusText(station.operator)).toContain('PIN set.');
}

// The tests of this file run in order: this one makes the history the others lose records of.
it("one station's history: a PIN set, the trail copied (the older copy), another PIN set", async () => {
  const station = await launch();
  keys = station.keys;
  await setPin(station, 'CARD-0001');
  copyTrail(trail, join(dir, 'older.jsonl'));
  await station.operator.getByRole('button', { name: 'Next card' }).click();
  await setPin(station, 'CARD-0002');
  await station.close();
  copyTrail(trail, join(dir, 'full.jsonl'));
  fullMark = (await keychain.get('audit-mark')) ?? '';
  fullRecords = readAuditRecords(trail).length;
  expect(fullRecords).toBeGreaterThan(readAuditRecords(join(dir, 'older.jsonl')).length);
  expect(JSON.parse(fullMark)).toMatchObject({ seq: fullRecords });
});

afterAll(async () => {
  for (const account of ['pin-key', 'api-token', 'pin-public-key', 'audit-key', 'audit-mark', 'staff-key', 'staff-generation'] as const) {
    await keychain.delete(account).catch(() => false);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('records lost from the audit trail', () => {
  const olderRecords = (): number => readAuditRecords(join(dir, 'older.jsonl')).length;
  const cases = [
    { name: 'the trail deleted', lose: () => rmSync(trail), range: () => `records 1 to ${fullRecords} are missing`, cause: 'trail-missing' },
    {
      name: 'the trail and its head anchor deleted',
      lose: () => {
        rmSync(trail);
        rmSync(auditHeadPath(trail));
      },
      range: () => `records 1 to ${fullRecords} are missing`,
      cause: 'trail-missing',
    },
    {
      name: 'the trail cut short and an older head anchor put back',
      lose: () => copyTrail(join(dir, 'older.jsonl'), trail),
      range: () => `records ${olderRecords() + 1} to ${fullRecords} are missing`,
      cause: 'trail-shorter',
    },
  ];

  for (const loss of cases) {
    it(`${loss.name}: the station refuses to start naming the range; after reset --acknowledge it starts and records the reset`, async () => {
      for (const name of ['audit.jsonl', 'audit.jsonl.head']) if (existsSync(join(dir, 'audit', name))) rmSync(join(dir, 'audit', name));
      copyTrail(join(dir, 'full.jsonl'), trail);
      await keychain.set('audit-mark', fullMark);
      loss.lose();
      if (loss.cause === 'trail-shorter') expect(verifyAuditFile(trail, Buffer.from((await keychain.get('audit-key')) ?? '', 'hex')).ok).toBe(true);

      const refused = await launch();
      try {
        await expect.poll(() => statusText(refused.operator)).toContain('PIN Station cannot start.');
        const text = (await statusText(refused.operator)) ?? '';
        expect(text).toContain('AUDIT_TRAIL_LOST');
        expect(text).toContain(loss.range());
        expect(text).toContain('npm run audit -- reset --acknowledge');
        expect(await refused.operator.getByRole('button', { name: 'Start' }).isDisabled()).toBe(true);
      } finally {
        await refused.close();
      }

      const out: string[] = [];
      const code = await runAuditCli(['reset', '--acknowledge', '--data-dir', dir], {
        stdout: { write: (t: string) => out.push(t) },
        stderr: { write: (t: string) => out.push(t) },
        openStore: () => keyStore,
        osUser: 'admin.e2e',
      });
      expect(code, out.join('')).toBe(EXIT_CODES.OK);

      const station = await launch();
      try {
        await setPin(station, 'CARD-0003');
      } finally {
        await station.close();
      }
      const records = readAuditRecords(trail);
      expect(records[0]).toMatchObject({ seq: 1, type: 'reset', cause: loss.cause, lostTo: fullRecords, acknowledgedBy: 'admin.e2e' });
      expect(records.some((record) => record.type === undefined && record.cardId === 'CARD-0003' && record.outcome === 'pin-set')).toBe(true);
      const verify: string[] = [];
      const verified = await runAuditCli(['verify', '--data-dir', dir], {
        stdout: { write: (t: string) => verify.push(t) },
        stderr: { write: (t: string) => verify.push(t) },
        openStore: () => keyStore,
      });
      expect(verified, verify.join('')).toBe(EXIT_CODES.OK);
      expect(verify.join('')).toContain(`high-water mark (keychain): record ${records.length}, matches`);
    });
  }
});
