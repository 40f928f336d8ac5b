/**
 * Records handed to a connection and not yet committed, and the two rules that commit them. syslog-tls has no
 * answers: a batch is committed once its connection is still up `settleMs` after the write. RELP: once the
 * collector's `rsp 200` for every transaction of the batch has come; when the oldest unanswered batch waits
 * `ackTimeoutMs`, the connection is given up. Commits happen in order, and only for the current connection.
 */
import { performance } from 'node:perf_hooks';
import { RELP_OPEN_OFFERS, RelpFrameReader, RelpProtocolError, parseRelpResponse, relpFrame, relpOpenAccepted } from './relp';
import type { Mark } from './ship-watermark';

/** Records handed to one connection and not yet committed; `mark` is the last of them. */
export interface Batch {
  readonly mark: Mark;
  readonly conn: number;
  /** performance.now() when the socket took the bytes (RELP: when they were handed to it); null until then. */
  writtenAt: number | null;
  /** No bytes of its own (practice records only): commits together with the batch before it. */
  readonly follows: boolean;
  /** RELP: the batch's transactions, and how many of them the collector has answered. */
  readonly txnrs: readonly number[];
  acked: number;
}

/** What a chunk of the collector's RELP frames meant. */
export interface RelpAnswers {
  /** The collector accepted the session's `open`. */
  readonly opened: boolean;
  /** Records were answered with 200 (commitAnswered() may commit). */
  readonly answered: boolean;
  /** The connection must be given up (a protocol error, a refusal, serverclose); null otherwise. */
  readonly failure: string | null;
}

export interface InFlightOptions {
  readonly settleMs: number;
  readonly ackTimeoutMs: number;
  /** The current connection's number: batches of an older one never commit. */
  readonly conn: () => number;
  readonly connected: () => boolean;
  /** The last batch of a run that may be committed. */
  readonly commit: (mark: Mark) => void;
  /** RELP: connection `conn` let an answer wait too long. */
  readonly ackTimeout: (conn: number) => void;
}

const RELP_OPEN_PENDING = 'open';
/** Longer than Linux's default TCP retransmission give-up (tcp_retries2 = 15: about 15.4 minutes). */
export const DEFAULT_SETTLE_MS = 16 * 60_000;
export const DEFAULT_ACK_TIMEOUT_MS = 30_000;

export class InFlight {
  private batches: Batch[] = [];
  /** RELP: sent and not yet answered, by transaction number (the `open` one is RELP_OPEN_PENDING). */
  private unanswered = new Map<number, Batch | typeof RELP_OPEN_PENDING>();
  private relpReader: RelpFrameReader | null = null;
  lastTxnr = 0;
  private settleTimer: NodeJS.Timeout | null = null;
  private ackTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: InFlightOptions) {}

  isEmpty(): boolean {
    return this.batches.length === 0;
  }

  /** A batch with bytes of its own is in flight. */
  hasRecords(): boolean {
    return this.batches.some((batch) => !batch.follows);
  }

  unansweredCount(): number {
    return this.unanswered.size;
  }

  /** Forgets every batch (they are read and sent again) and stops both timers. */
  clear(): void {
    this.batches = [];
    this.unanswered.clear();
    this.relpReader = null;
    this.stopTimers();
  }

  stopTimers(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.settleTimer = this.ackTimer = null;
  }

  /** Practice records only: they commit with the batch before them. */
  pushFollower(mark: Mark): void {
    this.batches.push({ mark, conn: this.opts.conn(), writtenAt: null, follows: true, txnrs: [], acked: 0 });
  }

  /** A batch about to be written; for RELP, `txnrs` are its transactions and the wait for answers starts now. */
  push(mark: Mark, txnrs: number[]): Batch {
    const relp = txnrs.length > 0;
    // RELP counts the wait for an answer from the write call: bytes stuck in a full send buffer are unanswered too.
    const batch: Batch = { mark, conn: this.opts.conn(), writtenAt: relp ? performance.now() : null, follows: false, txnrs, acked: 0 };
    this.batches.push(batch);
    for (const txnr of txnrs) this.unanswered.set(txnr, batch);
    if (relp) this.scheduleAckCheck();
    return batch;
  }

  /** syslog-tls: the socket took the batch's bytes; it commits once the connection has stayed up settleMs. */
  written(batch: Batch): void {
    if (batch.conn !== this.opts.conn()) return;
    batch.writtenAt = performance.now();
    this.scheduleSettle();
  }

  // ---- RELP ----

  /** Starts a RELP session on a new connection: the `open` frame to send. */
  openRelp(): Buffer {
    this.relpReader = new RelpFrameReader();
    this.unanswered.clear();
    this.lastTxnr = 1;
    this.unanswered.set(1, RELP_OPEN_PENDING);
    return relpFrame(1, 'open', Buffer.from(RELP_OPEN_OFFERS, 'utf8'));
  }

  /** Reads the collector's frames: the open answer, record answers, serverclose. Stops at the first failure. */
  relpAnswers(chunk: Buffer): RelpAnswers {
    let opened = false;
    let answered = false;
    const fail = (failure: string): RelpAnswers => ({ opened, answered, failure });
    if (!this.relpReader) return { opened, answered, failure: null }; // not a RELP session (any more)
    let frames;
    try {
      frames = this.relpReader.push(chunk);
    } catch (error) {
      return fail(error instanceof RelpProtocolError ? error.code : 'RELP_PROTOCOL');
    }
    for (const frame of frames) {
      if (frame.command === 'serverclose') return fail('RELP_SERVER_CLOSE');
      const waiting = frame.command === 'rsp' ? this.unanswered.get(frame.txnr) : undefined;
      const response = waiting === undefined ? null : parseRelpResponse(frame.data);
      if (waiting === undefined || response === null) return fail('RELP_PROTOCOL');
      this.unanswered.delete(frame.txnr);
      if (waiting === RELP_OPEN_PENDING) {
        if (!relpOpenAccepted(response)) return fail('RELP_REFUSED');
        opened = true;
        continue;
      }
      // Anything but 200 means the collector did not take the record: it is sent again on a new connection.
      if (response.code !== 200) return fail('RELP_REFUSED');
      waiting.acked++;
      answered = true;
    }
    return { opened, answered, failure: null };
  }

  /** Commits, in order, the batches whose every transaction the collector has answered with 200. */
  commitAnswered(): void {
    this.commitLeading((batch) => batch.follows || batch.acked >= batch.txnrs.length);
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    this.scheduleAckCheck();
  }

  /** Gives the connection up when the oldest unanswered batch has waited ackTimeoutMs. */
  private scheduleAckCheck(): void {
    if (this.ackTimer) return;
    const oldest = this.batches.find((batch) => !batch.follows && batch.acked < batch.txnrs.length);
    if (!oldest || oldest.writtenAt === null) return;
    const conn = this.opts.conn();
    const wait = Math.max(0, oldest.writtenAt + this.opts.ackTimeoutMs - performance.now());
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      if (conn !== this.opts.conn()) return;
      if (oldest.acked < oldest.txnrs.length && this.batches.includes(oldest)) this.opts.ackTimeout(conn);
      else this.scheduleAckCheck();
    }, Math.ceil(wait));
    this.ackTimer.unref();
  }

  // ---- syslog-tls ----

  private scheduleSettle(): void {
    if (this.settleTimer) return;
    const first = this.batches.find((batch) => !batch.follows);
    if (!first || first.writtenAt === null) return;
    const wait = Math.max(0, first.writtenAt + this.opts.settleMs - performance.now());
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      // Commits, in order, the batches whose connection has stayed up settleMs since they were written.
      if (this.opts.connected()) {
        const now = performance.now();
        this.commitLeading((batch) => batch.follows || (batch.writtenAt !== null && now - batch.writtenAt >= this.opts.settleMs));
      }
      this.scheduleSettle();
    }, Math.ceil(wait));
    this.settleTimer.unref();
  }

  /** Takes the leading batches of the current connection for which `done` holds and commits the last of them. */
  private commitLeading(done: (batch: Batch) => boolean): void {
    let last: Mark | null = null;
    while (this.batches.length > 0) {
      const batch = this.batches[0];
      if (!batch || batch.conn !== this.opts.conn() || !done(batch)) break;
      this.batches.shift();
      last = batch.mark;
    }
    if (last) this.opts.commit(last);
  }
}
