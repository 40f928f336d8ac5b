/**
 * A Start at the desk, decided before the Station runs it: who starts it, whether a dual-control rule needs a
 * supervisor's approval first (the window then asks for one), and the approval taken for this Start and given
 * back if the Start does not go ahead. The approvals themselves are the desk's (approvals.ts).
 */
import { StationError } from '../../common/errors';
import type { ApprovalCredentials, ApprovalSsoRequest, StartOutcome, StartRequest } from '../../common/ipc';
import type { ApprovalDesk, ApprovalRequest } from './approvals';
import type { StaffSession } from './staff/session';
import type { Station } from './station';

export class StartDesk {
  constructor(
    private readonly station: Station,
    private readonly staff: StaffSession,
    /** Dual control; without it no Start needs an approval (tests that predate it). */
    private readonly approvals?: ApprovalDesk,
  ) {}

  /** The operator on record is the person signed in when Start was pressed. */
  async start(request: StartRequest): Promise<StartOutcome> {
    const { station, staff, approvals } = this;
    // A pending policy applies before the approval rules are judged, not only inside start().
    station.settleSettings();
    const epoch = staff.epoch;
    const operator = staff.requirePinSetter().username;
    const cardId = station.checkCardId(request.cardId);
    // Dual control: a rule that applies stops the Start before the pad opens; the window asks a supervisor.
    const requirement = approvals?.requirement(cardId, request.mode) ?? null;
    if (requirement && request.approval === undefined) {
      return { started: false, approvalRequired: { rule: requirement.rule, reasonRequired: requirement.reasonRequired } };
    }
    // Taken now, so a second Start with the same ID is refused even while this one waits on the keychain.
    const grant = request.approval !== undefined && approvals ? approvals.take(request.approval, cardId, request.mode, operator) : null;
    try {
      await station.start(request, operator, () => staff.epoch === epoch, grant);
    } catch (error) {
      if (grant) approvals?.putBack(grant);
      throw error;
    }
    return { started: true };
  }

  /** A supervisor's approval by password (and code), over the operator's shoulder. */
  approve(credentials: ApprovalCredentials): Promise<{ approval: string }> {
    const approvals = this.requireApprovals();
    const request = this.approvalRequest(credentials);
    return approvals.approveWithPassword(request, credentials.username, credentials.password, credentials.code).then((approval) => ({ approval }));
  }

  /** A supervisor's approval by single sign-on. */
  approveSso(sso: ApprovalSsoRequest): Promise<{ approval: string }> {
    const approvals = this.requireApprovals();
    return approvals.approveWithSso(this.approvalRequest(sso)).then((approval) => ({ approval }));
  }

  private requireApprovals(): ApprovalDesk {
    if (!this.approvals) throw new StationError('INVALID_REQUEST', 'This Start needs no approval.');
    return this.approvals;
  }

  /** What is approved: this card, this action, for the person signed in, judged by the settings the Start runs under. */
  private approvalRequest(asked: ApprovalSsoRequest): ApprovalRequest {
    this.station.settleSettings();
    return { cardId: this.station.checkCardId(asked.cardId), mode: asked.mode, operator: this.staff.requirePinSetter(), reason: asked.reason };
  }
}
