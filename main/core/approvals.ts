/**
 * Dual control at the desk (docs/architecture.md, "Dual control"): which
 * Starts need a supervisor's approval, capturing it in the operator window
 * before the pad opens, and handing it to exactly one Start.
 *
 * An approval is a grant held here in main: a random ID bound to the action
 * (the PIN mode), the card ID, the operator and the approver; single-use,
 * valid for `approval.validitySeconds` (at most 120). The window only ever
 * holds its ID. The approver must hold `supervisor` and must not be the
 * operator; a wrong password counts towards the approver's lockout.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { StationError, toErrorInfo } from '../../common/errors';
import type { PinMode } from '../../common/domain';
import { normaliseUsername } from '../../common/staff';
import type { ApprovalRequirement, ApprovalRule } from '../../common/staff';
import { AUDIT_OUTCOMES } from './audit';
import type { AuditApprovalEntry, AuditLine, AuditOutcome, AuditStaffEntry, SecondFactor } from './audit';
import { MAX_REPEAT_WINDOW_HOURS } from './config';
import type { StationConfig } from './config';
import { stampRecordAs } from './station-records';
import type { RecordStamp } from './station-records';
import type { Logger } from './log';
import { silentLogger } from './log';
import { UNKNOWN_USERNAME } from './staff/accounts';
import type { LocalAccountStore } from './staff/accounts';
import { samePerson } from './staff/session';
import type { SsoProvider, StaffIdentity } from './staff/session';

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

/** A granted approval, as main keeps it. */
export interface Grant {
  readonly id: string;
  readonly rule: ApprovalRule;
  readonly cardId: string;
  readonly mode: PinMode;
  readonly operator: string;
  readonly approver: string;
  readonly method: 'password' | 'sso';
  readonly reason: string | null;
  /** The earlier attempt the rule refers to (repeat, after-outcome-unknown), linked from the new record. */
  readonly previousAttempt: number | null;
  readonly expiresAt: number;
  /** The approver's second factor, when one was checked. */
  readonly factor?: SecondFactor;
}

/** An unused grant, with its expiry timer. */
type Held = Grant & { timer: NodeJS.Timeout };

export interface ApprovalAuditSink {
  append(entry: AuditApprovalEntry | AuditStaffEntry): Promise<unknown>;
}

export interface ApprovalDeskDeps {
  readonly config: StationConfig;
  readonly history: CardHistory;
  readonly accounts?: LocalAccountStore;
  /** A fresh single-sign-on login (prompt=login, max_age=0) for the approver. */
  readonly sso?: SsoProvider;
  readonly audit?: ApprovalAuditSink;
  readonly sandbox?: boolean;
  readonly log?: Logger;
  readonly now?: () => number;
}

export interface ApprovalRequest {
  readonly cardId: string;
  readonly mode: PinMode;
  readonly operator: StaffIdentity;
  readonly reason: string;
}

const REASON_MAX = 500;

export class ApprovalDesk {
  private readonly grants = new Map<string, Held>();
  /** Grants taken by a Start that is under way: used once the request is sent, dropped if the entry ends. */
  private readonly inUse = new Map<string, Grant>();
  /** IDs of grants that expired unused, so a late Start hears "expired", not "never given" (bounded). */
  private readonly expired = new Set<string>();
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly deps: ApprovalDeskDeps) {
    this.log = deps.log ?? silentLogger;
    this.now = deps.now ?? Date.now;
  }

  /** The rule that makes this Start need an approval, or null. The first that applies, most specific first. */
  requirement(cardId: string, mode: PinMode): (ApprovalRequirement & { readonly previousAttempt: number | null }) | null {
    const rules = new Set(this.deps.config.approval.require);
    const last = this.deps.history.last(cardId);
    if (rules.has('after-outcome-unknown') && last?.outcome === 'outcome-unknown') {
      return { rule: 'after-outcome-unknown', reasonRequired: true, previousAttempt: last.seq ?? null };
    }
    const lastSet = this.deps.history.lastPossibleSet(cardId);
    const windowMs = this.deps.config.approval.repeatWindowHours * 3_600_000;
    if (rules.has('repeat') && lastSet !== undefined && this.now() - lastSet.time < windowMs) {
      return { rule: 'repeat', reasonRequired: true, previousAttempt: lastSet.seq ?? null };
    }
    if (rules.has('processor-generated') && mode === 'processor') return { rule: 'processor-generated', reasonRequired: false, previousAttempt: null };
    if (rules.has('every-set')) return { rule: 'every-set', reasonRequired: false, previousAttempt: null };
    return null;
  }

  /** Over-the-shoulder approval with the supervisor's user name and password. Resolves to the grant's ID. */
  async approveWithPassword(request: ApprovalRequest, typedApprover: string, password: string, code = ''): Promise<string> {
    const requirement = this.checkRequest(request);
    const approverName = normaliseUsername(typedApprover);
    if (approverName === normaliseUsername(request.operator.username)) {
      await this.refuse(request, requirement.rule, approverName, 'password', 'APPROVAL_SELF');
      throw new StationError('APPROVAL_SELF');
    }
    const accounts = this.deps.accounts;
    if (!accounts) throw new StationError('INVALID_REQUEST', 'This station approves with single sign-on.');
    // The check counts a wrong password or code towards the approver's own lockout; the code must be from the
    // approver's own authentication app, so one read off the operator's phone is refused.
    const { lockout, mfa } = this.deps.config.auth;
    const result = await accounts.checkSignIn(typedApprover, password, code, lockout, mfa);
    if (!result.ok) {
      const recorded = result.known ? approverName : UNKNOWN_USERNAME;
      await this.refuse(request, requirement.rule, recorded, 'password', result.recorded ?? result.code);
      if (result.lockedNow) await this.recordLockout(recorded);
      if (result.code === 'ACCOUNT_LOCKED_OUT') {
        const minutes = Math.max(1, Math.ceil(((result.lockedUntil ? Date.parse(result.lockedUntil) : this.now()) - this.now()) / 60_000));
        throw new StationError('ACCOUNT_LOCKED_OUT', `Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, minutes);
      }
      throw new StationError(result.code);
    }
    return this.grant(
      request,
      requirement,
      {
        username: result.account.username,
        displayName: result.account.displayName,
        roles: result.account.roles,
        ...(result.factor ? { factor: result.factor } : {}),
      },
      'password',
    );
  }

  /** Approval by a fresh single-sign-on login of the supervisor. */
  async approveWithSso(request: ApprovalRequest): Promise<string> {
    const requirement = this.checkRequest(request);
    const sso = this.deps.sso;
    if (!sso) throw new StationError('INVALID_REQUEST', 'This station approves with a password.');
    let approver: StaffIdentity;
    try {
      approver = await sso.signIn();
    } catch (error) {
      const code = toErrorInfo(error).code;
      if (code !== 'SSO_CANCELLED') await this.refuse(request, requirement.rule, '(single sign-on)', 'sso', code);
      throw error;
    }
    // The provider's subject decides, never a user-name claim the person might change.
    if (samePerson(approver, request.operator)) {
      await this.refuse(request, requirement.rule, approver.username, 'sso', 'APPROVAL_SELF');
      throw new StationError('APPROVAL_SELF');
    }
    return this.grant(request, requirement, approver, 'sso');
  }

  /**
   * Takes the grant for this Start, so no other Start can use it: it must exist, be unused and unexpired, be
   * bound to this card, mode and operator, and answer the rule that applies now (the card's history may have
   * changed since it was given). Give it back with putBack() if the Start does not go ahead.
   */
  take(id: string, cardId: string, mode: PinMode, operator: string): Grant {
    const held = this.grants.get(id);
    if (!held && this.expired.has(id)) throw new StationError('APPROVAL_EXPIRED');
    if (!held) throw new StationError('APPROVAL_INVALID', 'It was already used, or never given.');
    if (held.expiresAt <= this.now()) {
      this.expire(held.id);
      throw new StationError('APPROVAL_EXPIRED');
    }
    if (held.cardId !== cardId || held.mode !== mode || normaliseUsername(held.operator) !== normaliseUsername(operator)) {
      throw new StationError('APPROVAL_INVALID', 'It was given for another card, action or operator.');
    }
    const now = this.requirement(cardId, mode);
    if (!now || now.rule !== held.rule || now.previousAttempt !== held.previousAttempt) {
      throw new StationError('APPROVAL_INVALID', 'The card’s situation changed since it was given: ask for a new one.');
    }
    clearTimeout(held.timer);
    this.grants.delete(id);
    const { timer: _timer, ...grant } = held;
    this.inUse.set(id, grant);
    return grant;
  }

  /** A Start that took a grant did not go ahead (keychain, trail, a lock): the grant is usable again until it expires. */
  putBack(grant: Grant): void {
    if (!this.inUse.delete(grant.id)) return;
    const left = grant.expiresAt - this.now();
    const timer = setTimeout(() => this.expire(grant.id), Math.max(0, left));
    timer.unref?.();
    this.grants.set(grant.id, { ...grant, timer });
  }

  /**
   * The last check, in main, when the request is about to be sent: the grant must still be the one taken for
   * this Start (not given back, not dropped by a quit) and bound to this card, action and operator. Uses it up.
   */
  confirmAtSend(grant: Grant, cardId: string, mode: PinMode, operator: string): void {
    const taken = this.inUse.get(grant.id);
    if (taken !== grant || taken.cardId !== cardId || taken.mode !== mode || taken.operator !== operator) {
      throw new StationError('APPROVAL_INVALID', 'It is no longer held for this request. Nothing was sent.');
    }
    this.inUse.delete(grant.id);
  }

  /** The Start's entry ended without a request (cancelled, timed out, locked): the grant is used up. */
  discard(grant: Grant): void {
    this.inUse.delete(grant.id);
  }

  dispose(): void {
    for (const grant of this.grants.values()) clearTimeout(grant.timer);
    this.grants.clear();
    this.inUse.clear();
  }

  private checkRequest(request: ApprovalRequest): ApprovalRequirement {
    const requirement = this.requirement(request.cardId, request.mode);
    if (!requirement) throw new StationError('INVALID_REQUEST', 'This Start needs no approval.');
    const reason = request.reason.trim();
    if (requirement.reasonRequired && reason === '') throw new StationError('APPROVAL_REASON_REQUIRED');
    // No control, format (bidi overrides, zero-width) or line-separator characters: a reason is read in exports.
    if (reason.length > REASON_MAX || /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(reason)) {
      throw new StationError('INVALID_REQUEST', `A reason has at most ${REASON_MAX} characters and no control or invisible characters.`);
    }
    return requirement;
  }

  private async grant(
    request: ApprovalRequest,
    requirement: ApprovalRequirement & { previousAttempt?: number | null },
    approver: StaffIdentity,
    method: 'password' | 'sso',
  ): Promise<string> {
    if (!approver.roles.includes('supervisor')) {
      await this.refuse(request, requirement.rule, approver.username, method, 'APPROVAL_ROLE');
      throw new StationError('APPROVAL_ROLE');
    }
    const reason = request.reason.trim() || null;
    const id = randomBytes(32).toString('base64url');
    const validityMs = this.deps.config.approval.validitySeconds * 1000;
    const grant: Grant = {
      id,
      rule: requirement.rule,
      cardId: request.cardId,
      mode: request.mode,
      operator: request.operator.username,
      approver: approver.username,
      method,
      reason,
      previousAttempt: requirement.previousAttempt ?? null,
      expiresAt: this.now() + validityMs,
      ...(approver.factor ? { factor: approver.factor } : {}),
    };
    // Nothing is granted unless the grant is on record.
    await this.record('granted', grant, null).catch((error: unknown) => {
      throw error instanceof StationError ? error : new StationError('AUDIT_FAILED');
    });
    const timer = setTimeout(() => this.expire(id), validityMs);
    timer.unref?.();
    this.grants.set(id, { ...grant, timer });
    this.log.info('approval.granted', { cardId: grant.cardId, rule: grant.rule, operator: grant.operator, approver: grant.approver });
    return id;
  }

  private expire(id: string): void {
    const grant = this.grants.get(id);
    if (!grant) return;
    clearTimeout(grant.timer);
    this.grants.delete(id);
    this.expired.add(id);
    if (this.expired.size > 1000) this.expired.delete(this.expired.values().next().value as string);
    this.log.info('approval.expired', { cardId: grant.cardId, rule: grant.rule });
    void this.record('expired', grant, 'APPROVAL_EXPIRED').catch(() => this.log.error('audit.failed', { approvalEvent: 'expired' }));
  }

  private async recordLockout(username: string): Promise<void> {
    await this.deps.audit
      ?.append(stampRecordAs(this.stamp(), { type: 'staff', event: 'lockout', username, provider: 'local', reason: 'approval' }))
      .catch(() => this.log.error('audit.failed', { approvalEvent: 'lockout' }));
  }

  private async refuse(request: ApprovalRequest, rule: ApprovalRule, approver: string, method: 'password' | 'sso', code: string): Promise<void> {
    this.log.warn('approval.refused', { cardId: request.cardId, rule, code });
    await this.record(
      'refused',
      { rule, cardId: request.cardId, operator: request.operator.username, approver, method, reason: request.reason.trim() || null },
      code,
    ).catch(() => this.log.error('audit.failed', { approvalEvent: 'refused' }));
  }

  private async record(
    event: AuditApprovalEntry['event'],
    grant: Pick<Grant, 'rule' | 'cardId' | 'operator' | 'approver' | 'method' | 'reason' | 'factor'>,
    errorCode: string | null,
  ): Promise<void> {
    await this.deps.audit?.append(
      stampRecordAs(this.stamp(), {
        type: 'approval',
        event,
        rule: grant.rule,
        cardId: grant.cardId,
        operator: grant.operator,
        approver: grant.approver,
        method: grant.method,
        reason: grant.reason,
        errorCode,
        ...(grant.factor && event === 'granted' ? { factor: grant.factor } : {}),
      }),
    );
  }

  /** The settings in effect name the station; whether it practises was fixed at start (deps.sandbox). */
  private stamp(): RecordStamp {
    return { stationId: this.deps.config.station.id, sandbox: this.deps.sandbox };
  }
}
