/**
 * The shipper's trail cursor: reads the trail from a line start in chunks, checks each line's MAC and chain link
 * with the trail's key, and queues what is to be sent (a frame) or passed (a practice record, no frame). Only a
 * record that verifies is believed to be practice; a line that does not verify is still queued when it has a seq
 * (the SIEM sees what is there) and is reported through `unverified`. The file is never written here.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Logger } from '../log';
import { isErrno } from '../durable-file';
import { AUDIT_GENESIS, checkLine } from './format';
import type { ShipRefusedReason } from './format';
import { formatSyslogMessage, frameOctetCounted, parseTrailRecordFields } from './syslog';
import type { SyslogOrigin } from './syslog';
import type { Mark } from './ship-watermark';

/**
 * A record read ahead of sending; `frame` is null for a practice record (passed, never sent). For syslog-tls it is
 * the octet-counted frame; for RELP the bare syslog message (its transaction number is given at send time).
 */
export interface Item {
  readonly mark: Mark;
  readonly frame: Buffer | null;
}

/** Why a line was not believed: the codes the log, the status and the `ship-refused` record carry. */
export type UnverifiedReason = ShipRefusedReason;

export interface TrailCursorOptions {
  readonly trailPath: string;
  readonly origin: SyslogOrigin;
  /** RELP sends bare messages; syslog-tls octet-counted frames. */
  readonly relp: boolean;
  /** The trail's key, read per chunk; zeroed after use. Without it no line verifies. */
  readonly auditKey?: () => Promise<Uint8Array>;
  readonly log: Logger;
  /** A line failed its check (seq null: no record could be read from it). */
  readonly unverified: (seq: number | null, reason: UnverifiedReason) => void;
  /** The trail is shorter than what was read (or gone): it was reset. */
  readonly replaced: () => void;
}

const CHUNK_BYTES = 1024 * 1024;
/** Read the next chunk once less than this is waiting in memory. */
export const REFILL_BELOW = 256 * 1024;
/** The last line is looked for in this much of the file's end (records are under 2 KiB). */
const TAIL_BYTES = 64 * 1024;

/** The seq of the last complete line in the first `size` bytes of the file, or null. Reads 4 KiB, 64 KiB if need be. */
async function lastLineSeq(handle: FileHandle, size: number): Promise<number | null> {
  for (const window of [4096, TAIL_BYTES]) {
    const length = Math.min(size, window);
    if (length === 0) return null;
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buf, 0, length, size - length);
    const data = buf.subarray(0, bytesRead);
    const end = data.lastIndexOf(0x0a);
    // (lastIndexOf with a negative start would count from the end, hence the guard.)
    const start = end === -1 ? -1 : end === 0 ? 0 : data.lastIndexOf(0x0a, end - 1) + 1;
    if (end !== -1 && (start > 0 || length === size)) return parseTrailRecordFields(data.subarray(start, end))?.seq ?? null;
    if (length === size) return null;
  }
  return null;
}

export class TrailCursor {
  private queue: Item[] = [];
  private head = 0;
  /** Bytes and records (not practice) waiting in the queue. */
  private queuedBytes = 0;
  private queuedReal = 0;
  /** File offset of the next line to read (always a line start, except while skipping an over-long line). */
  private readPos = 0;
  private skipping = false;
  /** As of the last read, no complete record follows readPos (after a rewind: none known to be waiting). */
  atEof = false;
  /** Bumped on every rewind, so a read begun before it is dropped. */
  private gen = 0;
  /** The highest seq seen in the trail, for `pending`. */
  lastSeenSeq = 0;
  private tailSize = -1;
  /** The mac and seq of the line before readPos, which the next line must chain to. */
  private chainMac = AUDIT_GENESIS;
  private chainSeq = 0;

  constructor(private readonly opts: TrailCursorOptions) {}

  /** Reading resumes just after `mark` (null: at the first record); what was seen is forgotten. */
  resumeAfter(mark: Mark | null): void {
    this.readPos = mark?.next ?? 0;
    this.chainMac = mark?.mac ?? AUDIT_GENESIS;
    this.chainSeq = mark?.seq ?? 0;
    this.lastSeenSeq = mark?.seq ?? 0;
    this.tailSize = -1;
  }

  /** Drops everything queued and reads again after `mark`; `waiting`: records are known to wait there. */
  rewind(mark: Mark | null, waiting: boolean): void {
    this.gen++;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.queuedReal = 0;
    this.skipping = false;
    this.readPos = mark?.next ?? 0;
    this.chainMac = mark?.mac ?? AUDIT_GENESIS;
    this.chainSeq = mark?.seq ?? 0;
    this.atEof = !waiting;
  }

  /** Records (not practice) are queued, or the file may hold more. */
  hasWaiting(): boolean {
    return this.queuedReal > 0 || !this.atEof;
  }

  /** Less than a chunk's worth is queued and the file holds more. */
  wantsRefill(): boolean {
    return this.queuedBytes < REFILL_BELOW && !this.atEof;
  }

  peek(): Item | undefined {
    return this.queue[this.head];
  }

  isEmpty(): boolean {
    return this.head === this.queue.length;
  }

  /** Takes the next item off the queue. */
  take(): Item | undefined {
    const item = this.queue[this.head];
    if (!item) return undefined;
    this.head++;
    if (item.frame) {
      this.queuedBytes -= item.frame.length;
      this.queuedReal--;
    }
    return item;
  }

  compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** Reads one chunk of complete lines from readPos into the queue. True when a chunk was read. */
  async fill(): Promise<boolean> {
    const gen = this.gen;
    let handle: FileHandle;
    try {
      handle = await open(this.opts.trailPath, 'r');
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
      if (gen === this.gen && this.readPos > 0) this.opts.replaced();
      this.atEof = true;
      return false;
    }
    try {
      const size = (await handle.stat()).size;
      if (gen !== this.gen) return false;
      if (size < this.readPos) {
        this.opts.replaced();
        return false;
      }
      if (this.queuedBytes >= REFILL_BELOW) {
        // Enough read ahead (waiting for the connection): only learn how far the trail goes, for `pending`.
        await this.learnLastSeq(handle, size);
        return false;
      }
      if (this.readPos >= size) {
        this.atEof = true;
        return false;
      }
      const length = Math.min(CHUNK_BYTES, size - this.readPos);
      const buf = Buffer.allocUnsafe(length);
      const base = this.readPos;
      const { bytesRead } = await handle.read(buf, 0, length, base);
      if (gen !== this.gen) return false;
      // Read per chunk and zeroed after, as the trail's writer does; a keychain failure is retried like a read failure.
      const key = this.opts.auditKey ? await this.opts.auditKey() : null;
      try {
        if (gen !== this.gen) return false;
        this.consume(buf.subarray(0, bytesRead), base, size, key);
      } finally {
        key?.fill(0);
      }
      // The chunk did not reach the end: the last seq comes from the file's end (read at most once per size).
      if (!this.atEof) await this.learnLastSeq(handle, size);
      return true;
    } finally {
      await handle.close();
    }
  }

  private async learnLastSeq(handle: FileHandle, size: number): Promise<void> {
    if (size === this.tailSize) return;
    const seq = await lastLineSeq(handle, size);
    this.tailSize = size;
    if (seq !== null) this.lastSeenSeq = Math.max(this.lastSeenSeq, seq);
  }

  private consume(chunk: Buffer, base: number, size: number, key: Uint8Array | null): void {
    const reachesEnd = base + chunk.length >= size;
    let pos = 0;
    if (this.skipping) {
      const nl = chunk.indexOf(0x0a);
      if (nl === -1) {
        this.readPos = base + chunk.length;
        this.atEof = reachesEnd;
        return;
      }
      pos = nl + 1;
      this.skipping = false;
    }
    for (;;) {
      const nl = chunk.indexOf(0x0a, pos);
      if (nl === -1) break;
      const line = chunk.subarray(pos, nl);
      const fields = parseTrailRecordFields(line);
      if (fields === null) {
        // A final line that is not JSON is a torn write that seal will replace in place: wait for it.
        if (base + nl + 1 >= size) break;
        this.opts.log.warn('audit.ship.skipped', { code: 'UNREADABLE_LINE' });
        this.opts.unverified(null, 'UNREADABLE_LINE');
        pos = nl + 1;
        continue;
      }
      const verified = this.verifyLine(line, key, fields.seq);
      this.chainMac = fields.mac;
      this.chainSeq = fields.seq;
      const mark: Mark = { seq: fields.seq, mac: fields.mac, offset: base + pos, next: base + nl + 1 };
      // Only a record whose MAC and chain link hold is believed to be practice.
      const practice = verified && fields.processor === 'sandbox';
      const message = practice ? null : formatSyslogMessage(line, fields, this.opts.origin);
      const frame = message === null ? null : this.opts.relp ? message : frameOctetCounted(message);
      this.queue.push({ mark, frame });
      if (frame) {
        this.queuedBytes += frame.length;
        this.queuedReal++;
      }
      this.lastSeenSeq = Math.max(this.lastSeenSeq, fields.seq);
      pos = nl + 1;
    }
    if (pos === 0 && chunk.length === CHUNK_BYTES && !reachesEnd && chunk.indexOf(0x0a) === -1) {
      // A line longer than a chunk is no record the writer makes: pass over it.
      this.opts.log.warn('audit.ship.skipped', { code: 'OVERLONG_LINE' });
      this.opts.unverified(null, 'OVERLONG_LINE');
      this.skipping = true;
      pos = chunk.length;
    }
    this.readPos = base + pos;
    this.atEof = reachesEnd;
  }

  /** The line's MAC and exact form under the trail's key, and its link to the line before. */
  private verifyLine(line: Buffer, key: Uint8Array | null, seq: number): boolean {
    if (key === null) {
      this.opts.unverified(seq, 'NO_KEY');
      return false;
    }
    const check = checkLine(line, key);
    if (!check.ok) {
      this.opts.unverified(seq, 'MAC_MISMATCH');
      return false;
    }
    if (check.record.seq !== this.chainSeq + 1 || check.record.prev !== this.chainMac) {
      this.opts.unverified(seq, 'CHAIN_BROKEN');
      return false;
    }
    return true;
  }
}
