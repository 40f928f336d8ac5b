/**
 * Write-ahead bookkeeping: which attempt records have no outcome record yet.
 * An attempt is written before a set_pin request is sent and its outcome names
 * the same attemptId, so an attempt left open means the station stopped during
 * the request (or, for the trail's very last attempt, is sending it now).
 */
import { z } from 'zod';
import type { AuditAttemptRecord, AuditEntry, AuditInput, AuditLine } from './format';

// What closing an open attempt reads from it; the snapshot holding it is under the trail's key (scan.ts).
const keptAttempt = z.looseObject({
  type: z.literal('attempt'),
  attemptId: z.string(),
  seq: z.number().int().min(1),
  stationId: z.string(),
  operator: z.string(),
  cardId: z.string(),
  mode: z.string(),
  profile: z.string(),
});

/** Attempt records without a card record naming their attemptId, in trail order. */
export function openAttempts(records: readonly AuditLine[]): AuditAttemptRecord[] {
  const closed = new Set<string>();
  for (const record of records) if (record.type === undefined && record.attemptId) closed.add(record.attemptId);
  return records.filter((record): record is AuditAttemptRecord => record.type === 'attempt' && !closed.has(record.attemptId));
}

/** openAttempts as records go by, one at a time (start-up reads the trail once and keeps only these). */
export class OpenAttemptTracker {
  private readonly open = new Map<string, AuditAttemptRecord>();

  note(record: AuditLine): void {
    if (record.type === 'attempt') this.open.set(record.attemptId, record);
    else if (record.type === undefined && record.attemptId) this.open.delete(record.attemptId);
  }

  clear(): void {
    this.open.clear();
  }

  /** In trail order (a Map keeps insertion order). */
  list(): AuditAttemptRecord[] {
    return [...this.open.values()];
  }

  /** Start-up's history snapshot keeps the open attempts as they are (scan.ts). */
  snapshot(): AuditAttemptRecord[] {
    return this.list();
  }

  /** Replaces the open attempts with a snapshot's; false (and nothing changed) when it is not one. */
  restore(state: unknown): boolean {
    const parsed = z.array(keptAttempt).safeParse(state);
    if (!parsed.success) return false;
    this.open.clear();
    for (const attempt of parsed.data as unknown as AuditAttemptRecord[]) this.open.set(attempt.attemptId, attempt);
    return true;
  }
}

/** The outcome-unknown record that closes an attempt cut short by a stop. */
export function stoppedOutcomeFor(attempt: AuditAttemptRecord): AuditEntry {
  return {
    stationId: attempt.stationId,
    operator: attempt.operator,
    cardId: attempt.cardId,
    mode: attempt.mode,
    profile: attempt.profile,
    outcome: 'outcome-unknown',
    requestStatus: null,
    errorCode: 'STATION_STOPPED',
    attemptId: attempt.attemptId,
    ...(attempt.processor ? { processor: attempt.processor } : {}),
  };
}

/**
 * At start-up, before anyone can start a card: closes every open attempt with its outcome-unknown record.
 * Resolves to the attempts closed and the records written, in order.
 */
export async function closeOpenAttempts(
  audit: { append(entry: AuditInput): Promise<unknown> },
  records: readonly AuditLine[],
): Promise<{ readonly attempt: AuditAttemptRecord; readonly written: unknown }[]> {
  const closed: { attempt: AuditAttemptRecord; written: unknown }[] = [];
  for (const attempt of openAttempts(records)) closed.push({ attempt, written: await audit.append(stoppedOutcomeFor(attempt)) });
  return closed;
}
