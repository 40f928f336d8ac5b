/**
 * The high-water mark: the last record's seq and mac, kept in the keychain
 * entry `audit-mark` next to `audit-key`, outside the trail's folder. The head
 * anchor lives beside the trail, so whoever can delete the trail can delete or
 * restore it too; the mark catches what the anchor cannot: a deleted trail, a
 * trail cut short together with an older head put back, or another trail put
 * in its place. It is written after each record (after the head), so it may lag
 * the trail (a crash or a keychain failure in between) but never lead it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StationError } from '../../../common/errors';
import type { KeyStore } from '../keystore';
import { AuditError, checkLine, isTornFinalLine, macEquals, splitTrailLines, TAIL_WINDOW } from './format';
import type { AuditLine, AuditResetCause } from './format';
import { isErrno } from '../durable-file';
import { verifyAuditFile } from './verify';
import type { AuditBadRecord, AuditVerifyResult } from './verify';

export interface HighWaterMark {
  readonly seq: number;
  readonly mac: string;
}

/** What the mark shows was lost; `detail` is the sentence the station and the CLI print. */
export interface TrailLoss {
  readonly cause: AuditResetCause;
  readonly lostFrom: number | null;
  readonly lostTo: number | null;
  readonly detail: string;
}

const MARK_TEXT = /^\{"seq":([1-9][0-9]{0,15}),"mac":"([0-9a-f]{64})"\}$/;

export async function readMark(store: KeyStore): Promise<HighWaterMark | null> {
  const value = await store.get('audit-mark');
  if (value === null || value.length === 0) return null;
  const match = MARK_TEXT.exec(value.trim());
  const seq = Number(match?.[1]);
  if (!match || !Number.isSafeInteger(seq)) {
    throw new StationError(
      'KEYCHAIN_ENTRY_MALFORMED',
      'Entry "audit-mark" (the audit trail\'s high-water mark) is damaged. Check the trail with "npm run audit -- verify".',
    );
  }
  return { seq, mac: match[2] as string };
}

export async function writeMark(store: KeyStore, mark: HighWaterMark): Promise<void> {
  await store.set('audit-mark', JSON.stringify({ seq: mark.seq, mac: mark.mac }));
}

const RESET_HINT = 'An admin may acknowledge the loss and start a new trail: npm run audit -- reset --acknowledge.';

/**
 * Compares the trail's end with the mark. `lastSeq` is the last complete record (0 for none or no file) and
 * `macAt(seq)` the mac of the record with that seq, if the trail has it. Null when nothing is missing, and when
 * the trail starts with a reset record that acknowledged exactly this mark (a reset whose own mark write did not
 * happen: a crash or a locked keychain just after it). `macAt` and `firstRecord` must give only records whose
 * MAC (and, but for the file's last record, link to the record before) were checked: whoever can write the
 * data directory can write a line that merely claims to be the reset or the mark's record.
 */
export function lossAgainstMark(
  mark: HighWaterMark | null,
  lastSeq: number,
  macAt: (seq: number) => string | null,
  firstRecord: () => AuditLine | null = () => null,
): TrailLoss | null {
  if (mark === null) return null;
  const lost = lossBehindMark(mark, lastSeq, macAt);
  if (lost === null) return null;
  const first = lastSeq > 0 ? firstRecord() : null;
  if (first?.type === 'reset' && first.markSeq === mark.seq && first.markMac !== null && macEquals(first.markMac, mark.mac)) return null;
  return lost;
}

function lossBehindMark(mark: HighWaterMark, lastSeq: number, macAt: (seq: number) => string | null): TrailLoss | null {
  const reached = `this station's high-water mark shows its trail reached record ${mark.seq}`;
  if (lastSeq === 0) {
    return {
      cause: 'trail-missing',
      lostFrom: 1,
      lostTo: mark.seq,
      detail: `The trail file is missing or empty, but ${reached}: ${range(1, mark.seq)} missing. ${RESET_HINT}`,
    };
  }
  if (lastSeq < mark.seq) {
    return {
      cause: 'trail-shorter',
      lostFrom: lastSeq + 1,
      lostTo: mark.seq,
      detail: `The trail ends at record ${lastSeq}, but ${reached}: ${range(lastSeq + 1, mark.seq)} missing (an older copy or head anchor was put back). ${RESET_HINT}`,
    };
  }
  const mac = macAt(mark.seq);
  if (mac === null || !macEquals(mac, mark.mac)) {
    return {
      cause: 'trail-replaced',
      lostFrom: 1,
      lostTo: mark.seq,
      detail: `Record ${mark.seq} is not the one this station wrote (its high-water mark has another mac): the trail was replaced, so ${plainRange(1, mark.seq)} cannot be trusted. ${RESET_HINT}`,
    };
  }
  return null;
}

/** A record that fails its MAC or its link (edited in place): refused like a loss, naming it, with the same way on. */
export function editedError(bad: AuditBadRecord): AuditError {
  const where = bad.seq === null ? `Line ${bad.line}` : `Record ${bad.seq} (line ${bad.line})`;
  return new AuditError('AUDIT_CHAIN_BROKEN', `${where} ${bad.reason}. Records from there on cannot be trusted. ${RESET_HINT}`);
}

export function lossError(loss: TrailLoss): AuditError {
  return new AuditError('AUDIT_TRAIL_LOST', loss.detail);
}

function range(from: number, to: number): string {
  return from === to ? `record ${from} is` : `records ${from} to ${to} are`;
}

function plainRange(from: number, to: number): string {
  return from === to ? `record ${from}` : `records ${from} to ${to}`;
}

/**
 * The trail file against the mark (verify, seal, reset): judged only by records whose MAC and chain verified, and
 * by the file's last complete line with its MAC checked alone (where the trail ends, as the station's tail read
 * sees it). An unsigned or edited line claiming to be a reset, or the mark's record, counts for nothing.
 */
export function trailFileAgainstMark(
  path: string,
  key: Uint8Array,
  mark: HighWaterMark | null,
  verified?: (record: AuditLine) => void,
): { readonly verify: AuditVerifyResult; readonly loss: TrailLoss | null } {
  const { verify, first, markMac } = verifiedForMark(path, key, mark?.seq ?? null, verified);
  const last = verify.ok || verify.sealable ? null : lastCheckedRecord(path, key);
  const lastSeq = Math.max(verify.records, last?.seq ?? 0);
  const macAt = (seq: number): string | null => (seq === last?.seq ? last.mac : mark && seq === mark.seq ? markMac : null);
  return { verify, loss: lossAgainstMark(mark, lastSeq, macAt, () => first) };
}

/** Record 1 and the mac of record `markSeq`, each only if it is in the trail's verified chain; `verified` is told each such record. */
export function verifiedForMark(
  path: string,
  key: Uint8Array,
  markSeq: number | null,
  verified?: (record: AuditLine) => void,
): { readonly verify: AuditVerifyResult; readonly first: AuditLine | null; readonly markMac: string | null } {
  let first = null as AuditLine | null;
  let markMac = null as string | null;
  const verify = verifyAuditFile(path, key, (record) => {
    if (record.seq === 1) first = record;
    if (record.seq === markSeq) markMac = record.mac;
    verified?.(record);
  });
  return { verify, first, markMac };
}

/** The file's last complete line, if its MAC checks (its chain is verify's business). Reads only the end of the file. */
function lastCheckedRecord(path: string, key: Uint8Array): AuditLine | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
  let data: Buffer;
  try {
    const size = fstatSync(fd).size;
    // Enough for the last two lines; a window that starts mid-line drops that partial line, so widen until two fit.
    for (let window = Math.min(size, TAIL_WINDOW); ; window = Math.min(size, window * 2)) {
      const buf = Buffer.alloc(window);
      const read = readSync(fd, buf, 0, window, size - window);
      data = buf.subarray(0, read);
      if (window === size) break;
      const firstNewline = data.indexOf(0x0a);
      if (firstNewline !== -1 && splitTrailLines(data.subarray(firstNewline + 1)).length >= 2) {
        data = data.subarray(firstNewline + 1);
        break;
      }
    }
  } finally {
    closeSync(fd);
  }
  const lines = splitTrailLines(data);
  for (let i = lines.length - 1; i >= 0 && i >= lines.length - 2; i--) {
    const line = lines[i] as (typeof lines)[number];
    const bytes = data.subarray(line.start, line.end);
    if (i === lines.length - 1 && isTornFinalLine(bytes, line.terminated)) continue;
    const check = checkLine(bytes, key);
    return check.ok ? check.record : null;
  }
  return null;
}
