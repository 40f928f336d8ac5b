/**
 * Start-up checks the whole chain (main/core/audit/scan.ts): an edited record anywhere is refused naming it, and
 * the checkpoint beside the trail only saves time: an edit inside the part it covers, a checkpoint from another
 * trail or a forged one all fall back to a record-by-record check.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditError, AuditLog, auditCheckpointPath, auditHeadPath, scanTrail } from '../../main/core/audit';
import type { AuditEntry, AuditLine } from '../../main/core/audit';
import { MemoryKeyStore } from '../../main/core/keystore';
import { tempTrail, TRAIL_KEY as KEY, TRAIL_KEY_HEX } from '../helpers/audit-trail';

let dir: string;
let file: string;
let store: MemoryKeyStore;

beforeEach(() => {
  ({ dir, file, store } = tempTrail('pin-station-scan-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function card(i: number): AuditEntry {
  return {
    stationId: 'branch-01',
    operator: 'alice',
    cardId: `CARD-${i}`,
    mode: 'customer',
    profile: 'gcm',
    outcome: 'pin-set',
    requestStatus: `REQ-${i}`,
    errorCode: null,
  };
}

async function writeTrail(count: number): Promise<void> {
  const log = new AuditLog(file, store);
  for (let i = 1; i <= count; i++) await log.append(card(i));
  await log.flush();
}

function editLine(n: number, from: string, to: string): void {
  const lines = readFileSync(file, 'utf8').split('\n');
  const edited = (lines[n - 1] as string).replace(from, to);
  expect(edited).not.toBe(lines[n - 1]);
  lines[n - 1] = edited;
  writeFileSync(file, lines.join('\n'));
}

async function refusal(promise: Promise<unknown>): Promise<AuditError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AuditError);
    return error as AuditError;
  }
  throw new Error('expected a refusal');
}

describe('the start-up check of the whole chain', () => {
  it('an unreadable checkpoint (a folder in its place) costs only time: the trail is checked record by record and starts', async () => {
    await writeTrail(4);
    rmSync(auditCheckpointPath(file), { force: true });
    mkdirSync(auditCheckpointPath(file));
    const log = new AuditLog(file, store);
    await expect(log.check()).resolves.toBeDefined();
    await log.append(card(5));
    await log.flush();
    editLine(2, '"CARD-2"', '"CARD-9"');
    expect((await refusal(new AuditLog(file, store).check())).message).toContain('Record 2 (line 2)');
  });

  it('refuses record 2 of 5 edited (JSON still valid), naming it, before and after a checkpoint exists', async () => {
    await writeTrail(5);
    expect(existsSync(auditCheckpointPath(file))).toBe(true);
    editLine(2, '"CARD-2"', '"CARD-9"');
    const error = await refusal(new AuditLog(file, store).check());
    expect(error.code).toBe('AUDIT_CHAIN_BROKEN');
    expect(error.message).toContain('Record 2 (line 2)');
    expect(error.message).toContain('npm run audit -- reset --acknowledge');
    // Also with no checkpoint at all.
    rmSync(auditCheckpointPath(file));
    expect((await refusal(new AuditLog(file, store).check())).message).toContain('Record 2 (line 2)');
  });

  it('refuses a re-spaced record, also when a record is about to be appended', async () => {
    await writeTrail(4);
    editLine(3, '"seq":3,', '"seq":3, ');
    expect((await refusal(new AuditLog(file, store).check())).message).toContain('Record 3 (line 3)');
    await refusal(new AuditLog(file, store).append(card(9)));
  });

  it('tells the visitor every record once, in order, and passes an intact trail (checkpoint used the second time)', async () => {
    await writeTrail(6);
    const seen: number[] = [];
    const visitor = { record: (r: AuditLine) => seen.push(r.seq), restart: () => seen.splice(0) };
    expect(await new AuditLog(file, store).check(visitor)).toBe(6);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    const scan = await scanTrail(file, KEY, null);
    expect(scan).toMatchObject({ firstBad: null, lastSeq: 6, usedCheckpoint: true });
  });

  it('a forged or foreign checkpoint is not believed; an edit in the part a checkpoint covers is still named', async () => {
    await writeTrail(5);
    const point = JSON.parse(readFileSync(auditCheckpointPath(file), 'utf8')) as Record<string, unknown>;
    editLine(4, '"REQ-4"', '"REQ-7"');
    // A forger recomputes the prefix hash but cannot MAC the checkpoint.
    const { createHash } = await import('node:crypto');
    const sha256 = createHash('sha256')
      .update(readFileSync(file).subarray(0, point.offset as number))
      .digest('hex');
    writeFileSync(auditCheckpointPath(file), JSON.stringify({ ...point, sha256 }));
    expect((await refusal(new AuditLog(file, store).check())).message).toContain('Record 4 (line 4)');
    // A genuine checkpoint, of another trail made with the same key.
    const other = join(dir, 'other', 'audit.jsonl');
    const otherLog = new AuditLog(other, new MemoryKeyStore({ 'audit-key': TRAIL_KEY_HEX }));
    for (let i = 1; i <= 5; i++) await otherLog.append(card(100 + i));
    await otherLog.flush();
    copyFileSync(auditCheckpointPath(other), auditCheckpointPath(file));
    expect((await refusal(new AuditLog(file, store).check())).message).toContain('Record 4 (line 4)');
  });

  it('records appended after the check keep the checkpoint current (written at flush)', async () => {
    await writeTrail(3);
    const log = new AuditLog(file, store);
    await log.check();
    for (let i = 4; i <= 7; i++) await log.append(card(i));
    await log.flush();
    expect(JSON.parse(readFileSync(auditCheckpointPath(file), 'utf8'))).toMatchObject({ seq: 7, offset: readFileSync(file).length });
    expect(await scanTrail(file, KEY, null)).toMatchObject({ firstBad: null, lastSeq: 7, usedCheckpoint: true });
  });
});

describe('only the bytes read are checked', () => {
  afterEach(() => vi.restoreAllMocks());

  // Buffer.allocUnsafe hands back memory as an earlier read left it, e.g. with this trail's records from before it
  // was cut. Made deterministic here by handing every such buffer that content.
  function staleMemory(stale: Buffer): void {
    vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => {
      const buf = Buffer.alloc(size);
      stale.copy(buf);
      return buf;
    });
  }

  it('records left in memory past the end of the file are neither counted nor named as edited', async () => {
    await writeTrail(4);
    const [at4, head4, point4, mark4] = [
      readFileSync(file),
      readFileSync(auditHeadPath(file)),
      readFileSync(auditCheckpointPath(file)),
      await store.get('audit-mark'),
    ];
    const log = new AuditLog(file, store);
    await log.append(card(5));
    await log.append(card(6));
    await log.flush();
    const six = readFileSync(file);
    const sixWithRecord5Edited = Buffer.from(six.toString('utf8').replace('"CARD-5"', '"CARD-X"'));
    // Back to the trail of 4 records the station wrote (as after a restore from backup, or before 5 was appended).
    writeFileSync(file, at4);
    writeFileSync(auditHeadPath(file), head4);
    await store.set('audit-mark', mark4 as string);
    for (const stale of [six, sixWithRecord5Edited]) {
      staleMemory(stale);
      writeFileSync(auditCheckpointPath(file), point4);
      const expected = { firstBad: null, lastSeq: 4, end: at4.length };
      expect(await scanTrail(file, KEY, null)).toMatchObject({ ...expected, usedCheckpoint: true });
      // The station starts on it (the check once saw record 5 there: "It changed while it was being checked").
      expect(await new AuditLog(file, store).check()).toBe(4);
      rmSync(auditCheckpointPath(file));
      expect(await scanTrail(file, KEY, null)).toMatchObject({ ...expected, usedCheckpoint: false });
      vi.restoreAllMocks();
    }
  });
});
