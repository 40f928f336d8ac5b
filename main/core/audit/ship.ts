/**
 * Ships every audit record to the bank's SIEM: RFC 5424 messages (./syslog.ts)
 * over TLS, one connection, in trail order, by one of two transports:
 * `relp` (./relp.ts: each record is a transaction the collector answers) or
 * `syslog-tls` (RFC 5425 octet-counting framing, no answers). The trail file is the queue; `<trail>.shipped` is the
 * watermark, the last record known to have reached the collector:
 * `{"seq":N,"mac":"…","offset":BYTES}`, offset being where that record's line
 * starts. At start the record must still be there (same seq and mac at that
 * offset); if not (the trail was reset, the file is garbage), shipping starts
 * again at the first record.
 *
 * RELP: a record is committed when the collector's `rsp 200` for its
 * transaction has come; what is unanswered when a connection breaks is sent
 * again on the next one. When the oldest unanswered transaction waits
 * longer than `ackTimeoutMs` (a collector that is up but not taking
 * records), the connection is given up like a broken one, so shipping shows
 * as delayed and the records are sent again once the collector is back.
 *
 * TLS syslog has no acknowledgement, and a collector killed mid-stream loses
 * what it had read but not yet written. So a record is committed to the
 * watermark only once the connection it was written on is still up
 * `settleMs` after the write; when a connection breaks, everything after the
 * watermark is sent again on the next one. Delivery is at least once: the
 * only duplicates are records sent in the last `settleMs` before a break, and
 * the collector recognises them by station + seq. The default settle time is
 * longer than TCP takes to give up on a peer that vanished without closing
 * (a partition, a collector host losing power: Linux retransmits for about
 * 15 minutes before the socket errors), so records sitting unacknowledged in
 * the kernel's send buffer are never committed before that error can come.
 *
 * Each line's MAC and chain link are checked with the trail's key before it
 * is believed: practice records (`"processor":"sandbox"`) that verify are
 * never shipped (the watermark moves past them); a line that does not verify
 * is shipped all the same when it has a seq (the SIEM sees what is there),
 * and is reported in status().unverified, which the operator window shows. Nothing here blocks or throws at the caller: kick()
 * returns at once, file and socket work is async, and every failure becomes
 * a short code in status().lastError and the log (never record content).
 */
import { open, readFile, rename } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { silentLogger } from '../log';
import { CERT_DATE_CODES, UNTRUSTED_CHAIN_CODES } from '../tls-codes';
import type { Logger } from '../log';
import { auditShippedPath, fsyncDir, isErrno, writeAll } from './files';

export { auditShippedPath };
import { AUDIT_GENESIS, checkLine } from './format';
import { RELP_OPEN_OFFERS, RelpFrameReader, RelpProtocolError, nextTxnr, parseRelpResponse, relpFrame, relpOpenAccepted } from './relp';
import { formatSyslogMessage, frameOctetCounted, parseTrailRecordFields } from './syslog';
import type { SyslogOrigin } from './syslog';

export interface AuditShipStatus {
  readonly connected: boolean;
  /** The seq of the committed watermark (0 when nothing is committed yet). */
  readonly shippedSeq: number;
  /** Records in the trail after the committed watermark (by seq; practice records count until they are passed). */
  readonly pending: number;
  /** Since when records have been waiting because of a failure; null when shipping is up to date or merely in progress. */
  readonly delayedSince: Date | null;
  /** delayedSince is at least noticeAfterMs ago: the operator should be told. */
  readonly noticeDue: boolean;
  /** The last failure as a short code (TLS_UNTRUSTED, TLS_FINGERPRINT, CONNECT_FAILED, CONNECTION_LOST, ACK_TIMEOUT, …); null once connected. */
  readonly lastError: string | null;
  /** The first trail line the shipper could not verify (MAC, form or chain) and when it found it; null when every line verified. */
  readonly unverified: { readonly seq: number | null; readonly since: Date } | null;
}

export const SHIP_PROTOCOLS = ['relp', 'syslog-tls'] as const;
export type ShipProtocol = (typeof SHIP_PROTOCOLS)[number];

export interface AuditShipperOptions {
  /** The trail file; the watermark lives at `${trailPath}.shipped`. */
  readonly trailPath: string;
  readonly stationId: string;
  readonly host: string;
  readonly port: number;
  /** PEM text of the collector's CA. Only this CA is trusted (Node's roots are not added). */
  readonly ca: string;
  /** When set, the peer certificate's SHA-256 fingerprint (hex, colons optional) must match too. */
  readonly fingerprintSha256?: string;
  readonly noticeAfterMs: number;
  /** Default `syslog-tls`. */
  readonly protocol?: ShipProtocol;
  /** The station's certificate and private key (PEM), presented to the collector (mutual TLS). RELP collectors require it. */
  readonly clientCert?: { readonly cert: string; readonly key: string };
  /** RELP: how long the oldest unanswered transaction may wait before the connection is given up. Default 30 s. */
  readonly ackTimeoutMs?: number;
  /** The trail's key (`audit-key`), read per use; the caller's buffer is zeroed after use. Without it no line verifies. */
  readonly auditKey?: () => Promise<Uint8Array>;
  /** Defaults to os.hostname(). */
  readonly hostname?: string;
  readonly now?: () => Date;
  /** Reconnect delay bounds; exponential with jitter. Default 1 s .. 60 s. */
  readonly retry?: { readonly minMs: number; readonly maxMs: number };
  /** How long a connection must stay up after a write before that write is committed. Default 16 minutes. */
  readonly settleMs?: number;
  /** TCP connect plus TLS handshake. Default 10 s. */
  readonly connectTimeoutMs?: number;
  readonly log?: Logger;
  /** Called whenever connected, delayedSince or noticeDue change. */
  readonly onStatus?: (status: AuditShipStatus) => void;
}

/** A record's place in the trail: the watermark's content. `offset` is where its line starts; `next` is just past its newline. */
interface Mark {
  readonly seq: number;
  readonly mac: string;
  readonly offset: number;
  readonly next: number;
}

/**
 * A record read ahead of sending; `frame` is null for a practice record (passed, never sent). For syslog-tls it is
 * the octet-counted frame; for RELP the bare syslog message (its transaction number is given at send time).
 */
interface Item {
  readonly mark: Mark;
  readonly frame: Buffer | null;
}

/** Records handed to one connection and not yet committed; `mark` is the last of them. */
interface Batch {
  readonly mark: Mark;
  readonly conn: number;
  /** performance.now() when the socket took the bytes; null until then. */
  writtenAt: number | null;
  /** No bytes of its own (practice records only): commits together with the batch before it. */
  readonly follows: boolean;
  /** RELP: the batch's transactions, and how many of them the collector has answered. */
  readonly txnrs: readonly number[];
  acked: number;
}

/** Longer than Linux's default TCP retransmission give-up (tcp_retries2 = 15: about 15.4 minutes). */
const DEFAULT_SETTLE_MS = 16 * 60_000;
const DEFAULT_ACK_TIMEOUT_MS = 30_000;
/** RELP: at most this many transactions unanswered at a time (librelp's default window is 128). */
const RELP_WINDOW = 1024;
/** A connection that lasted this long counts as having worked: the next reconnect starts from the shortest delay. */
const BACKOFF_RESET_MS = 5_000;
const CHUNK_BYTES = 1024 * 1024;
/** Read the next chunk once less than this is waiting in memory. */
const REFILL_BELOW = 256 * 1024;
/** Bytes per socket write. */
const BATCH_BYTES = 64 * 1024;
const POLL_MS = 2000;
const KEEPALIVE_MS = 30_000;
/** A connection that takes no bytes at all for this long (while we wait to write) is given up and reopened. */
const STALL_MS = 60_000;
const CLOSE_WAIT_MS = 1000;
const WATERMARK_EVERY_MS = 1000;
/** The last line is looked for in this much of the file's end (records are under 2 KiB). */
const TAIL_BYTES = 64 * 1024;

const FINGERPRINT_MISMATCH = 'PIN_STATION_FINGERPRINT_MISMATCH';
const RELP_OPEN_PENDING = 'open';

/** The failure as a short code; never the error's message (it may name the peer's certificate). */
export function shipFailureCode(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? String((error as NodeJS.ErrnoException).code ?? '') : '';
  if (code === FINGERPRINT_MISMATCH) return 'TLS_FINGERPRINT';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'TLS_NAME_MISMATCH';
  if (CERT_DATE_CODES.has(code)) return 'TLS_EXPIRED';
  if (UNTRUSTED_CHAIN_CODES.has(code)) return 'TLS_UNTRUSTED';
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'TLS_HANDSHAKE';
  if (code === 'ETIMEDOUT') return 'CONNECT_TIMEOUT';
  return 'CONNECT_FAILED';
}

function normaliseFingerprint(value: string): string {
  return value.replace(/:/g, '').toLowerCase();
}

function errnoCode(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as NodeJS.ErrnoException).code : undefined;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : 'UNKNOWN';
}

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

export class AuditShipper {
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly origin: SyslogOrigin;
  private readonly shippedPath: string;
  private readonly settleMs: number;
  private readonly retryMin: number;
  private readonly retryMax: number;
  private readonly connectTimeoutMs: number;
  private readonly fingerprint: string | null;
  private readonly protocol: ShipProtocol;
  private readonly ackTimeoutMs: number;

  private started = false;
  private closed = false;
  private loaded = false;
  private loading: Promise<void> = Promise.resolve();
  private closing: Promise<void> | null = null;

  // Connection.
  private socket: TLSSocket | null = null;
  /** Bumped per connection attempt (and on close), so events of an old socket are ignored. */
  private connId = 0;
  private connected = false;
  private connectedAt = 0;
  /** A failure happened and no connection has worked since. */
  private down = false;
  private attempt = 0;
  private awaitingDrain = false;
  private lastError: string | null = null;

  // RELP session of the current connection.
  private relpReader: RelpFrameReader | null = null;
  private lastTxnr = 0;
  /** Sent and not yet answered, by transaction number (the `open` one is RELP_OPEN_PENDING). */
  private unanswered = new Map<number, Batch | typeof RELP_OPEN_PENDING>();
  private ackTimer: NodeJS.Timeout | null = null;

  // The queue: what was committed, what was handed to the socket, what was read ahead.
  private committed: Mark | null = null;
  private inflight: Batch[] = [];
  private lookahead: Item[] = [];
  private lookaheadHead = 0;
  private lookaheadBytes = 0;
  private lookaheadReal = 0;
  /** File offset of the next line to read (always a line start, except while skipping an over-long line). */
  private readPos = 0;
  private skipping = false;
  /** As of the last read, no complete record follows readPos (after a rewind: none known to be waiting). */
  private atEof = false;
  /** Bumped on every rewind, so a read or send begun before it is dropped. */
  private gen = 0;
  private lastSeenSeq = 0;
  private tailSize = -1;
  /** The mac and seq of the line before readPos, which the next line must chain to. */
  private chainMac = AUDIT_GENESIS;
  private chainSeq = 0;
  private unverified: { seq: number | null; since: Date } | null = null;

  // Work scheduling.
  private pumping = false;
  private again = false;
  private readError: string | null = null;
  private watermarkDirty = false;
  private watermarkSaving: Promise<void> | null = null;
  private watermarkTimer: NodeJS.Timeout | null = null;
  private watermarkWrittenAt = -Infinity;

  // Status.
  private delayedSince: Date | null = null;
  private noticeDue = false;
  private reported: { connected: boolean; delayed: number | null; noticeDue: boolean; unverified: boolean } = {
    connected: false,
    delayed: null,
    noticeDue: false,
    unverified: false,
  };

  private pollTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private settleTimer: NodeJS.Timeout | null = null;
  private noticeTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: AuditShipperOptions) {
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? (() => new Date());
    this.origin = { stationId: opts.stationId, hostname: opts.hostname ?? osHostname() };
    this.shippedPath = auditShippedPath(opts.trailPath);
    this.settleMs = Math.max(0, opts.settleMs ?? DEFAULT_SETTLE_MS);
    this.retryMin = Math.max(1, opts.retry?.minMs ?? 1000);
    this.retryMax = Math.max(this.retryMin, opts.retry?.maxMs ?? 60_000);
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.fingerprint = opts.fingerprintSha256 ? normaliseFingerprint(opts.fingerprintSha256) : null;
    this.protocol = opts.protocol ?? 'syslog-tls';
    this.ackTimeoutMs = Math.max(1, opts.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS);
  }

  /** Reads the watermark, connects and starts looking for records. Returns at once. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.loading = this.loadWatermark()
      .catch((error: unknown) => {
        // loadWatermark handles every file problem itself; this is only a last guard.
        this.log.warn('audit.ship.restart', { code: errnoCode(error) });
        this.committed = null;
        this.readPos = 0;
      })
      .then(() => {
        this.loaded = true;
        if (this.closed) return;
        this.connect();
        this.kick();
      });
    this.pollTimer = setInterval(() => this.kick(), POLL_MS);
    this.pollTimer.unref();
  }

  /** A record was appended: look for new lines. Returns at once. */
  kick(): void {
    if (!this.loaded || this.closed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    void this.pump();
  }

  status(): AuditShipStatus {
    const shippedSeq = this.committed?.seq ?? 0;
    return {
      connected: this.connected,
      shippedSeq,
      pending: Math.max(0, this.lastSeenSeq - shippedSeq),
      delayedSince: this.delayedSince,
      noticeDue: this.noticeDue,
      lastError: this.lastError,
      unverified: this.unverified,
    };
  }

  /** Ends the connection, stops the timers and writes the committed watermark. Records not yet committed are sent again next time. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    for (const timer of [this.pollTimer, this.retryTimer, this.settleTimer, this.noticeTimer, this.watermarkTimer, this.ackTimer])
      if (timer) clearTimeout(timer);
    this.pollTimer = this.retryTimer = this.settleTimer = this.noticeTimer = this.watermarkTimer = this.ackTimer = null;
    const socket = this.socket;
    const relpOpen = this.protocol === 'relp' && this.connected;
    this.socket = null;
    this.connected = false;
    this.connId++;
    this.inflight = [];
    this.unanswered.clear();
    this.closing = (async () => {
      // RELP's orderly end; answers still on their way are not waited for (those records are sent again next time).
      if (socket && relpOpen && !socket.destroyed) socket.write(relpFrame(nextTxnr(this.lastTxnr), 'close'));
      if (socket) await endSocket(socket);
      await this.loading;
      while (this.watermarkSaving) await this.watermarkSaving;
      if (this.committed) this.saveWatermark();
      while (this.watermarkSaving) await this.watermarkSaving;
    })();
    return this.closing;
  }

  // ---- The watermark ----

  private async loadWatermark(): Promise<void> {
    let text: Buffer;
    try {
      text = await readFile(this.shippedPath);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return; // never shipped: start at the first record
      this.restartFromBeginning('WATERMARK_UNREADABLE');
      return;
    }
    let mark: Mark | null = null;
    try {
      const value = JSON.parse(text.toString('utf8')) as unknown;
      const { seq, mac, offset } = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
      if (Number.isSafeInteger(seq) && (seq as number) >= 1 && typeof mac === 'string' && Number.isSafeInteger(offset) && (offset as number) >= 0) {
        mark = { seq: seq as number, mac, offset: offset as number, next: -1 };
      }
    } catch {
      mark = null;
    }
    if (mark === null) {
      this.restartFromBeginning('WATERMARK_INVALID');
      return;
    }
    // The record must still be there: same seq and mac at that offset. Otherwise the trail was reset or replaced.
    let line: Buffer | null = null;
    try {
      const handle = await open(this.opts.trailPath, 'r');
      try {
        const buf = Buffer.allocUnsafe(TAIL_BYTES);
        const { bytesRead } = await handle.read(buf, 0, buf.length, mark.offset);
        const end = buf.subarray(0, bytesRead).indexOf(0x0a);
        if (end !== -1) line = buf.subarray(0, end);
      } finally {
        await handle.close();
      }
    } catch {
      line = null;
    }
    const fields = line === null ? null : parseTrailRecordFields(line);
    if (line === null || fields === null || fields.seq !== mark.seq || fields.mac !== mark.mac) {
      this.restartFromBeginning('WATERMARK_MISMATCH');
      return;
    }
    this.committed = { ...mark, next: mark.offset + line.length + 1 };
    this.readPos = this.committed.next;
    this.chainMac = mark.mac;
    this.chainSeq = mark.seq;
    this.lastSeenSeq = mark.seq;
  }

  private restartFromBeginning(code: string): void {
    this.log.warn('audit.ship.restart', { code });
    this.committed = null;
    this.readPos = 0;
    this.chainMac = AUDIT_GENESIS;
    this.chainSeq = 0;
    this.lastSeenSeq = 0;
  }

  /**
   * Writes the committed watermark (temp file, fsync, rename): one write at a
   * time, at most one a second while running (the trail's own fsyncs come
   * first), the latest mark wins. After a crash, at most that second's
   * committed records are sent again; close() writes the last one.
   */
  private saveWatermark(): void {
    this.watermarkDirty = true;
    if (this.watermarkSaving || this.watermarkTimer) return;
    const wait = this.closed ? 0 : this.watermarkWrittenAt + WATERMARK_EVERY_MS - performance.now();
    if (wait > 0) {
      this.watermarkTimer = setTimeout(() => {
        this.watermarkTimer = null;
        this.saveWatermark();
      }, Math.ceil(wait));
      this.watermarkTimer.unref();
      return;
    }
    this.watermarkSaving = (async () => {
      while (this.watermarkDirty) {
        this.watermarkDirty = false;
        const mark = this.committed;
        if (!mark) continue;
        this.watermarkWrittenAt = performance.now();
        try {
          const temp = `${this.shippedPath}.tmp`;
          const handle = await open(temp, 'w', 0o600);
          try {
            await writeAll(handle, Buffer.from(`${JSON.stringify({ seq: mark.seq, mac: mark.mac, offset: mark.offset })}\n`, 'utf8'), null);
            await handle.sync();
          } finally {
            await handle.close();
          }
          await rename(temp, this.shippedPath);
          await fsyncDir(dirname(this.shippedPath));
        } catch (error) {
          // A lost watermark only means records are sent again; shipping goes on.
          this.log.warn('audit.ship.watermark-failed', { code: errnoCode(error) });
        }
        if (!this.closed) break; // the next one waits its turn (above)
      }
    })().finally(() => {
      this.watermarkSaving = null;
      if (this.watermarkDirty) this.saveWatermark();
    });
  }

  private commit(mark: Mark): void {
    this.committed = mark;
    this.saveWatermark();
  }

  // ---- Reading and sending ----

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.again = false;
        await this.work();
      } while (this.again && !this.closed);
    } catch (error) {
      // Retried at the next kick or poll; logged once per kind of failure, not every 2 s.
      const code = errnoCode(error);
      if (code !== this.readError) this.log.warn('audit.ship.read-failed', { code });
      this.readError = code;
    } finally {
      this.pumping = false;
      this.updateStatus();
    }
  }

  /** Reads ahead (even while disconnected, to know whether anything waits) and sends while connected. */
  private async work(): Promise<void> {
    let fresh = true; // a kick or a poll: the file may have grown since the last read
    for (;;) {
      if (this.closed) return;
      if (fresh || (this.lookaheadBytes < REFILL_BELOW && !this.atEof)) {
        fresh = false;
        await this.fill();
        continue;
      }
      this.passPracticeRecords();
      const empty = this.lookaheadHead === this.lookahead.length;
      if (empty) {
        if (this.atEof) return;
        continue; // the chunk held only practice records: read on
      }
      if (!this.connected || !this.socket) return;
      // RELP: the window is full; each answer kicks the pump again.
      if (this.protocol === 'relp' && this.unanswered.size >= RELP_WINDOW) return;
      await this.sendBatch(this.socket);
    }
  }

  /** Reads one chunk of complete lines from readPos into the lookahead. */
  private async fill(): Promise<void> {
    const gen = this.gen;
    let handle: FileHandle;
    try {
      handle = await open(this.opts.trailPath, 'r');
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
      if (gen === this.gen && this.readPos > 0) this.trailReplaced();
      this.atEof = true;
      return;
    }
    try {
      const size = (await handle.stat()).size;
      if (gen !== this.gen) return;
      if (size < this.readPos) {
        this.trailReplaced();
        return;
      }
      if (this.lookaheadBytes >= REFILL_BELOW) {
        // Enough read ahead (waiting for the connection): only learn how far the trail goes, for `pending`.
        await this.learnLastSeq(handle, size);
        return;
      }
      if (this.readPos >= size) {
        this.atEof = true;
        return;
      }
      const length = Math.min(CHUNK_BYTES, size - this.readPos);
      const buf = Buffer.allocUnsafe(length);
      const base = this.readPos;
      const { bytesRead } = await handle.read(buf, 0, length, base);
      if (gen !== this.gen) return;
      // Read per chunk and zeroed after, as the trail's writer does; a keychain failure is retried like a read failure.
      const key = this.opts.auditKey ? await this.opts.auditKey() : null;
      try {
        if (gen !== this.gen) return;
        this.consume(buf.subarray(0, bytesRead), base, size, key);
      } finally {
        key?.fill(0);
      }
      this.readError = null;
      // The chunk did not reach the end: the last seq comes from the file's end (read at most once per size).
      if (!this.atEof) await this.learnLastSeq(handle, size);
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
        this.log.warn('audit.ship.skipped', { code: 'UNREADABLE_LINE' });
        this.foundUnverified(null, 'UNREADABLE_LINE');
        pos = nl + 1;
        continue;
      }
      const verified = this.verifyLine(line, key, fields.seq);
      this.chainMac = fields.mac;
      this.chainSeq = fields.seq;
      const mark: Mark = { seq: fields.seq, mac: fields.mac, offset: base + pos, next: base + nl + 1 };
      // Only a record whose MAC and chain link hold is believed to be practice.
      const practice = verified && fields.processor === 'sandbox';
      const message = practice ? null : formatSyslogMessage(line, fields, this.origin);
      const frame = message === null ? null : this.protocol === 'relp' ? message : frameOctetCounted(message);
      this.lookahead.push({ mark, frame });
      if (frame) {
        this.lookaheadBytes += frame.length;
        this.lookaheadReal++;
      }
      this.lastSeenSeq = Math.max(this.lastSeenSeq, fields.seq);
      pos = nl + 1;
    }
    if (pos === 0 && chunk.length === CHUNK_BYTES && !reachesEnd && chunk.indexOf(0x0a) === -1) {
      // A line longer than a chunk is no record the writer makes: pass over it.
      this.log.warn('audit.ship.skipped', { code: 'OVERLONG_LINE' });
      this.foundUnverified(null, 'OVERLONG_LINE');
      this.skipping = true;
      pos = chunk.length;
    }
    this.readPos = base + pos;
    this.atEof = reachesEnd;
  }

  /** The line's MAC and exact form under the trail's key, and its link to the line before. */
  private verifyLine(line: Buffer, key: Uint8Array | null, seq: number): boolean {
    if (key === null) {
      this.foundUnverified(seq, 'NO_KEY');
      return false;
    }
    const check = checkLine(line, key);
    if (!check.ok) {
      this.foundUnverified(seq, 'MAC_MISMATCH');
      return false;
    }
    if (check.record.seq !== this.chainSeq + 1 || check.record.prev !== this.chainMac) {
      this.foundUnverified(seq, 'CHAIN_BROKEN');
      return false;
    }
    return true;
  }

  /** A line that does not verify is something the operator must hear of, not only the log. The first one is kept. */
  private foundUnverified(seq: number | null, code: string): void {
    this.log.warn('audit.ship.unverified', { code, ...(seq === null ? {} : { seq }) });
    if (this.unverified === null) {
      this.unverified = { seq, since: this.now() };
      this.updateStatus();
    }
  }

  /** The trail is shorter than what was read: it was reset. Start again at its first record. */
  private trailReplaced(): void {
    this.restartFromBeginning('TRAIL_REPLACED');
    this.tailSize = -1;
    this.rewind();
    this.atEof = false;
  }

  /** Practice records at the head of the lookahead pass straight to the watermark when nothing is in flight before them. */
  private passPracticeRecords(): void {
    while (this.inflight.length === 0 && this.lookaheadHead < this.lookahead.length) {
      const item = this.lookahead[this.lookaheadHead];
      if (!item || item.frame !== null) break;
      this.lookaheadHead++;
      this.commit(item.mark);
    }
    this.compactLookahead();
  }

  private compactLookahead(): void {
    if (this.lookaheadHead === this.lookahead.length) {
      this.lookahead = [];
      this.lookaheadHead = 0;
    } else if (this.lookaheadHead > 4096) {
      this.lookahead = this.lookahead.slice(this.lookaheadHead);
      this.lookaheadHead = 0;
    }
  }

  private async sendBatch(socket: TLSSocket): Promise<void> {
    const relp = this.protocol === 'relp';
    const parts: Buffer[] = [];
    const txnrs: number[] = [];
    let bytes = 0;
    let last: Mark | null = null;
    while (this.lookaheadHead < this.lookahead.length && bytes < BATCH_BYTES && (!relp || this.unanswered.size + txnrs.length < RELP_WINDOW)) {
      const item = this.lookahead[this.lookaheadHead++];
      if (!item) break;
      if (item.frame) {
        let frame = item.frame;
        if (relp) {
          this.lastTxnr = nextTxnr(this.lastTxnr);
          txnrs.push(this.lastTxnr);
          frame = relpFrame(this.lastTxnr, 'syslog', item.frame);
        }
        parts.push(frame);
        bytes += frame.length;
        this.lookaheadBytes -= item.frame.length;
        this.lookaheadReal--;
      }
      last = item.mark;
    }
    this.compactLookahead();
    if (last === null) return;
    if (bytes === 0) {
      if (this.inflight.length === 0) this.commit(last);
      else this.inflight.push({ mark: last, conn: this.connId, writtenAt: null, follows: true, txnrs: [], acked: 0 });
      return;
    }
    // RELP counts the wait for an answer from the write call: bytes stuck in a full send buffer are unanswered too.
    const batch: Batch = { mark: last, conn: this.connId, writtenAt: relp ? performance.now() : null, follows: false, txnrs, acked: 0 };
    this.inflight.push(batch);
    for (const txnr of txnrs) this.unanswered.set(txnr, batch);
    if (relp) this.scheduleAckCheck();
    const ok = socket.write(Buffer.concat(parts, bytes), (error) => {
      if (relp || error || batch.conn !== this.connId) return; // the break handler rewinds
      batch.writtenAt = performance.now();
      this.scheduleSettle();
    });
    if (!ok) await this.drained(socket);
  }

  // ---- RELP answers ----

  /** Handles the collector's frames on connection `id`: the open answer, record answers, serverclose. */
  private relpData(id: number, socket: TLSSocket, chunk: Buffer): void {
    if (id !== this.connId || !this.relpReader) return;
    let frames;
    try {
      frames = this.relpReader.push(chunk);
    } catch (error) {
      this.failed(id, error instanceof RelpProtocolError ? error.code : 'RELP_PROTOCOL', true);
      return;
    }
    let answered = false;
    for (const frame of frames) {
      if (id !== this.connId) return;
      if (frame.command === 'serverclose') {
        this.failed(id, 'RELP_SERVER_CLOSE', true);
        return;
      }
      const waiting = frame.command === 'rsp' ? this.unanswered.get(frame.txnr) : undefined;
      const response = waiting === undefined ? null : parseRelpResponse(frame.data);
      if (waiting === undefined || response === null) {
        this.failed(id, 'RELP_PROTOCOL', true);
        return;
      }
      this.unanswered.delete(frame.txnr);
      if (waiting === RELP_OPEN_PENDING) {
        if (!relpOpenAccepted(response)) {
          this.failed(id, 'RELP_REFUSED', true);
          return;
        }
        this.sessionUp(socket);
        continue;
      }
      // Anything but 200 means the collector did not take the record: it is sent again on a new connection.
      if (response.code !== 200) {
        this.failed(id, 'RELP_REFUSED', true);
        return;
      }
      waiting.acked++;
      answered = true;
    }
    if (answered) {
      this.commitAnswered();
      this.updateStatus();
      // Only records held back by a full window need a new pass; appends kick on their own.
      if (this.lookaheadHead < this.lookahead.length) this.kick();
    }
  }

  /** Commits, in order, the batches whose every transaction the collector has answered with 200. */
  private commitAnswered(): void {
    let last: Mark | null = null;
    while (this.inflight.length > 0) {
      const batch = this.inflight[0];
      if (!batch || batch.conn !== this.connId) break;
      if (!batch.follows && batch.acked < batch.txnrs.length) break;
      this.inflight.shift();
      last = batch.mark;
    }
    if (last) {
      this.commit(last);
      this.passPracticeRecords();
    }
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    this.scheduleAckCheck();
  }

  /** Gives the connection up when the oldest unanswered batch has waited ackTimeoutMs. */
  private scheduleAckCheck(): void {
    if (this.ackTimer || this.closed) return;
    const oldest = this.inflight.find((batch) => !batch.follows && batch.acked < batch.txnrs.length);
    if (!oldest || oldest.writtenAt === null) return;
    const id = this.connId;
    const wait = Math.max(0, oldest.writtenAt + this.ackTimeoutMs - performance.now());
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      if (id !== this.connId) return;
      if (oldest.acked < oldest.txnrs.length && this.inflight.includes(oldest)) this.failed(id, 'ACK_TIMEOUT', true);
      else this.scheduleAckCheck();
    }, Math.ceil(wait));
    this.ackTimer.unref();
  }

  private drained(socket: TLSSocket): Promise<void> {
    if (socket.destroyed) return Promise.resolve(); // its 'close' may have passed already
    this.awaitingDrain = true;
    socket.setTimeout(STALL_MS);
    return new Promise((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        this.awaitingDrain = false;
        if (!socket.destroyed) socket.setTimeout(0);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  private scheduleSettle(): void {
    if (this.settleTimer || this.closed) return;
    const first = this.inflight.find((batch) => !batch.follows);
    if (!first || first.writtenAt === null) return;
    const wait = Math.max(0, first.writtenAt + this.settleMs - performance.now());
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      this.commitSettled();
      this.scheduleSettle();
    }, Math.ceil(wait));
    this.settleTimer.unref();
  }

  /** Commits, in order, the batches whose connection has stayed up settleMs since they were written. */
  private commitSettled(): void {
    if (!this.connected) return;
    const now = performance.now();
    let last: Mark | null = null;
    while (this.inflight.length > 0) {
      const batch = this.inflight[0];
      if (!batch || batch.conn !== this.connId) break;
      const settled = batch.follows || (batch.writtenAt !== null && now - batch.writtenAt >= this.settleMs);
      if (!settled) break;
      this.inflight.shift();
      last = batch.mark;
    }
    if (last) {
      this.commit(last);
      this.passPracticeRecords();
    }
  }

  /** Forgets everything after the committed watermark: it is read and sent again. */
  private rewind(): void {
    // What was in flight or read ahead is unread again; it still counts as waiting until reread.
    const wasWaiting = this.inflight.some((batch) => !batch.follows) || this.hasWaiting();
    this.gen++;
    this.inflight = [];
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = null;
    this.lookahead = [];
    this.lookaheadHead = 0;
    this.lookaheadBytes = 0;
    this.lookaheadReal = 0;
    this.skipping = false;
    this.readPos = this.committed?.next ?? 0;
    this.chainMac = this.committed?.mac ?? AUDIT_GENESIS;
    this.chainSeq = this.committed?.seq ?? 0;
    this.atEof = !wasWaiting;
  }

  // ---- The connection ----

  private connect(): void {
    if (this.closed || this.socket) return;
    const id = ++this.connId;
    const { host, port, ca, clientCert } = this.opts;
    let socket: TLSSocket;
    try {
      socket = tls.connect({
        host,
        port,
        ca,
        ...(clientCert ? { cert: clientCert.cert, key: clientCert.key } : {}),
        // SNI carries names only; an IP address is checked against the certificate's IP SANs.
        servername: isIP(host) ? undefined : host,
        minVersion: 'TLSv1.2',
        checkServerIdentity: (name: string, cert: PeerCertificate) => this.checkServerIdentity(name, cert),
      });
    } catch (error) {
      // Bad options (e.g. a CA that is not PEM): retried like any failure, so fixing the file is enough.
      this.failed(id, shipFailureCode(error) === 'CONNECT_FAILED' ? 'TLS_CONFIG' : shipFailureCode(error));
      return;
    }
    this.socket = socket;
    socket.setKeepAlive(true, KEEPALIVE_MS);
    socket.setNoDelay(true);
    socket.setTimeout(this.connectTimeoutMs);
    socket.on('secureConnect', () => {
      if (id !== this.connId) return;
      if (this.protocol === 'syslog-tls') {
        this.sessionUp(socket);
        return;
      }
      // RELP: the session is up once the collector accepts our offers (the connect timeout still runs).
      this.relpReader = new RelpFrameReader();
      this.unanswered.clear();
      this.lastTxnr = 1;
      this.unanswered.set(1, RELP_OPEN_PENDING);
      socket.write(relpFrame(1, 'open', Buffer.from(RELP_OPEN_OFFERS, 'utf8')));
    });
    if (this.protocol === 'relp') socket.on('data', (chunk: Buffer) => this.relpData(id, socket, chunk));
    // A syslog collector sends nothing; reading keeps 'end' coming when it goes away.
    else socket.resume();
    socket.on('timeout', () => {
      if (!this.connected || this.awaitingDrain) this.failed(id, this.connected ? 'CONNECTION_LOST' : 'CONNECT_TIMEOUT');
    });
    socket.on('error', (error: Error) => this.failed(id, shipFailureCode(error)));
    // (Once connected, failed() reports any end as CONNECTION_LOST.)
    socket.on('end', () => this.failed(id, 'CONNECT_FAILED'));
    socket.on('close', () => this.failed(id, 'CONNECT_FAILED'));
  }

  private sessionUp(socket: TLSSocket): void {
    socket.setTimeout(0);
    this.connected = true;
    this.connectedAt = performance.now();
    this.down = false;
    this.lastError = null;
    this.log.info('audit.ship.connected', { protocol: this.protocol });
    this.updateStatus();
    this.kick();
  }

  /** The usual certificate name check, then the fingerprint when one is configured. */
  private checkServerIdentity(name: string, cert: PeerCertificate): Error | undefined {
    const nameError = tls.checkServerIdentity(name, cert);
    if (nameError) return nameError;
    if (this.fingerprint !== null && normaliseFingerprint(cert.fingerprint256 ?? '') !== this.fingerprint) {
      return Object.assign(new Error('collector certificate fingerprint mismatch'), { code: FINGERPRINT_MISMATCH });
    }
    return undefined;
  }

  /**
   * One handler for every way a connection ends or fails to start; later events of the same socket are ignored.
   * `specific`: the code says more than "the connection went" (a RELP refusal, no answers) and is kept as is.
   */
  private failed(id: number, code: string, specific = false): void {
    if (id !== this.connId || this.closed) return;
    const socket = this.socket;
    this.socket = null;
    this.connId++;
    socket?.destroy();
    this.relpReader = null;
    this.unanswered.clear();
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    const wasConnected = this.connected;
    this.connected = false;
    // Back to the shortest delay after a connection that worked (one that stopped answering did not).
    if (wasConnected && code !== 'ACK_TIMEOUT' && performance.now() - this.connectedAt >= BACKOFF_RESET_MS) this.attempt = 0;
    this.lastError = wasConnected && !specific ? 'CONNECTION_LOST' : code;
    this.down = true;
    this.log.warn('audit.ship.failed', { code: this.lastError });
    this.rewind();
    this.scheduleReconnect();
    this.updateStatus();
    this.kick(); // reread from the watermark, so "waiting" is known while disconnected
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer) return;
    const base = Math.min(this.retryMax, this.retryMin * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    // Equal jitter: half the delay fixed, half random, so stations do not reconnect in step.
    const delay = Math.min(this.retryMax, Math.max(this.retryMin, base / 2 + (Math.random() * base) / 2));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  // ---- Status ----

  private hasWaiting(): boolean {
    return this.lookaheadReal > 0 || !this.atEof;
  }

  private updateStatus(): void {
    if (this.closed) return;
    const now = this.now();
    const waiting = this.hasWaiting();
    if (this.connected && !waiting) this.delayedSince = null;
    else if (waiting && this.down && this.delayedSince === null) this.delayedSince = now;
    const due = this.delayedSince !== null && now.getTime() - this.delayedSince.getTime() >= this.opts.noticeAfterMs;
    if (this.noticeTimer && (this.delayedSince === null || due)) {
      clearTimeout(this.noticeTimer);
      this.noticeTimer = null;
    }
    if (this.delayedSince !== null && !due && !this.noticeTimer) {
      const wait = this.opts.noticeAfterMs - (now.getTime() - this.delayedSince.getTime());
      this.noticeTimer = setTimeout(
        () => {
          this.noticeTimer = null;
          this.updateStatus();
        },
        Math.max(1, Math.ceil(wait)),
      );
      this.noticeTimer.unref();
    }
    if (due && !this.noticeDue) this.log.warn('audit.ship.delayed');
    this.noticeDue = due;
    const delayed = this.delayedSince?.getTime() ?? null;
    const { reported } = this;
    const unverified = this.unverified !== null;
    if (reported.connected === this.connected && reported.delayed === delayed && reported.noticeDue === due && reported.unverified === unverified) return;
    this.reported = { connected: this.connected, delayed, noticeDue: due, unverified };
    try {
      this.opts.onStatus?.(this.status());
    } catch {
      // A listener's failure must not stop shipping.
    }
  }
}

/** Ends a socket politely, and destroys it if the peer does not close within CLOSE_WAIT_MS. */
function endSocket(socket: TLSSocket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, CLOSE_WAIT_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.end();
  });
}
