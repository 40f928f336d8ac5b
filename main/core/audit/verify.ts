/** Verifying a whole trail with the key that wrote it; names the first bad record. */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { AUDIT_GENESIS, checkLine, isTornFinalLine, macEquals, splitTrailLines } from './format';
import type { AuditLine } from './format';
import { auditHeadPath } from './files';
import { isErrno } from '../durable-file';
import { readHeadSync } from './head';

export interface AuditBadRecord {
  /** 1-based line number in the file (for missing records: where the first one belonged). */
  readonly line: number;
  /** The record's seq as far as it can be told, or null (unreadable or torn line). */
  readonly seq: number | null;
  /** Written to follow "record <seq> (line <line>): ". Never quotes file content. */
  readonly reason: string;
}

export type AuditVerifyResult =
  | { readonly ok: true; readonly records: number }
  | {
      readonly ok: false;
      /** Records that verified before the first bad one. */
      readonly records: number;
      readonly firstBad: AuditBadRecord;
      /** The file ends in a torn line (incomplete, or not JSON). */
      readonly tornTail: boolean;
      /** True only when the torn tail is the sole problem and looks like an interrupted write: seal it. */
      readonly sealable: boolean;
    };

/**
 * Checks a whole trail file with the key that wrote it: every record's MAC
 * and exact form, consecutive seqs from 1, each prev against the previous
 * mac, and the end of the file against the head anchor (see format.ts for
 * the rule). Names the first bad record. `verified` is told each record whose
 * MAC and link to the previous record checked, in order, up to the first bad one.
 */
export function verifyAuditFile(path: string, key: Uint8Array, verified?: (record: AuditLine) => void): AuditVerifyResult {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
    data = Buffer.alloc(0);
  }
  const lines = splitTrailLines(data);
  const lastLine = lines[lines.length - 1];
  const torn = lastLine !== undefined && isTornFinalLine(data.subarray(lastLine.start, lastLine.end), lastLine.terminated);
  const complete = torn ? lines.length - 1 : lines.length;
  const fail = (records: number, firstBad: AuditBadRecord, sealable = false): AuditVerifyResult => ({ ok: false, records, firstBad, tornTail: torn, sealable });
  const seqAt = (index: number): number | null => {
    const line = lines[index];
    if (!line) return null;
    try {
      const value = JSON.parse(data.subarray(line.start, line.end).toString('utf8')) as { seq?: unknown };
      return typeof value.seq === 'number' ? value.seq : null;
    } catch {
      return null;
    }
  };

  let last: AuditLine | null = null;
  for (let i = 0; i < complete; i++) {
    const line = lines[i] as (typeof lines)[number];
    const number = i + 1;
    const check = checkLine(data.subarray(line.start, line.end), key);
    if (!check.ok) return fail(i, { line: number, seq: check.seq, reason: check.reason });
    const record = check.record;
    const expected = (last?.seq ?? 0) + 1;
    if (record.seq > expected) {
      let foundAt = -1;
      for (let j = i + 1; j < complete && foundAt === -1; j++) if (seqAt(j) === expected) foundAt = j;
      const reason =
        foundAt !== -1
          ? `is out of order: record ${expected} belongs here and is at line ${foundAt + 1} — records were reordered`
          : record.seq === expected + 1
            ? `follows record ${expected - 1}: record ${expected} is missing — it was deleted`
            : `follows record ${expected - 1}: records ${expected} to ${record.seq - 1} are missing — they were deleted`;
      return fail(i, { line: number, seq: record.seq, reason });
    }
    if (record.seq < expected) {
      return fail(i, { line: number, seq: record.seq, reason: `is out of order: it comes after record ${expected - 1} — records were reordered or copied` });
    }
    if (record.prev !== (last?.mac ?? AUDIT_GENESIS)) {
      const reason = last
        ? `prev does not match the mac of record ${last.seq} — the chain is broken (a record was replaced)`
        : 'prev is not the genesis value — earlier records are missing or the record was replaced';
      return fail(i, { line: number, seq: record.seq, reason });
    }
    last = record;
    // Its MAC and its link to the one before hold: only such a record may speak for the trail (the mark's checks).
    verified?.(record);
  }

  // Every complete line is good, so record n sits on line n. Now the end of the file.
  const lastSeq = last?.seq ?? 0;
  const tornLine = complete + 1;
  const head = readHeadSync(path, key);
  const headName = basename(auditHeadPath(path));
  if (head.state === 'bad') {
    return fail(lastSeq, {
      line: Math.max(lastSeq, 1),
      seq: last ? lastSeq : null,
      reason: `cannot be confirmed as the last record: the head anchor ${headName} is unreadable or its mac does not match — it was edited or replaced`,
    });
  }
  if (head.state === 'missing') {
    if (lastSeq > 1) {
      return fail(lastSeq, {
        line: lastSeq,
        seq: lastSeq,
        reason: `cannot be confirmed as the last record: the head anchor ${headName} is missing — it was deleted, perhaps with records after this one`,
      });
    }
  } else if (head.seq > lastSeq) {
    const first = lastSeq + 1;
    if (torn) {
      return fail(lastSeq, {
        line: tornLine,
        seq: first,
        reason: `is damaged: the head anchor shows records up to ${head.seq} were completely written, so this is not an interrupted write — the file was truncated or edited`,
      });
    }
    const missing = first === head.seq ? `record ${first} is missing` : `records ${first} to ${head.seq} are missing`;
    return fail(lastSeq, {
      line: tornLine,
      seq: first,
      reason: `${missing}: the head anchor shows the trail reached record ${head.seq} — the file was truncated`,
    });
  } else if (head.seq === lastSeq) {
    if (!last || !macEquals(head.mac, last.mac)) {
      return fail(lastSeq, { line: lastSeq, seq: lastSeq, reason: 'does not match the head anchor — the record or the anchor was replaced' });
    }
  } else if (head.seq === lastSeq - 1) {
    if (!last || !macEquals(head.mac, last.prev)) {
      return fail(lastSeq, { line: head.seq, seq: head.seq, reason: 'does not match the head anchor — the record or the anchor was replaced' });
    }
  } else {
    const first = head.seq + 2;
    return fail(first - 1, {
      line: first,
      seq: first,
      reason: `is not covered by the head anchor, which names record ${head.seq} (more than one record back) — the anchor was replaced by an older copy`,
    });
  }

  if (torn) {
    const line = lines[complete] as (typeof lines)[number];
    const bytes = data.length - line.start;
    return fail(
      lastSeq,
      {
        line: tornLine,
        seq: null,
        reason: `is a torn final line (${bytes} byte${bytes === 1 ? '' : 's'}, ${line.terminated ? 'not JSON' : 'no newline'}) — an interrupted write; run "npm run audit -- seal"`,
      },
      true,
    );
  }
  return { ok: true, records: lastSeq };
}
