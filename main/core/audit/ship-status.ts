/**
 * What the shipper tells the station: its status, and when records have waited long enough because of a failure
 * that the operator must hear of (the notice). The notice is timed here; the shipper only says what it sees.
 */
import type { Logger } from '../log';
import { errnoCode } from './ship-link';
import type { UnverifiedReason } from './ship-cursor';

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
  /** The first trail line the shipper could not verify (MAC, form or chain), why, and when it found it; null when every line verified. */
  readonly unverified: { readonly seq: number | null; readonly reason: UnverifiedReason; readonly since: Date } | null;
}

/** What the shipper sees at a moment. */
export interface ShipObservation {
  readonly connected: boolean;
  /** Records wait to be sent (or may: the trail was not read to its end). */
  readonly waiting: boolean;
  /** A failure happened and no connection has worked since. */
  readonly down: boolean;
  readonly unverified: boolean;
}

export class DelayNotice {
  delayedSince: Date | null = null;
  due = false;
  private timer: NodeJS.Timeout | null = null;
  private reported: { connected: boolean; delayed: number | null; due: boolean; unverified: boolean } = {
    connected: false,
    delayed: null,
    due: false,
    unverified: false,
  };

  /** `recheck` is called when the notice falls due with nothing else happening. */
  constructor(
    private readonly noticeAfterMs: number,
    private readonly now: () => Date,
    private readonly log: Logger,
    private readonly recheck: () => void,
  ) {}

  /** Takes in what the shipper sees; true when what it reports (connected, delay, notice, unverified) changed. */
  update(seen: ShipObservation): boolean {
    const now = this.now();
    if (seen.connected && !seen.waiting) this.delayedSince = null;
    else if (seen.waiting && seen.down && this.delayedSince === null) this.delayedSince = now;
    const due = this.delayedSince !== null && now.getTime() - this.delayedSince.getTime() >= this.noticeAfterMs;
    if (this.timer && (this.delayedSince === null || due)) this.stop();
    if (this.delayedSince !== null && !due && !this.timer) {
      const wait = this.noticeAfterMs - (now.getTime() - this.delayedSince.getTime());
      this.timer = setTimeout(
        () => {
          this.timer = null;
          this.recheck();
        },
        Math.max(1, Math.ceil(wait)),
      );
      this.timer.unref();
    }
    if (due && !this.due) this.log.warn('audit.ship.delayed');
    this.due = due;
    const delayed = this.delayedSince?.getTime() ?? null;
    const { reported } = this;
    if (reported.connected === seen.connected && reported.delayed === delayed && reported.due === due && reported.unverified === seen.unverified) return false;
    this.reported = { connected: seen.connected, delayed, due, unverified: seen.unverified };
    return true;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** At most this many lines are put on record a run: a trail edited throughout must not double in size. */
const MAX_RECORDED = 100;

/**
 * Lines that failed their check: logged each time, the first kept for the status (the operator window), and each
 * put on record once a run through `record` (its seq and why, never the line).
 */
export class UnverifiedLines {
  first: { readonly seq: number | null; readonly reason: UnverifiedReason; readonly since: Date } | null = null;
  private readonly recorded = new Set<number | null>();

  constructor(
    private readonly now: () => Date,
    private readonly log: Logger,
    private readonly changed: () => void,
    private readonly record?: (seq: number | null, reason: UnverifiedReason) => Promise<void>,
  ) {}

  found(seq: number | null, reason: UnverifiedReason): void {
    this.log.warn('audit.ship.unverified', { code: reason, ...(seq === null ? {} : { seq }) });
    if (this.first === null) {
      this.first = { seq, reason, since: this.now() };
      this.changed();
    }
    // A line reread after a reconnect is the same line: one record for it.
    if (!this.record || this.recorded.has(seq) || this.recorded.size >= MAX_RECORDED) return;
    this.recorded.add(seq);
    const record = this.record;
    Promise.resolve()
      .then(() => record(seq, reason))
      .catch((error: unknown) => {
        // The status still shows the line; a trail that cannot take a record stops the station on its own.
        this.log.warn('audit.ship.refusal-unrecorded', { code: errnoCode(error) });
      });
  }
}
