/**
 * Starting a new trail after records were lost, only on an admin's explicit
 * acknowledgement (`npm run audit -- reset --acknowledge`). Nothing is
 * deleted: the old trail and its head anchor are kept beside the new one under
 * `<file>.reset-<time>` (verifiable as before), and record 1 of the new trail
 * is a reset record naming the lost range, the mark it was judged by and who
 * acknowledged it. The station must be closed.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { KeyStore } from '../keystore';
import { AUDIT_GENESIS, AuditError, signRecord } from './format';
import type { AuditResetRecord } from './format';
import { auditHeadPath, auditShippedPath, wrapWrite } from './files';
import { fsyncDir, writeSynced } from '../durable-file';
import { writeHead } from './head';
import { removeCheckpoint } from './scan-files';
import { auditPendingPath } from './pending';
import { readAuditKey } from './keys';
import { readMark, trailFileAgainstMark, writeMark } from './mark';
import type { HighWaterMark, TrailLoss } from './mark';
import type { AuditVerifyResult } from './verify';

export type TrailDiagnosis =
  | { readonly kind: 'intact'; readonly records: number; readonly mark: HighWaterMark | null }
  | { readonly kind: 'torn'; readonly verify: Extract<AuditVerifyResult, { ok: false }> }
  | { readonly kind: 'lost'; readonly loss: TrailLoss; readonly mark: HighWaterMark | null };

/** The trail against its own chain and head (verify) and against the keychain's high-water mark. */
export function diagnoseTrail(path: string, key: Uint8Array, mark: HighWaterMark | null): TrailDiagnosis {
  const { verify, loss } = trailFileAgainstMark(path, key, mark);
  if (!verify.ok && verify.sealable) {
    // A torn last line is an interrupted write, which seal repairs, unless the mark shows records were lost.
    return loss ? { kind: 'lost', loss, mark } : { kind: 'torn', verify };
  }
  if (verify.ok) return loss ? { kind: 'lost', loss, mark } : { kind: 'intact', records: verify.records, mark };
  if (loss && loss.cause !== 'trail-replaced') return { kind: 'lost', loss, mark };
  const from = verify.firstBad.seq ?? verify.records + 1;
  const to = mark && mark.seq >= from ? mark.seq : null;
  return {
    kind: 'lost',
    mark,
    loss: {
      cause: 'trail-damaged',
      lostFrom: from,
      lostTo: to,
      detail: `The trail fails verification at record ${from}; records from there on cannot be trusted.`,
    },
  };
}

/** Reset refused because nothing was lost; the message says what to do instead, and nothing was changed. */
export class AuditNothingToReset extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditNothingToReset';
  }
}

export interface AuditResetResult {
  readonly record: AuditResetRecord;
  readonly loss: TrailLoss;
  /** The old trail's new name, or null when there was no file. */
  readonly keptAs: string | null;
  /** False when the keychain could not take the new mark (the station catches it up at its next start). */
  readonly markWritten: boolean;
}

/**
 * Keeps the old trail aside and writes record 1 of a new one. Refuses (AuditNothingToReset) a trail that lost
 * nothing, and one whose only fault is a torn last line (seal repairs that, losing nothing).
 */
export async function resetAuditTrail(
  path: string,
  keyStore: KeyStore,
  opts: { readonly now?: () => Date; readonly acknowledgedBy: string },
): Promise<AuditResetResult> {
  const now = opts.now ?? (() => new Date());
  const key = await readAuditKey(keyStore);
  try {
    const mark = await readMark(keyStore);
    const diagnosis = diagnoseTrail(path, key, mark);
    if (diagnosis.kind === 'intact') {
      throw new AuditNothingToReset(`Nothing to reset: ${diagnosis.records} record${diagnosis.records === 1 ? '' : 's'} verify and match the high-water mark.`);
    }
    if (diagnosis.kind === 'torn') {
      throw new AuditNothingToReset('Nothing was lost: the trail ends in a torn line from an interrupted write. Run "npm run audit -- seal" instead.');
    }
    const time = now();
    const keptAs = await keepAside(path, time);
    const { record, line } = signRecord<AuditResetRecord>(
      {
        seq: 1,
        time: time.toISOString(),
        type: 'reset',
        cause: diagnosis.loss.cause,
        lostFrom: diagnosis.loss.lostFrom,
        lostTo: diagnosis.loss.lostTo,
        markSeq: mark?.seq ?? null,
        markMac: mark?.mac ?? null,
        keptAs: keptAs === null ? null : basename(keptAs),
        acknowledgedBy: opts.acknowledgedBy,
        prev: AUDIT_GENESIS,
      },
      key,
    );
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeSynced(path, Buffer.from(`${line}\n`, 'utf8'), 'wx');
      await fsyncDir(dirname(path));
      await writeHead(path, record.seq, record.mac, key);
    } catch (error) {
      wrapWrite(error, 'new trail');
    }
    // If this fails, the station still accepts the new trail: its reset record names the mark it acknowledged.
    const markWritten = await writeMark(keyStore, { seq: record.seq, mac: record.mac }).then(
      () => true,
      () => false,
    );
    return { record, loss: diagnosis.loss, keptAs, markWritten };
  } finally {
    key.fill(0);
  }
}

/** Renames the trail, its head, its shipping watermark and a kept outcome to `<file>.reset-<time>[.head|.shipped|.pending]`. */
async function keepAside(path: string, time: Date): Promise<string | null> {
  const stamp = time.toISOString().replace(/[-:]/g, '').replace('.', '-');
  const kept = `${path}.reset-${stamp}`;
  if (existsSync(kept) || existsSync(auditHeadPath(kept))) throw new AuditError('AUDIT_WRITE_FAILED', `${basename(kept)} already exists; try again.`);
  let moved: string | null = null;
  try {
    if (existsSync(path)) {
      await rename(path, kept);
      moved = kept;
    }
    if (existsSync(auditHeadPath(path))) await rename(auditHeadPath(path), auditHeadPath(kept));
    // How far shipping got goes with the old trail: it tells the auditor which of its records reached the SIEM.
    if (existsSync(auditShippedPath(path))) await rename(auditShippedPath(path), auditShippedPath(kept));
    // An outcome still waiting to be recorded belongs to the old trail (its attempt is there): kept with it for the
    // auditor, never silently dropped by the next start.
    if (existsSync(auditPendingPath(path))) await rename(auditPendingPath(path), auditPendingPath(kept));
    // The start-up checkpoint only saves time on the old trail's bytes: it goes (verify never needs it).
    await removeCheckpoint(path);
    await fsyncDir(dirname(path));
  } catch (error) {
    wrapWrite(error, 'keeping the old trail');
  }
  return moved;
}
