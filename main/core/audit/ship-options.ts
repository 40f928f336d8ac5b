/** What the shipper is told: the collector, the transport, the trail and its key, and the timings. */
import type { Logger } from '../log';
import type { UnverifiedReason } from './ship-cursor';
import type { LinkOptions } from './ship-link';
import type { AuditShipStatus } from './ship-status';

export const SHIP_PROTOCOLS = ['relp', 'syslog-tls'] as const;
export type ShipProtocol = (typeof SHIP_PROTOCOLS)[number];

export interface AuditShipperOptions extends LinkOptions {
  /** The trail file; the watermark lives at `${trailPath}.shipped`. */
  readonly trailPath: string;
  readonly stationId: string;
  readonly noticeAfterMs: number;
  /** Default `syslog-tls`. */
  readonly protocol?: ShipProtocol;
  /** RELP: how long the oldest unanswered transaction may wait before the connection is given up. Default 30 s. */
  readonly ackTimeoutMs?: number;
  /** The trail's key (`audit-key`), read per use; the caller's buffer is zeroed after use. Without it no line verifies. */
  readonly auditKey?: () => Promise<Uint8Array>;
  /**
   * Puts a line that failed its check on record (a `ship-refused` record: seq and reason, never the line's
   * content). Called once per line and run; a failure is logged and the line stays in status().unverified.
   */
  readonly recordUnverified?: (seq: number | null, reason: UnverifiedReason) => Promise<void>;
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
  /** Called whenever connected, delayedSince, noticeDue or unverified change. */
  readonly onStatus?: (status: AuditShipStatus) => void;
}
