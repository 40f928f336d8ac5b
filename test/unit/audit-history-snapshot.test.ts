/**
 * Start-up's card history and open attempts are kept in a snapshot beside the trail's checkpoint
 * (main/core/audit/scan.ts): with it, only the records after it are told to the visitor; a snapshot that is
 * missing, edited or unusable falls back to reading every record, and the history is the same either way.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CardHistory } from '../../main/core/card-history';
import { AuditLog, auditHistoryPath, OpenAttemptTracker, scanTrail } from '../../main/core/audit';
import type { AuditInput, AuditOutcome, TrailVisitor } from '../../main/core/audit';
import type { MemoryKeyStore } from '../../main/core/keystore';
import { tempTrail, TRAIL_KEY as KEY } from '../helpers/audit-trail';

let dir: string;
let file: string;
let store: MemoryKeyStore;

beforeEach(() => {
  ({ dir, file, store } = tempTrail('pin-station-history-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The visitor start-up uses (main/core/boot.ts), counting the records it is told one by one. */
function startupVisitor(): Required<TrailVisitor> & { history: CardHistory; open: OpenAttemptTracker; told: number } {
  const history = new CardHistory();
  const open = new OpenAttemptTracker();
  const visitor = {
    history,
    open,
    told: 0,
    record: (record: Parameters<TrailVisitor['record']>[0]) => {
      visitor.told++;
      history.noteRecord(record);
      open.note(record);
    },
    restart: () => {
      history.clear();
      open.clear();
    },
    snapshot: () => ({ history: history.snapshot(), openAttempts: open.snapshot() }),
    restore: (state: unknown) => {
      const kept = state as { history?: unknown; openAttempts?: unknown } | null;
      return typeof kept === 'object' && kept !== null && history.restore(kept.history) && open.restore(kept.openAttempts);
    },
  };
  return visitor;
}

const attemptIdOf = (i: number): string => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const OUTCOMES: readonly AuditOutcome[] = ['pin-set', 'rejected', 'outcome-unknown', 'pin-generated', 'cancelled'];

/** Cards with attempts and outcomes, cards seen again, and one attempt left open. */
async function append(from: number, to: number, openAt: number | null = null): Promise<void> {
  const log = new AuditLog(file, store);
  for (let i = from; i <= to; i++) {
    const cardId = `CARD-${i % 7}`;
    const attemptId = attemptIdOf(i);
    const common = { stationId: 'branch-01', operator: 'alice', cardId, mode: 'customer', profile: 'gcm' } as const;
    await log.append({ type: 'attempt', attemptId, ...common } as AuditInput);
    if (i === openAt) continue;
    const outcome = OUTCOMES[i % OUTCOMES.length] as AuditOutcome;
    await log.append({ ...common, outcome, requestStatus: null, errorCode: null, attemptId } as AuditInput);
  }
  await log.flush();
}

/** The history and open attempts a scan of the trail with no checkpoint and no snapshot gathers. */
async function fullScanOf(): Promise<unknown> {
  const copy = join(dir, 'fresh', 'audit.jsonl');
  mkdirSync(join(dir, 'fresh'), { recursive: true });
  copyFileSync(file, copy);
  const visitor = startupVisitor();
  const scan = await scanTrail(copy, KEY, null, visitor, { snapshotEvery: Number.MAX_SAFE_INTEGER });
  expect(scan).toMatchObject({ usedCheckpoint: false, usedHistorySnapshot: false, firstBad: null });
  expect(visitor.told).toBe(scan.lastSeq);
  return visitor.snapshot();
}

describe('the card history snapshot kept with the checkpoint', () => {
  it('is used at the next start: only the records after it are read, and the history is a full scan’s', async () => {
    await append(1, 12, 5);
    const first = startupVisitor();
    const before = await scanTrail(file, KEY, null, first, { snapshotEvery: 1 });
    expect(first.told).toBe(before.lastSeq);
    expect(readFileSync(auditHistoryPath(file), 'utf8')).toContain('"historyMac"');
    await append(13, 15);

    const next = startupVisitor();
    const scan = await scanTrail(file, KEY, null, next, { snapshotEvery: Number.MAX_SAFE_INTEGER });
    expect(scan).toMatchObject({ usedCheckpoint: true, usedHistorySnapshot: true, firstBad: null, lastSeq: before.lastSeq + 6 });
    expect(next.told).toBe(6);
    expect(scan.visited).toBe(6);
    expect(next.snapshot()).toEqual(await fullScanOf());
    // The open attempt from before the snapshot is still known, so start-up can close it.
    expect(next.open.list().map((attempt) => attempt.attemptId)).toEqual([attemptIdOf(5)]);
    expect(next.history.last('CARD-1')).toEqual((await fullHistory()).last('CARD-1'));
  });

  it('an edited snapshot (its MAC no longer matches) is ignored: every record is read, same history', async () => {
    await append(1, 10, 3);
    await scanTrail(file, KEY, null, startupVisitor(), { snapshotEvery: 1 });
    await append(11, 12);
    const text = readFileSync(auditHistoryPath(file), 'utf8');
    const edited = text.replace('"pin-generated"', '"pin-set"');
    expect(edited).not.toBe(text);
    writeFileSync(auditHistoryPath(file), edited);
    const visitor = startupVisitor();
    const scan = await scanTrail(file, KEY, null, visitor, { snapshotEvery: Number.MAX_SAFE_INTEGER });
    expect(scan).toMatchObject({ usedCheckpoint: true, usedHistorySnapshot: false, firstBad: null });
    expect(visitor.told).toBe(scan.lastSeq);
    expect(visitor.snapshot()).toEqual(await fullScanOf());
  });

  it('a missing, unreadable or foreign snapshot, or one the visitor cannot take, is not trusted either', async () => {
    await append(1, 8);
    await scanTrail(file, KEY, null, startupVisitor(), { snapshotEvery: 1 });
    const genuine = readFileSync(auditHistoryPath(file), 'utf8');
    const full = await fullScanOf();
    const cases: [string, () => void][] = [
      ['missing', () => rmSync(auditHistoryPath(file))],
      ['not JSON', () => writeFileSync(auditHistoryPath(file), '{"offset":')],
      ['another key', () => writeFileSync(auditHistoryPath(file), genuine.replace(/"historyMac":"[0-9a-f]{64}"/, `"historyMac":"${'0'.repeat(64)}"`))],
    ];
    for (const [name, spoil] of cases) {
      spoil();
      const visitor = startupVisitor();
      const scan = await scanTrail(file, KEY, null, visitor, { snapshotEvery: Number.MAX_SAFE_INTEGER });
      expect({ name, used: scan.usedHistorySnapshot, told: visitor.told }).toEqual({ name, used: false, told: scan.lastSeq });
      expect(visitor.snapshot()).toEqual(full);
    }
    // A genuine snapshot whose state the visitor refuses (a newer format, say): read record by record.
    writeFileSync(auditHistoryPath(file), genuine);
    const refusing = startupVisitor();
    refusing.restore = () => false;
    const scan = await scanTrail(file, KEY, null, refusing, { snapshotEvery: Number.MAX_SAFE_INTEGER });
    expect(scan.usedHistorySnapshot).toBe(false);
    expect(refusing.told).toBe(scan.lastSeq);
    expect(refusing.snapshot()).toEqual(full);
  });
});

async function fullHistory(): Promise<CardHistory> {
  const visitor = startupVisitor();
  await scanTrail(file, KEY, null, { record: visitor.record, restart: visitor.restart });
  return visitor.history;
}
