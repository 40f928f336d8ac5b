/**
 * Ships every audit record to the bank's SIEM, in trail order, over one TLS connection (./ship-link.ts), by RELP
 * (./relp.ts: each record a transaction the collector answers) or syslog-tls (RFC 5425, no answers); messages are
 * RFC 5424 (./syslog.ts). The trail file is the queue (./ship-cursor.ts reads and verifies it); the watermark
 * `<trail>.shipped` (./ship-watermark.ts) is the last record known to have arrived; ./ship-inflight.ts decides
 * when a sent record counts as arrived (RELP: its `rsp 200`; syslog-tls: its connection stayed up `settleMs`).
 * After a break everything past the watermark is sent again (at least once; resent = same station + seq).
 * Practice records (`"processor":"sandbox"`) that verify are never shipped. A line that does not verify is
 * shipped all the same when it has a seq (the SIEM sees what is there), shown in status().unverified (the
 * operator window) and put on record through `recordUnverified` (its seq and why, never the line). Nothing here
 * blocks or throws at the caller: kick() returns at once, and every failure becomes a short code in
 * status().lastError and the log (never record content).
 */
import { hostname as osHostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { silentLogger } from '../log';
import type { Logger } from '../log';
import { nextTxnr, relpFrame } from './relp';
import { TrailCursor } from './ship-cursor';
import { DEFAULT_ACK_TIMEOUT_MS, DEFAULT_SETTLE_MS, InFlight } from './ship-inflight';
import { Backoff, LinkConfigError, endSocket, errnoCode, openLink, shipFailureCode, whenDrained } from './ship-link';
import { DelayNotice, UnverifiedLines } from './ship-status';
import type { AuditShipStatus } from './ship-status';
import type { AuditShipperOptions } from './ship-options';
import { WatermarkWriter, loadWatermark } from './ship-watermark';
import type { Mark } from './ship-watermark';

export { auditShippedPath } from './files';
export type { AuditShipStatus } from './ship-status';
export type { AuditShipperOptions } from './ship-options';

/** RELP: at most this many transactions unanswered at a time (librelp's default window is 128). */
const RELP_WINDOW = 1024;
/** A connection that lasted this long counts as having worked: the next reconnect starts from the shortest delay. */
const BACKOFF_RESET_MS = 5_000;
/** Bytes per socket write. */
const BATCH_BYTES = 64 * 1024;
const POLL_MS = 2000;
/** A connection that takes no bytes at all for this long (while we wait to write) is given up and reopened. */
const STALL_MS = 60_000;

export class AuditShipper {
  private readonly log: Logger;
  private readonly relp: boolean;
  private readonly backoff: Backoff;
  private readonly cursor: TrailCursor;
  private readonly inflight: InFlight;
  private readonly watermark: WatermarkWriter;
  private readonly notice: DelayNotice;

  private started = false;
  private closed = false;
  private loaded = false;
  private loading: Promise<void> = Promise.resolve();
  private closing: Promise<void> | null = null;

  private socket: TLSSocket | null = null;
  /** Bumped per connection attempt (and on close), so events of an old socket are ignored. */
  private connId = 0;
  private connected = false;
  private connectedAt = 0;
  /** A failure happened and no connection has worked since. */
  private down = false;
  private awaitingDrain = false;
  private lastError: string | null = null;
  private committed: Mark | null = null;
  private readonly unverified: UnverifiedLines;
  private pumping = false;
  private again = false;
  private readError: string | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: AuditShipperOptions) {
    this.log = opts.log ?? silentLogger;
    const now = opts.now ?? ((): Date => new Date());
    this.relp = (opts.protocol ?? 'syslog-tls') === 'relp';
    const retryMin = Math.max(1, opts.retry?.minMs ?? 1000);
    this.backoff = new Backoff(retryMin, Math.max(retryMin, opts.retry?.maxMs ?? 60_000));
    this.cursor = new TrailCursor({
      trailPath: opts.trailPath,
      origin: { stationId: opts.stationId, hostname: opts.hostname ?? osHostname() },
      relp: this.relp,
      ...(opts.auditKey ? { auditKey: opts.auditKey } : {}),
      log: this.log,
      unverified: (seq, reason) => this.unverified.found(seq, reason),
      replaced: () => this.trailReplaced(),
    });
    this.inflight = new InFlight({
      settleMs: Math.max(0, opts.settleMs ?? DEFAULT_SETTLE_MS),
      ackTimeoutMs: Math.max(1, opts.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS),
      conn: () => this.connId,
      connected: () => this.connected,
      commit: (mark) => {
        this.commit(mark);
        this.passPracticeRecords();
      },
      ackTimeout: (conn) => this.failed(conn, 'ACK_TIMEOUT', true),
    });
    this.watermark = new WatermarkWriter(opts.trailPath, this.log);
    this.unverified = new UnverifiedLines(now, this.log, () => this.updateStatus(), opts.recordUnverified);
    this.notice = new DelayNotice(opts.noticeAfterMs, now, this.log, () => this.updateStatus());
  }

  /** Reads the watermark, connects and starts looking for records. Returns at once. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.loading = loadWatermark(this.opts.trailPath)
      .then((load) => {
        if (load.mark === null && load.restart !== null) this.log.warn('audit.ship.restart', { code: load.restart });
        this.committed = load.mark;
        this.cursor.resumeAfter(load.mark);
      })
      .catch((error: unknown) => {
        // loadWatermark handles every file problem itself; this is only a last guard.
        this.log.warn('audit.ship.restart', { code: errnoCode(error) });
        this.committed = null;
        this.cursor.resumeAfter(null);
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
      pending: Math.max(0, this.cursor.lastSeenSeq - shippedSeq),
      delayedSince: this.notice.delayedSince,
      noticeDue: this.notice.due,
      lastError: this.lastError,
      unverified: this.unverified.first,
    };
  }

  /** Ends the connection, stops the timers and writes the committed watermark. Records not yet committed are sent again next time. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    for (const timer of [this.pollTimer, this.retryTimer]) if (timer) clearTimeout(timer);
    this.pollTimer = this.retryTimer = null;
    this.notice.stop();
    this.watermark.stop();
    const socket = this.socket;
    const relpOpen = this.relp && this.connected;
    const lastTxnr = this.inflight.lastTxnr;
    this.socket = null;
    this.connected = false;
    this.connId++;
    this.inflight.clear();
    this.closing = (async () => {
      // RELP's orderly end; answers still on their way are not waited for (those records are sent again next time).
      if (socket && relpOpen && !socket.destroyed) socket.write(relpFrame(nextTxnr(lastTxnr), 'close'));
      if (socket) await endSocket(socket);
      await this.loading;
      await this.watermark.flush(this.committed);
    })();
    return this.closing;
  }

  private commit(mark: Mark): void {
    this.committed = mark;
    this.watermark.save(mark);
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
      if (fresh || this.cursor.wantsRefill()) {
        fresh = false;
        if (await this.cursor.fill()) this.readError = null;
        continue;
      }
      this.passPracticeRecords();
      if (this.cursor.isEmpty()) {
        if (this.cursor.atEof) return;
        continue; // the chunk held only practice records: read on
      }
      if (!this.connected || !this.socket) return;
      // RELP: the window is full; each answer kicks the pump again.
      if (this.relp && this.inflight.unansweredCount() >= RELP_WINDOW) return;
      await this.sendBatch(this.socket);
    }
  }

  /** Practice records at the head of the queue pass straight to the watermark when nothing is in flight before them. */
  private passPracticeRecords(): void {
    while (this.inflight.isEmpty()) {
      const item = this.cursor.peek();
      if (!item || item.frame !== null) break;
      this.cursor.take();
      this.commit(item.mark);
    }
    this.cursor.compact();
  }

  private async sendBatch(socket: TLSSocket): Promise<void> {
    const parts: Buffer[] = [];
    const txnrs: number[] = [];
    let bytes = 0;
    let last: Mark | null = null;
    while (bytes < BATCH_BYTES && (!this.relp || this.inflight.unansweredCount() + txnrs.length < RELP_WINDOW)) {
      const item = this.cursor.take();
      if (!item) break;
      if (item.frame) {
        let frame = item.frame;
        if (this.relp) {
          this.inflight.lastTxnr = nextTxnr(this.inflight.lastTxnr);
          txnrs.push(this.inflight.lastTxnr);
          frame = relpFrame(this.inflight.lastTxnr, 'syslog', item.frame);
        }
        parts.push(frame);
        bytes += frame.length;
      }
      last = item.mark;
    }
    this.cursor.compact();
    if (last === null) return;
    if (bytes === 0) {
      if (this.inflight.isEmpty()) this.commit(last);
      else this.inflight.pushFollower(last);
      return;
    }
    const batch = this.inflight.push(last, txnrs);
    const ok = socket.write(Buffer.concat(parts, bytes), (error) => {
      if (this.relp || error) return; // the break handler rewinds
      this.inflight.written(batch);
    });
    if (!ok) await this.drained(socket);
  }

  /** Handles the collector's RELP frames on connection `id`. */
  private relpData(id: number, socket: TLSSocket, chunk: Buffer): void {
    if (id !== this.connId) return;
    const answers = this.inflight.relpAnswers(chunk);
    if (answers.opened) this.sessionUp(socket);
    if (answers.failure !== null) {
      this.failed(id, answers.failure, true);
      return;
    }
    if (answers.answered) {
      this.inflight.commitAnswered();
      this.updateStatus();
      // Only records held back by a full window need a new pass; appends kick on their own.
      if (!this.cursor.isEmpty()) this.kick();
    }
  }

  private async drained(socket: TLSSocket): Promise<void> {
    this.awaitingDrain = true;
    await whenDrained(socket, STALL_MS);
    this.awaitingDrain = false;
  }

  /** Forgets everything after the committed watermark: it is read and sent again. */
  private rewind(): void {
    // What was in flight or read ahead is unread again; it still counts as waiting until reread.
    const wasWaiting = this.inflight.hasRecords() || this.cursor.hasWaiting();
    this.inflight.clear();
    this.cursor.rewind(this.committed, wasWaiting);
  }

  /** The trail is shorter than what was read: it was reset. Start again at its first record. */
  private trailReplaced(): void {
    this.log.warn('audit.ship.restart', { code: 'TRAIL_REPLACED' });
    this.committed = null;
    this.cursor.resumeAfter(null);
    this.rewind();
    this.cursor.atEof = false;
  }

  // ---- The connection ----

  private connect(): void {
    if (this.closed || this.socket) return;
    const id = ++this.connId;
    let socket: TLSSocket;
    try {
      socket = openLink(this.opts);
    } catch (error) {
      this.failed(id, error instanceof LinkConfigError ? error.code : shipFailureCode(error));
      return;
    }
    this.socket = socket;
    socket.setTimeout(this.opts.connectTimeoutMs ?? 10_000);
    socket.on('secureConnect', () => {
      if (id !== this.connId) return;
      // RELP: the session is up once the collector accepts our offers (the connect timeout still runs).
      if (this.relp) socket.write(this.inflight.openRelp());
      else this.sessionUp(socket);
    });
    if (this.relp) socket.on('data', (chunk: Buffer) => this.relpData(id, socket, chunk));
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
    this.log.info('audit.ship.connected', { protocol: this.relp ? 'relp' : 'syslog-tls' });
    this.updateStatus();
    this.kick();
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
    const wasConnected = this.connected;
    this.connected = false;
    // Back to the shortest delay after a connection that worked (one that stopped answering did not).
    if (wasConnected && code !== 'ACK_TIMEOUT' && performance.now() - this.connectedAt >= BACKOFF_RESET_MS) this.backoff.reset();
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
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, this.backoff.next());
    this.retryTimer.unref();
  }

  private updateStatus(): void {
    if (this.closed) return;
    const seen = { connected: this.connected, waiting: this.cursor.hasWaiting(), down: this.down, unverified: this.unverified.first !== null };
    if (!this.notice.update(seen)) return;
    try {
      this.opts.onStatus?.(this.status());
    } catch {
      // A listener's failure must not stop shipping.
    }
  }
}
