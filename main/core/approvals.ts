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
import { StationError, toErrorInfo } from '../../common/errors';
import type { PinMode } from '../../common/domain';
import { normaliseUsername } from '../../common/staff';
import type { ApprovalRequirement, ApprovalRule } from '../../common/staff';
import type { AuditApprovalEntry, AuditStaffEntry, SecondFactor } from './audit';
import type { CardHistory } from './card-history';
import type { StationConfig } from './config';
import { stampRecordAs } from './station-records';
import type { RecordStamp } from './station-records';
import type { Logger } from './log';
import { silentLogger } from './log';
import { UNKNOWN_USERNAME } from './staff/accounts';
import type { LocalAccountStore } from './staff/accounts';
import { samePerson } from './staff/session';
import type { SsoProvider, StaffIdentity } from './staff/session';

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
