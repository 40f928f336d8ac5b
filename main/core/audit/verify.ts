/** Verifying a whole trail with the key that wrote it; names the first bad record. */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { AUDIT_GENESIS, checkLine, isTornFinalLine, macEquals } from './format';
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

/** One line of a trail file as read in chunks: `bytes` is valid only until the next line is asked for. */
export interface StreamedLine {
  readonly bytes: Buffer;
  /** Byte offset of the line's first byte. */
  readonly start: number;
  readonly terminated: boolean;
  /** The file's last line (as far as `size`). */
  readonly last: boolean;
}

const CHUNK = 4 * 1024 * 1024;

/**
 * The lines of the first `size` bytes of an open file, read in 4 MiB chunks (flat memory, however long the
 * trail): splitTrailLines' rule, one line at a time.
 */
export function* streamTrailLines(fd: number, size: number): Generator<StreamedLine> {
  let buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
  let bufStart = 0; // file offset of buf[0]
  let filled = 0;
  for (;;) {
    if (filled === buf.length) {
      // A line longer than the buffer (never a record; an edited line might be): grow it.
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, filled);
      buf = bigger;
    }
    const want = Math.min(buf.length - filled, size - bufStart - filled);
    const read = want > 0 ? readSync(fd, buf, filled, want, bufStart + filled) : 0;
    filled += read;
    const atEnd = read === 0 || bufStart + filled >= size;
    let pos = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, pos);
      // Only the bytes read count: past `filled`, allocUnsafe's memory may hold an earlier chunk.
      if (nl === -1 || nl >= filled) break;
      yield { bytes: buf.subarray(pos, nl), start: bufStart + pos, terminated: true, last: atEnd && nl + 1 >= filled };
      pos = nl + 1;
    }
    if (atEnd) {
      if (pos < filled) yield { bytes: buf.subarray(pos, filled), start: bufStart + pos, terminated: false, last: true };
      return;
    }
    buf.copy(buf, 0, pos, filled);
    bufStart += pos;
    filled -= pos;
  }
}

/**
 * Checks a whole trail file with the key that wrote it: every record's MAC
 * and exact form, consecutive seqs from 1, each prev against the previous
 * mac, and the end of the file against the head anchor (see format.ts for
 * the rule). Names the first bad record. `verified` is told each record whose
 * MAC and link to the previous record checked, in order, up to the first bad one.
 * The file is read once, streamed (flat memory); only after a failure is the rest read, to tell how the file ends.
 */
export function verifyAuditFile(path: string, key: Uint8Array, verified?: (record: AuditLine) => void): AuditVerifyResult {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
    return verifyLines(path, key, [][Symbol.iterator](), verified);
  }
  try {
    return verifyLines(path, key, streamTrailLines(fd, fstatSync(fd).size), verified);
  } finally {
    closeSync(fd);
  }
}

function verifyLines(path: string, key: Uint8Array, lines: Iterator<StreamedLine>, verified?: (record: AuditLine) => void): AuditVerifyResult {
  let torn = false;
  let tornInfo: { readonly bytes: number; readonly terminated: boolean } | null = null;
  let complete = 0;
  let firstBad: { readonly records: number; readonly bad: AuditBadRecord } | null = null;
  // A record ahead of its place: where the missing one is, if it is further on (then they were reordered).
  let lookingFor: { readonly seq: number; readonly atLine: number; readonly recordSeq: number } | null = null;
  let foundAtLine = -1;
  let last: AuditLine | null = null;
  for (let next = lines.next(); !next.done; next = lines.next()) {
    const line = next.value;
    if (line.last && isTornFinalLine(line.bytes, line.terminated)) {
      torn = true;
      tornInfo = { bytes: line.bytes.length + (line.terminated ? 1 : 0), terminated: line.terminated };
      break;
    }
    complete++;
    if (firstBad !== null) {
      if (lookingFor !== null && foundAtLine === -1 && seqOf(line.bytes) === lookingFor.seq) foundAtLine = complete;
      continue;
    }
    const i = complete - 1;
    const number = complete;
    const check = checkLine(line.bytes, key);
    if (!check.ok) {
      firstBad = { records: i, bad: { line: number, seq: check.seq, reason: check.reason } };
      continue;
    }
    const record = check.record;
    const expected = (last?.seq ?? 0) + 1;
    if (record.seq > expected) {
      lookingFor = { seq: expected, atLine: number, recordSeq: record.seq };
      firstBad = { records: i, bad: { line: number, seq: record.seq, reason: '' } };
      continue;
    }
    if (record.seq < expected) {
      firstBad = {
        records: i,
        bad: { line: number, seq: record.seq, reason: `is out of order: it comes after record ${expected - 1} — records were reordered or copied` },
      };
      continue;
    }
    if (record.prev !== (last?.mac ?? AUDIT_GENESIS)) {
      const reason = last
        ? `prev does not match the mac of record ${last.seq} — the chain is broken (a record was replaced)`
        : 'prev is not the genesis value — earlier records are missing or the record was replaced';
      firstBad = { records: i, bad: { line: number, seq: record.seq, reason } };
      continue;
    }
    last = record;
    // Its MAC and its link to the one before hold: only such a record may speak for the trail (the mark's checks).
    verified?.(record);
  }
  const fail = (records: number, bad: AuditBadRecord, sealable = false): AuditVerifyResult => ({ ok: false, records, firstBad: bad, tornTail: torn, sealable });
  if (firstBad !== null) {
    if (lookingFor === null) return fail(firstBad.records, firstBad.bad);
    const { seq: expected, recordSeq } = lookingFor;
    const reason =
      foundAtLine !== -1
        ? `is out of order: record ${expected} belongs here and is at line ${foundAtLine} — records were reordered`
        : recordSeq === expected + 1
          ? `follows record ${expected - 1}: record ${expected} is missing — it was deleted`
          : `follows record ${expected - 1}: records ${expected} to ${recordSeq - 1} are missing — they were deleted`;
    return fail(firstBad.records, { ...firstBad.bad, reason });
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

  if (tornInfo !== null) {
    const { bytes } = tornInfo;
    return fail(
      lastSeq,
      {
        line: tornLine,
        seq: null,
        reason: `is a torn final line (${bytes} byte${bytes === 1 ? '' : 's'}, ${tornInfo.terminated ? 'not JSON' : 'no newline'}) — an interrupted write; run "npm run audit -- seal"`,
      },
      true,
    );
  }
  return { ok: true, records: lastSeq };
}

/** A line's seq as far as it can be told (to say where a missing record went). */
function seqOf(bytes: Buffer): number | null {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as { seq?: unknown };
    return typeof value.seq === 'number' ? value.seq : null;
  } catch {
    return null;
  }
}
