/**
 * Outcomes not yet on record. An outcome the trail could not take is kept (on disk beside the trail, and in
 * memory), retried, and no Start goes ahead until it lands; at start-up, what the last run left is settled first:
 * its kept outcome, then every attempt cut short by a stop (closed as outcome unknown).
 */
import type { AuditEntry, AuditLine } from './audit';
import { closeOpenAttempts } from './audit';
import type { Logger } from './log';
import type { OutcomeKeeper, RecordsDeps } from './station-records';
import { seqOf } from './station-records';

/** How often an outcome that could not be recorded is tried again. */
const UNRECORDED_RETRY_MS = 5_000;

export class PendingOutcome implements OutcomeKeeper {
  /** An outcome whose record could not be written: kept, retried, and no Start goes ahead until it is on disk. */
  private unrecorded: AuditEntry | null = null;
  private retry: NodeJS.Timeout | undefined;
  private flushing: Promise<boolean> | null = null;

  constructor(
    private readonly deps: RecordsDeps,
    private readonly log: Logger,
    /** Told when a kept outcome reached the trail: its warnings go. */
    private readonly onRecorded: () => void,
  ) {}

  /** The card whose outcome is not yet on record (kept beside the trail), or null. */
  card(): string | null {
    return this.unrecorded?.cardId ?? null;
  }

  /** `onDisk`: it is kept beside the trail already (read back at start-up). */
  async keep(entry: AuditEntry, onDisk = false): Promise<void> {
    this.unrecorded = entry;
    if (!onDisk) {
      // If this fails too (the disk is full, the keychain locked), the outcome is in memory only, as the warning says.
      await this.deps.audit?.keepPending?.(entry).catch(() => this.log.error('audit.pending-not-kept', { cardId: entry.cardId }));
    }
    clearInterval(this.retry);
    this.retry = setInterval(() => void this.flush(), UNRECORDED_RETRY_MS);
    this.retry.unref?.();
  }

  /**
   * True when no outcome is waiting to be recorded (after one more try to write it). The retry timer, a Start and
   * quitting can all ask at once: one try at a time, and the others share its answer, so it is never appended twice.
   */
  flush(): Promise<boolean> {
    this.flushing ??= this.tryFlush().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async tryFlush(): Promise<boolean> {
    const entry = this.unrecorded;
    if (!entry || !this.deps.audit) return true;
    try {
      await this.deps.audit.append(entry);
    } catch {
      return false;
    }
    if (this.unrecorded === entry) this.unrecorded = null;
    await this.deps.audit.clearPending?.().catch(() => undefined);
    this.dispose();
    this.onRecorded();
    this.log.info('audit.recovered', { cardId: entry.cardId });
    return true;
  }

  /**
   * At start-up, before attempts without an outcome are closed: an outcome kept beside the trail by the last run
   * is recorded now (it closes its attempt with the processor's real answer, not "outcome unknown"). Returns the
   * attempt it closes, if any, so it is not closed a second time. Kept in memory and retried if the trail still
   * cannot take it (every Start is refused until it does). Throws for a kept outcome that fails its MAC.
   */
  async recover(open: ReadonlySet<string>): Promise<string | null> {
    const audit = this.deps.audit;
    const entry = (await audit?.pendingOutcome?.()) ?? null;
    if (!audit || !entry) return null;
    if (entry.attemptId !== undefined && !open.has(entry.attemptId)) {
      // Its attempt is closed already: the record landed before the file could be removed.
      await audit.clearPending?.();
      return null;
    }
    try {
      const written = await audit.append(entry);
      this.deps.history?.note(entry.cardId, seqOf(written), Date.parse((written as { time?: string }).time ?? '') || Date.now(), entry.outcome);
      await audit.clearPending?.().catch(() => undefined);
      this.log.info('audit.recovered', { cardId: entry.cardId });
    } catch {
      this.deps.history?.note(entry.cardId, null, Date.now(), entry.outcome);
      await this.keep(entry, true);
    }
    return entry.attemptId ?? null;
  }

  /** Stops the retries (quitting; or nothing is left to retry). */
  dispose(): void {
    clearInterval(this.retry);
    this.retry = undefined;
  }
}

/**
 * At start-up: every attempt in the trail without an outcome was cut short by a stop (crash, power loss, kill)
 * during its request. Each is closed now by an outcome-unknown record; returns their cards, for the next person.
 */
export async function closeInterruptedAttempts(deps: RecordsDeps, log: Logger, records: readonly AuditLine[]): Promise<string[]> {
  const audit = deps.audit;
  if (!audit) return [];
  const cards: string[] = [];
  for (const { attempt, written } of await closeOpenAttempts(audit, records)) {
    deps.history?.note(attempt.cardId, seqOf(written), Date.now(), 'outcome-unknown');
    cards.push(attempt.cardId);
    log.warn('request.interrupted', { cardId: attempt.cardId });
  }
  return cards;
}
