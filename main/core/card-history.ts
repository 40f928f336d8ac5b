/**
 * The card history the approval rules (approvals.ts) ask about: start-up builds it from the trail or its snapshot
 * (boot.ts) and every outcome since feeds it (station-records.ts), so it lives apart from the desk that reads it.
 */
import { z } from 'zod';
import { AUDIT_OUTCOMES } from './audit';
import type { AuditLine, AuditOutcome } from './audit';
import { MAX_REPEAT_WINDOW_HOURS } from './config';

/** Outcomes after which the processor may have set a PIN: these count as a set for the `repeat` rule. */
const MAY_HAVE_SET: ReadonlySet<AuditOutcome> = new Set<AuditOutcome>(['pin-set', 'pin-generated', 'outcome-unknown']);

export interface CardAttempt {
  readonly seq: number | null;
  readonly time: number;
  readonly outcome: AuditOutcome;
}

/** The longest repeat window a policy may set: an older possible set never counts. */
const LONGEST_REPEAT_WINDOW_MS = MAX_REPEAT_WINDOW_HOURS * 3_600_000;
/** Notes between two sweeps of possible sets older than that. */
const FORGET_EVERY = 4096;

/**
 * Earlier attempts per card on this station, from the audit trail at start-up and every record since. Only what
 * the rules can ask for is kept, so years of trail cost what the last 30 days and the unknown outcomes cost: a
 * card's last attempt only while it is an outcome unknown (any later answer clears it), a card's last possible
 * set only while it is inside the longest repeat window.
 */
export class CardHistory {
  private readonly lastAttempt = new Map<string, CardAttempt>();
  /** In the order noted (delete, then set): oldest first, so a sweep stops at the first recent one. */
  private readonly lastSet = new Map<string, CardAttempt>();
  private latestTime = Number.NEGATIVE_INFINITY;
  private notes = 0;

  constructor(records: Iterable<AuditLine> = []) {
    for (const record of records) this.noteRecord(record);
  }

  /** A record of the trail, as start-up reads it (only card records count). */
  noteRecord(record: AuditLine): void {
    if (record.type === undefined) this.note(record.cardId, record.seq, Date.parse(record.time), record.outcome);
  }

  /** Forget everything (start-up's check began the trail again from record 1). */
  clear(): void {
    this.lastAttempt.clear();
    this.lastSet.clear();
    this.latestTime = Number.NEGATIVE_INFINITY;
  }

  /** `seq` is null when the record itself could not be written: the rules must still see the attempt. */
  note(cardId: string, seq: number | null, time: number, outcome: AuditOutcome): void {
    // Only answers from the processor (or their absence) count: a cancelled or timed-out entry, or a failure
    // before anything was delivered (keychain, encryption, connection refused), leaves the card as it was.
    if (outcome === 'cancelled' || outcome === 'timeout' || outcome === 'failed') return;
    const attempt = { seq, time, outcome };
    if (outcome === 'outcome-unknown') this.lastAttempt.set(cardId, attempt);
    else this.lastAttempt.delete(cardId);
    if (MAY_HAVE_SET.has(outcome)) {
      this.lastSet.delete(cardId);
      this.lastSet.set(cardId, attempt);
    }
    if (time > this.latestTime) this.latestTime = time;
    if (++this.notes % FORGET_EVERY === 0) this.forgetOldSets();
  }

  /**
   * Possible sets older than the longest repeat window, counted back from the latest record (never from a time
   * ahead of this machine's clock: a record stamped by a clock set ahead must not age the others out).
   */
  private forgetOldSets(): void {
    const cutoff = Math.min(this.latestTime, Date.now()) - LONGEST_REPEAT_WINDOW_MS;
    for (const [cardId, attempt] of this.lastSet) {
      if (attempt.time >= cutoff) break;
      this.lastSet.delete(cardId);
    }
  }

  /** The card's last attempt if its outcome is unknown (the only last attempt a rule asks for), else undefined. */
  last(cardId: string): CardAttempt | undefined {
    return this.lastAttempt.get(cardId);
  }

  lastPossibleSet(cardId: string): CardAttempt | undefined {
    return this.lastSet.get(cardId);
  }

  /** Plain data for start-up's history snapshot (main/core/audit/scan.ts): [cardId, seq, time, outcome] rows. */
  snapshot(): CardHistorySnapshot {
    const rows = (map: ReadonlyMap<string, CardAttempt>): CardHistoryRow[] => Array.from(map, ([cardId, a]) => [cardId, a.seq, a.time, a.outcome]);
    return { attempts: rows(this.lastAttempt), sets: rows(this.lastSet) };
  }

  /** Replaces what is known with a snapshot's; false (and nothing changed) when it is not one. */
  restore(state: unknown): boolean {
    const parsed = cardHistorySnapshotSchema.safeParse(state);
    if (!parsed.success) return false;
    this.clear();
    for (const [cardId, seq, time, outcome] of parsed.data.attempts) if (outcome === 'outcome-unknown') this.lastAttempt.set(cardId, { seq, time, outcome });
    for (const [cardId, seq, time, outcome] of parsed.data.sets) {
      this.lastSet.set(cardId, { seq, time, outcome });
      if (time > this.latestTime) this.latestTime = time;
    }
    this.forgetOldSets();
    return true;
  }
}

type CardHistoryRow = [cardId: string, seq: number | null, time: number, outcome: AuditOutcome];
export interface CardHistorySnapshot {
  readonly attempts: CardHistoryRow[];
  readonly sets: CardHistoryRow[];
}
const cardHistoryRow = z.tuple([z.string(), z.number().int().min(1).nullable(), z.number(), z.enum(AUDIT_OUTCOMES)]);
const cardHistorySnapshotSchema = z.strictObject({ attempts: z.array(cardHistoryRow), sets: z.array(cardHistoryRow) });
