/**
 * The start-up check of the whole trail, read once, streamed (flat memory): every record's MAC and exact form and
 * every link (seq, prev), as verify does, named at the first bad one. To keep a long trail fast, a checkpoint beside
 * it (`<file>.verified`, under a MAC of its own with `audit-key`) holds the byte offset, seq and mac the last check
 * reached and the SHA-256 of the file up to there: that prefix is hashed at disk speed instead of checked record by
 * record, and only the records after it are MAC-checked. A prefix that no longer hashes to the checkpoint (an edit,
 * a cut, another trail's checkpoint) is checked again record by record, so a checkpoint can only save time, never
 * pass a record that would fail.
 *
 * What start-up gathers on the way (card history, open attempts: the TrailVisitor) is kept the same way: a snapshot
 * (`<file>.history`, under a MAC of its own with `audit-key`) of the visitor's state at a byte offset, with the
 * SHA-256 of the file up to there. When the prefix up to it hashes right, the visitor is restored from it and only
 * the records after it are parsed, so a long trail is read at disk speed. A snapshot that is missing, does not
 * verify, or does not match the trail is ignored: the records are read one by one, as without it.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { AUDIT_GENESIS, checkLine, isTornFinalLine } from './format';
import type { AuditLine } from './format';
import { isErrno } from '../durable-file';
import type { AuditBadRecord } from './verify';
import { HISTORY_SNAPSHOT_EVERY, readCheckpoint, readHistorySnapshot, writeHistorySnapshot } from './scan-files';
import type { AuditCheckpoint, HistorySnapshot } from './scan-files';

/** Told each record of the trail in order (start-up's card history and open attempts); restart: forget them all. */
export interface TrailVisitor {
  record(record: AuditLine): void;
  restart(): void;
  /** What the visitor has gathered so far, as plain JSON data, to keep in the history snapshot. */
  snapshot?(): unknown;
  /** Takes back a snapshot's state in place of the records it covers; false when it is not one it can use. */
  restore?(state: unknown): boolean;
}

export interface TrailScan {
  /** Records verified (the last one's seq when the chain holds). */
  readonly records: number;
  /** Record 1 and the mac of the requested seq, only from the verified chain. */
  readonly first: AuditLine | null;
  readonly markMac: string | null;
  /** The first record that fails (an edit), or null; a torn final line is not one (seal's business). */
  readonly firstBad: AuditBadRecord | null;
  /** Just past the last verified record, the SHA-256 state of the bytes before it, and that record's seq and mac. */
  readonly end: number;
  readonly hash: Hash;
  readonly lastSeq: number;
  readonly lastMac: string;
  /** Whether the checkpoint held (false: none, or it did not match and the whole trail was checked). */
  readonly usedCheckpoint: boolean;
  /** Whether the visitor was restored from the history snapshot instead of told the records it covers. */
  readonly usedHistorySnapshot: boolean;
  /** Records told to the visitor one by one (the rest came from the snapshot). */
  readonly visited: number;
}

const CHUNK = 4 * 1024 * 1024;

/**
 * Checks the whole trail (see the file's comment). `markSeq`: the seq whose verified mac is wanted.
 * `snapshotEvery`: records told to the visitor one by one that make a new history snapshot worth writing.
 */
export async function scanTrail(
  path: string,
  key: Uint8Array,
  markSeq: number | null,
  visitor?: TrailVisitor,
  { snapshotEvery = HISTORY_SNAPSHOT_EVERY }: { readonly snapshotEvery?: number } = {},
): Promise<TrailScan> {
  const keepHistory = (scan: TrailScan): Promise<TrailScan> => keepHistorySnapshot(path, key, scan, visitor, snapshotEvery);
  const point = await readCheckpoint(path, key);
  if (point) {
    const snapshot = visitor?.restore ? await readHistorySnapshot(path, key) : null;
    // Usable only inside the checkpoint's prefix (records after it need their MACs checked one by one), and only
    // when the mark's record does not lie hidden inside it.
    if (snapshot && snapshot.offset <= point.offset && (markSeq === null || markSeq >= snapshot.seq)) {
      const result = await scanFrom(path, key, markSeq, visitor, point, snapshot);
      if (result !== 'mismatch') return keepHistory(result);
      visitor?.restart();
    }
    const result = await scanFrom(path, key, markSeq, visitor, point, null);
    if (result !== 'mismatch') return keepHistory(result);
    visitor?.restart();
  }
  const result = await scanFrom(path, key, markSeq, visitor, null, null);
  if (result === 'mismatch') throw new Error('unreachable: no checkpoint');
  return keepHistory(result);
}

/** After a scan that held and had to read many records for its visitor, a new snapshot of what it gathered. */
async function keepHistorySnapshot(path: string, key: Uint8Array, scan: TrailScan, visitor: TrailVisitor | undefined, every: number): Promise<TrailScan> {
  if (!visitor?.snapshot || scan.firstBad !== null || scan.lastSeq === 0 || scan.visited < every) return scan;
  const snapshot = { offset: scan.end, seq: scan.lastSeq, mac: scan.lastMac, sha256: scan.hash.copy().digest('hex'), state: visitor.snapshot() };
  // Only time depends on it: a snapshot that cannot be written means a slower next start, not a refusal.
  await writeHistorySnapshot(path, snapshot, key).catch(() => undefined);
  return scan;
}

async function scanFrom(
  path: string,
  key: Uint8Array,
  markSeq: number | null,
  visitor: TrailVisitor | undefined,
  point: AuditCheckpoint | null,
  snapshot: HistorySnapshot | null,
): Promise<TrailScan | 'mismatch'> {
  let handle: FileHandle;
  const hash = createHash('sha256');
  const empty = (): TrailScan => ({
    records: 0,
    first: null,
    markMac: null,
    firstBad: null,
    end: 0,
    hash,
    lastSeq: 0,
    lastMac: AUDIT_GENESIS,
    usedCheckpoint: false,
    usedHistorySnapshot: false,
    visited: 0,
  });
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return point ? 'mismatch' : empty();
    throw error;
  }
  try {
    const size = (await handle.stat()).size;
    if (point && point.offset > size) return 'mismatch';
    const prefixEnd = point?.offset ?? 0;
    let buf = Buffer.allocUnsafe(CHUNK);
    let bufStart = 0; // file offset of buf[0]
    let filled = 0;
    let hashedTo = 0; // file offset the hash has reached
    let lastSeq = 0;
    let lastMac = AUDIT_GENESIS;
    let records = 0;
    let first: AuditLine | null = null;
    let markMac: string | null = null;
    let firstBad: AuditBadRecord | null = null;
    let lineNumber = 0;
    let visited = 0;
    const visit = (record: AuditLine): void => {
      visited++;
      visitor?.record(record);
    };
    // Lines in the prefix are parsed only for what needs them (the visitor, record 1, the mark's record): up to
    // `bulkEnd` they are only hashed, at disk speed; a history snapshot stands in for the visitor there.
    const parsePrefix = visitor !== undefined || (markSeq !== null && point !== null && markSeq < point.seq);
    const bulkEnd = snapshot !== null ? snapshot.offset : parsePrefix ? 0 : prefixEnd;
    const done = (): TrailScan => ({
      records,
      first,
      markMac,
      firstBad,
      end: hashedTo,
      hash,
      lastSeq,
      lastMac,
      usedCheckpoint: point !== null,
      usedHistorySnapshot: snapshot !== null,
      visited,
    });

    for (;;) {
      if (filled === buf.length) {
        // A line longer than the buffer: grow it (a record is never near this; an edited line might be).
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, filled, buf.length - filled, bufStart + filled);
      filled += bytesRead;
      const atEof = bytesRead === 0 || bufStart + filled >= size;
      let pos = 0;
      // The prefix up to bulkEnd: hashed in bulk, one update a chunk.
      if (bufStart + pos < bulkEnd) {
        const upto = Math.min(filled, bulkEnd - bufStart);
        if (bufStart === 0 && pos === 0) {
          // Record 1 all the same (a reset record there may have acknowledged the mark); the hash vouches for it.
          const nl = buf.indexOf(0x0a);
          if (nl !== -1 && nl < upto) {
            try {
              first = JSON.parse(buf.toString('utf8', 0, nl)) as AuditLine;
            } catch {
              return 'mismatch';
            }
          }
        }
        hash.update(buf.subarray(pos, upto));
        hashedTo = bufStart + upto;
        pos = upto;
        if (hashedTo === bulkEnd) {
          const at = snapshot ?? point;
          if (at === null || hash.copy().digest('hex') !== at.sha256) return 'mismatch';
          if (snapshot !== null && visitor?.restore?.(snapshot.state) !== true) return 'mismatch';
          lastSeq = at.seq;
          lastMac = at.mac;
          records = at.seq;
          lineNumber = at.seq;
          if (markSeq === at.seq) markMac = at.mac;
          if (bulkEnd === prefixEnd && (point === null || hash.copy().digest('hex') !== point.sha256 || at.seq !== point.seq || at.mac !== point.mac)) {
            return 'mismatch';
          }
        }
      }
      // The rest of the prefix: parsed for the visitor (and the mark), its hash checked at the checkpoint.
      if (bufStart + pos >= bulkEnd && bufStart + pos < prefixEnd) {
        const upto = Math.min(filled, prefixEnd - bufStart);
        let cut = pos;
        for (;;) {
          const nl = buf.indexOf(0x0a, cut);
          if (nl === -1 || nl >= upto) break;
          let value: AuditLine;
          try {
            value = JSON.parse(buf.toString('utf8', cut, nl)) as AuditLine;
          } catch {
            return 'mismatch';
          }
          lineNumber++;
          if (lineNumber === 1) first = value;
          if (value.seq === markSeq) markMac = value.mac;
          lastSeq = value.seq;
          lastMac = value.mac;
          records = value.seq;
          visit(value);
          cut = nl + 1;
        }
        hash.update(buf.subarray(pos, cut));
        hashedTo = bufStart + cut;
        pos = cut;
        if (hashedTo === prefixEnd) {
          if (hash.copy().digest('hex') !== point?.sha256 || lastSeq !== point.seq || lastMac !== point.mac) return 'mismatch';
        }
      }
      // After the prefix: every record checked.
      if (bufStart + pos >= prefixEnd) {
        for (;;) {
          // Only the bytes read count: past `filled`, allocUnsafe's memory may hold an earlier read's records.
          const nl = buf.indexOf(0x0a, pos);
          const lineEnd = nl === -1 || nl >= filled ? -1 : nl;
          if (lineEnd === -1) {
            if (!atEof) break;
            // The last bytes without a newline: a torn final line (seal's business), or nothing.
            return done();
          }
          const bytes = buf.subarray(pos, lineEnd);
          const isFinal = bufStart + lineEnd + 1 >= size;
          lineNumber++;
          const check = checkLine(bytes, key);
          if (!check.ok) {
            if (isFinal && isTornFinalLine(bytes, true)) return done();
            firstBad = { line: lineNumber, seq: check.seq, reason: check.reason };
            return done();
          }
          const record = check.record;
          const expected = lastSeq + 1;
          if (record.seq !== expected) {
            const reason =
              record.seq > expected
                ? `follows record ${expected - 1}: ${record.seq === expected + 1 ? `record ${expected} is` : `records ${expected} to ${record.seq - 1} are`} missing — deleted or reordered`
                : `is out of order: it comes after record ${expected - 1} — records were reordered or copied`;
            firstBad = { line: lineNumber, seq: record.seq, reason };
            return done();
          }
          if (record.prev !== lastMac) {
            const reason =
              lastSeq > 0
                ? `prev does not match the mac of record ${lastSeq} — the chain is broken (a record was replaced)`
                : 'prev is not the genesis value — earlier records are missing or the record was replaced';
            firstBad = { line: lineNumber, seq: record.seq, reason };
            return done();
          }
          if (record.seq === 1) first = record;
          if (record.seq === markSeq) markMac = record.mac;
          lastSeq = record.seq;
          lastMac = record.mac;
          records = record.seq;
          visit(record);
          hash.update(buf.subarray(pos, lineEnd + 1));
          pos = lineEnd + 1;
          hashedTo = bufStart + pos;
        }
      }
      if (atEof) return done();
      // Keep the unfinished line at the front of the buffer.
      buf.copy(buf, 0, pos, filled);
      bufStart += pos;
      filled -= pos;
    }
  } finally {
    await handle.close();
  }
}
