/**
 * What the Station writes to the audit trail, written one way: every record is stamped here, once, with the
 * station's ID and (with the sandbox processor) the practice marker, and a trail that cannot take it fails with
 * the StationError the operator sees.
 */
import { randomUUID } from 'node:crypto';
import { StationError } from '../../common/errors';
import type { StationErrorInfo } from '../../common/errors';
import { isOutcomeUnknown } from '../../common/domain';
import type { PinMode } from '../../common/domain';
import type { ProcessorOutcome } from '../../common/ipc';
import { carriesPracticeMark } from './audit';
import type { AuditEntry, AuditInput, AuditLine, TrailVisitor } from './audit';
import type { AuditExportFormat } from '../../common/domain';
import type { CardHistory } from './card-history';
import type { StationConfig } from './config';
import { practiceMark, SANDBOX_BASE_URL } from './config';
import type { Logger } from './log';
import type { Card } from './station-state';

/** Where outcomes are recorded: append resolves only once the record is on disk. */
export interface AuditSink {
  append(entry: AuditInput): Promise<unknown>;
  /**
   * Start-time check that the trail can take a record. The first in a process checks the whole chain and tells
   * `visitor` every record (start-up's card history and open attempts).
   */
  check(visitor?: TrailVisitor): Promise<unknown>;
  /** The records written so far (for the approval rules' card history). */
  records?(): AuditLine[];
  /** A verified export of the trail for an auditor. */
  export?(format: AuditExportFormat, stationId?: string): Promise<{ readonly text: string; readonly records: number }>;
  /** The trail file, for the shipper that reads it as its queue. */
  readonly path?: string;
  /** Told after each record is on disk. */
  addAppendListener?(listener: () => void): void;
  /** Resolves once writes that follow the records (the keychain's high-water mark) are done. */
  flush?(): Promise<void>;
  /** An outcome the trail could not take, kept durably beside it until it can (and read back at start-up). */
  keepPending?(entry: AuditEntry): Promise<void>;
  pendingOutcome?(): Promise<AuditEntry | null>;
  clearPending?(): Promise<void>;
}

/** A record as its writer states it: the stamp (station ID, practice marker) is added by stampRecord. */
export type Unstamped<T> = T extends unknown ? Omit<T, 'stationId' | 'processor'> : never;

/** Whose records these are: the station's ID, and whether its processor is the sandbox (practice). */
export interface RecordStamp {
  readonly stationId: string;
  readonly sandbox: boolean | undefined;
}

/**
 * `record` with the station's ID and, on a practice station, the practice marker where the record's type has one
 * (the records of admin commands and of the shipper have none). Every record of the station is stamped here.
 */
export function stampRecordAs<T extends Unstamped<AuditInput>>(stamp: RecordStamp, record: T): T & { stationId: string; processor?: 'sandbox' } {
  const type = (record as { type?: string }).type;
  return { ...record, stationId: stamp.stationId, ...practiceMark(stamp.sandbox && carriesPracticeMark(type)) };
}

/** The stamp of the station `config` describes. */
export function recordStamp(config: StationConfig): RecordStamp {
  return { stationId: config.station.id, sandbox: config.processor.baseUrl === SANDBOX_BASE_URL };
}

/** `record` stamped as the station `config` describes (stampRecordAs). */
export function stampRecord<T extends Unstamped<AuditInput>>(config: StationConfig, record: T): T & { stationId: string; processor?: 'sandbox' } {
  return stampRecordAs(recordStamp(config), record);
}

/** The trail's own failures (AUDIT_TORN_TAIL, ...) and the keychain's keep their codes; anything unforeseen is AUDIT_FAILED. */
export function auditFailure(error: unknown): StationError {
  return error instanceof StationError ? error : new StationError('AUDIT_FAILED');
}

/** The `seq` of a record the trail wrote, if it says. */
export function seqOf(written: unknown): number | null {
  const seq = (written as { seq?: unknown } | undefined)?.seq;
  return typeof seq === 'number' ? seq : null;
}

export interface RecordsDeps {
  /** Read at each record: a policy may change settings between cards. */
  readonly config: StationConfig;
  readonly audit?: AuditSink;
  /** Earlier attempts per card, kept up to date with every record (for the approval rules). */
  readonly history?: CardHistory;
}

/** Where an outcome the trail could not take goes (station-pending.ts). */
export interface OutcomeKeeper {
  keep(entry: AuditEntry): Promise<void>;
}

export class StationRecords {
  constructor(
    private readonly deps: RecordsDeps,
    private readonly log: Logger,
    private readonly keeper: OutcomeKeeper,
  ) {}

  /** Appends a stamped `record`; without a trail, nothing. Rejects with the trail's error as a StationError. */
  async append(record: Unstamped<AuditInput>): Promise<unknown> {
    const audit = this.deps.audit;
    if (!audit) return undefined;
    return audit.append(stampRecord(this.deps.config, record)).catch((error: unknown) => Promise.reject(auditFailure(error)));
  }

  /**
   * The write-ahead attempt record; resolves to its ID (undefined without a trail). Throws the trail's error as a
   * StationError, which ends the request before it is sent; the caller then records nothing more.
   */
  async attempt(card: Card): Promise<string | undefined> {
    if (!this.deps.audit) return undefined;
    const attemptId = randomUUID();
    try {
      await this.append({
        type: 'attempt',
        attemptId,
        operator: card.operator,
        cardId: card.cardId,
        mode: card.mode,
        profile: this.deps.config.profile,
        ...(card.approval ? { approver: card.approval.approver } : {}),
      });
      return attemptId;
    } catch (error) {
      this.log.error('audit.failed', { cardId: card.cardId, record: 'attempt' });
      // Marks "nothing sent, nothing to record" for the sender; the error is what the operator sees.
      throw Object.assign(auditFailure(error), { attemptNotRecorded: true });
    }
  }

  /** Appends a card's outcome record; returns why it failed, if it did (the outcome itself stays visible). */
  async outcome(
    card: Card,
    outcome: AuditEntry['outcome'],
    requestStatus: string | null,
    errorCode: string | null,
    attemptId?: string,
  ): Promise<StationErrorInfo | null> {
    const audit = this.deps.audit;
    if (!audit) return null;
    const approval = card.approval;
    let entry: AuditEntry | null = null;
    try {
      entry = stampRecord(this.deps.config, {
        operator: card.operator,
        cardId: card.cardId,
        mode: card.mode,
        profile: this.deps.config.profile,
        outcome,
        requestStatus,
        errorCode,
        ...(approval
          ? {
              approver: approval.approver,
              approvalMethod: approval.method,
              approvalRule: approval.rule,
              approvalReason: approval.reason,
              ...(approval.previousAttempt !== null ? { previousAttempt: approval.previousAttempt } : {}),
            }
          : {}),
        ...(attemptId ? { attemptId } : {}),
        ...(card.audio ? { audio: true as const } : {}),
      });
      const written = await audit.append(entry);
      this.deps.history?.note(card.cardId, seqOf(written), Date.now(), outcome);
      return null;
    } catch (error) {
      // The rules must see the attempt even when its record could not be written.
      this.deps.history?.note(card.cardId, null, Date.now(), outcome);
      this.log.error('audit.failed', { cardId: card.cardId, outcome });
      // Kept (on disk beside the trail, before the operator is told anything) and retried: the outcome must reach
      // the trail, and no new Start goes ahead until it has.
      if (entry) await this.keeper.keep(entry);
      return auditFailure(error).toInfo();
    }
  }
}

/** The audit outcome for a finished request. */
export function auditOutcomeOf(mode: PinMode, outcome: ProcessorOutcome | null, failure: StationErrorInfo | null): AuditEntry['outcome'] {
  if (outcome?.status === 'ok' && failure === null) return mode === 'processor' ? 'pin-generated' : 'pin-set';
  if (outcome?.status === 'error') return 'rejected';
  if (isOutcomeUnknown(failure?.code)) return 'outcome-unknown';
  return 'failed';
}
