/**
 * The station's state machine: one card at a time, from the operator's Start through the cardholder's entry to
 * the processor's answer. Plain Node; the Electron adapter and the test harness both drive it through IpcRouter.
 * The state and its transitions are in station-state.ts; what the windows see is built by station-view.ts, what
 * the trail gets by station-records.ts (and station-pending.ts for outcomes not yet on record), and the keys are
 * checked by station-keys.ts. This file moves the state from one kind to the next.
 */
import { StationError, toErrorInfo } from '../../common/errors';
import type { StationErrorInfo } from '../../common/errors';
import type { OperatorView, PinpadView, StartRequest } from '../../common/ipc';
import type { Language } from '../../common/domain';
import { checkedCardId } from '../../common/card-id';
import { isValidPan } from '../../common/pan';
import type { AuditLine } from './audit';
import type { Grant } from './approvals';
import type { Logger } from './log';
import { silentLogger } from './log';
import { isWeakPinCode } from './pin-session';
import type { Card, Resting, State } from './station-state';
import type { Entry, EntryClock } from './station-entry';
import { endEntry, restartInactivityTimer, startEntry } from './station-entry';
import { IDLE, isBetweenCards, isBusy, shownState, withoutAuditError, withShown } from './station-state';
import { NO_STAFF_VIEW, operatorView, pinpadView } from './station-view';
import { auditFailure, auditOutcomeOf, StationRecords } from './station-records';
import { sendRequest } from './station-request';
import { closeInterruptedAttempts, PendingOutcome } from './station-pending';
import { StationKeys } from './station-keys';
import { StationAudio } from './station-audio';
import type { StationDeps } from './station-deps';

export type { AuditSink } from './station-records';
export type { StationDeps, StationViewSink } from './station-deps';
export { NO_STAFF_VIEW } from './station-view';

export class Station {
  private state: State = IDLE;
  private inFlight: Promise<void> | null = null;
  /** PinpadView.revision: counts the pad views published. */
  private padRevision = 0;
  private readonly audio: StationAudio;
  /** Set by beginClose(): a Start still waiting on the keychain or the trail must not go on to send. */
  private closing = false;
  /** Cards whose request was under way when the station last stopped (closed at start-up as outcome unknown). */
  private interruptedCards: string[] = [];
  private readonly log: Logger;
  private readonly pending: PendingOutcome;
  private readonly records: StationRecords;
  private readonly keys: StationKeys;
  private readonly clock: EntryClock = { timeout: (entry) => this.timeout(entry), tick: () => this.publish() };

  constructor(private readonly deps: StationDeps) {
    this.log = deps.log ?? silentLogger;
    this.pending = new PendingOutcome(deps, this.log, () => {
      // The outcome shown beside its warning is on record now: the warning goes, and the pending-outcome one too.
      this.state = withoutAuditError(this.state);
      this.publish();
    });
    this.records = new StationRecords(deps, this.log, this.pending);
    this.keys = new StationKeys(deps, this.log, this.records);
    this.audio = new StationAudio(() => deps.config);
  }

  operatorView(): OperatorView {
    return operatorView(this.state, {
      config: this.deps.config,
      interruptedCards: this.interruptedCards,
      auditOutcomePending: this.pending.card(),
      auditShippingDelayedSince: this.deps.auditShippingDelayedSince?.() ?? null,
      managedSettings: this.deps.managedSettings ?? [],
      staff: this.deps.staffView?.() ?? NO_STAFF_VIEW,
      processorKey: this.keys.processorKey,
      audio: this.audio,
    });
  }

  /** The pad's report on its audio output; gone during an audio entry, the entry ends: its cardholder hears nothing. */
  noteAudioDevice(found: boolean): void {
    const folderChanged = this.audio.lookAtVoiceFolder();
    if (this.audio.deviceFound === found && !folderChanged) return;
    this.audio.deviceFound = found;
    if (!found && this.state.kind === 'awaiting-pin' && this.state.card.audio) this.interruptEntry('PIN_CANCELLED');
    this.publishOperator();
  }

  pinpadView(): PinpadView {
    return pinpadView(this.state, this.deps.config, this.padRevision, this.audio.cardholderLanguage, !this.audio.outcomeCueReported);
  }

  /** The cardholder chose a language on the pad (validated by the router): an audio entry's cues speak it. */
  noteCardholderLanguage(language: Language): void {
    this.audio.cardholderLanguage = language;
  }

  /** The pad's report that it spoke the final outcome; passed on to what waits for it. */
  outcomeCuePlayed(): void {
    this.audio.outcomeCueReported = true;
    this.deps.views.outcomeCuePlayed?.();
  }

  /**
   * A settings change that waited for the last card (or a Start that failed) takes effect now, if no card is under
   * way: whatever judges a Start (its card ID, the approval rules) must judge it by the settings the Start runs under.
   */
  settleSettings(): void {
    if (this.isBetweenCards()) this.deps.betweenCards?.();
  }

  /** A card ID as the operator typed it, trimmed and checked against the station's rule; CARD_ID_INVALID otherwise. */
  checkCardId(typed: string): string {
    // The rule as configured now: a policy may change it between cards.
    return checkedCardId(typed, this.deps.config.operator.cardIdPattern);
  }

  /**
   * Operator's Start, by `operator` (the person signed in). Checks the card ID and the keychain before anyone
   * types a PIN. `stillAllowed` is asked again after those waits: a lock or sign-out meanwhile stops it.
   */
  async start(request: StartRequest, operator: string, stillAllowed: () => boolean = () => true, approval: Grant | null = null): Promise<void> {
    const from = this.state;
    if (from.kind !== 'idle' && from.kind !== 'done' && from.kind !== 'failed') throw new StationError('SESSION_BUSY');
    this.deps.betweenCards?.();
    const starting: State = { kind: 'starting', shown: from };
    this.state = starting;
    try {
      await this.startNow(request, operator, stillAllowed, approval);
    } finally {
      // A Start that did not go ahead leaves the screen as it was (or as the session's end or a next card left it).
      const now = this.state;
      if (now.kind === 'starting') this.state = now.shown;
    }
  }

  private async startNow(request: StartRequest, operator: string, stillAllowed: () => boolean, approval: Grant | null): Promise<void> {
    const cardId = this.checkCardId(request.cardId);
    const audio = request.audio === true && request.mode === 'customer';
    // The voice folder is looked at again now: the bank's voice, not the built-in one, is what this card must hear.
    if (audio && this.audio.lookAtVoiceFolder()) this.publishOperator();
    if (audio && !this.audio.availability().available) {
      throw new StationError('INVALID_REQUEST', 'Audio guidance is not available on this station now.');
    }
    // An outcome not yet on record comes first: it is tried once more now, and nothing starts until it lands.
    if (!(await this.pending.flush())) throw new StationError('AUDIT_PENDING');
    let pan: string | null = null;
    if (request.mode === 'customer' && this.deps.config.profile === 'iso4') {
      pan = (request.pan ?? '').replace(/[\s-]/g, '');
      if (!isValidPan(pan)) throw new StationError('PAN_INVALID');
    }
    await this.keys.checkAtStart(request.mode, () => this.publishOperator());
    // No PIN is taken if its outcome could not be recorded.
    if (this.deps.audit) await this.deps.audit.check().catch((error: unknown) => Promise.reject(auditFailure(error)));
    // Re-check: the station may be closing, or the screen locked, while the keychain answered.
    if (this.closing) throw new StationError('STATION_CLOSING');
    if (!stillAllowed()) throw new StationError('SESSION_LOCKED', 'The session changed before the PIN pad opened. Nothing was started.');
    if (this.state.kind !== 'starting') throw new StationError('SESSION_BUSY');
    const card: Card = { cardId, mode: request.mode, operator, approval, audio };
    this.log.info('session.start', { cardId, mode: request.mode, profile: this.deps.config.profile, operator });
    if (request.mode === 'processor') {
      this.inFlight = this.send(card, null, null);
      return;
    }
    const entry = startEntry(this.deps.config, this.deps.random, pan, this.clock, audio);
    this.state = { kind: 'awaiting-pin', card, entry };
    this.publish();
  }

  /** Operator's Cancel: allowed while the cardholder is entering, not once the request is out. */
  cancel(): void {
    if (this.state.kind !== 'awaiting-pin') throw new StationError('NO_SESSION');
    this.abandon(new StationError('PIN_CANCELLED').toInfo());
  }

  nextCard(): void {
    // During entry the operator cancels first, so the session ends with its audit record.
    if (isBusy(this.state)) throw new StationError('SESSION_BUSY');
    this.showResting(IDLE);
  }

  press(position: number): PinpadView {
    return this.padAction((entry) => entry.session.press(position));
  }

  erase(): PinpadView {
    return this.padAction((entry) => entry.session.erase());
  }

  clear(): PinpadView {
    return this.padAction((entry) => entry.session.clear());
  }

  submit(): PinpadView {
    return this.padAction((entry, card) => {
      const result = entry.session.submit();
      if (result.kind !== 'complete') return;
      const pan = entry.pan;
      endEntry(entry);
      this.inFlight = this.send(card, result.digits, pan);
    });
  }

  /** Ends PIN entry from outside the pad (its window lost focus for too long, the app is quitting). */
  interruptEntry(code: 'PIN_TIMEOUT' | 'PIN_CANCELLED'): void {
    if (this.state.kind !== 'awaiting-pin') return;
    this.abandon(new StationError(code).toInfo());
  }

  padCancel(): void {
    if (this.state.kind !== 'awaiting-pin') throw new StationError('NO_SESSION');
    this.abandon(new StationError('PIN_CANCELLED').toInfo());
  }

  /**
   * The person's session ended (signed out, or another person took over): nothing of the last card stays on
   * screen for the next person. An entry is cancelled; a finished outcome goes; a request still in flight
   * shows its outcome when it comes (it is on record under the operator who started it).
   */
  endOfSession(): void {
    this.interruptEntry('PIN_CANCELLED');
    const state = this.state;
    if (state.kind === 'recording') this.state = { ...state, then: 'clear' };
    const shown = shownState(state);
    if (shown.kind === 'done' || shown.kind === 'failed') this.showResting(IDLE);
  }

  /** From now on no Start goes ahead, including one already waiting on the keychain or the trail. */
  beginClose(): void {
    this.closing = true;
  }

  /** Resolves when the request in flight (if any) has its outcome and its record; for shutdown and tests. */
  async settled(): Promise<void> {
    // A request can follow a record (or the reverse) while we wait: wait until nothing new is in flight.
    for (let current = this.inFlight; ;) {
      await current;
      if (this.inFlight === current) return;
      current = this.inFlight;
    }
  }

  /** Wipes an entry in progress without recording it; for teardown after close. */
  dispose(): void {
    this.pending.dispose();
    if (this.state.kind !== 'awaiting-pin') return;
    endEntry(this.state.entry);
    this.state = IDLE;
  }

  /** Startup check: the token and the key the profile needs are present and well-formed. */
  async preflight(): Promise<void> {
    await this.keys.preflight();
  }

  /**
   * At start-up: every attempt in the trail without an outcome was cut short by a stop (crash, power loss,
   * kill) during its request. Each is closed now by an outcome-unknown record, and the next person is told.
   */
  async closeInterruptedAttempts(records: readonly AuditLine[]): Promise<void> {
    this.interruptedCards.push(...(await closeInterruptedAttempts(this.deps, this.log, records)));
  }

  /** At quit: one more try to record a kept outcome (it stays on disk for the next start if this fails too). */
  async retryUnrecorded(): Promise<boolean> {
    return this.pending.flush();
  }

  /** The card whose outcome is not yet on record (kept beside the trail), or null. */
  unrecordedCard(): string | null {
    return this.pending.card();
  }

  /** At start-up: an outcome the last run kept beside the trail is recorded now (station-pending.ts). */
  async recoverPendingOutcome(open: ReadonlySet<string>): Promise<string | null> {
    return this.pending.recover(open);
  }

  /** No card in progress and no Start under way: a new policy may apply now. */
  isBetweenCards(): boolean {
    return isBetweenCards(this.state);
  }

  /** The operator window's view changed for a reason outside the card (the staff session). */
  publishOperator(): void {
    try {
      this.deps.views.operator(this.operatorView());
    } catch {
      this.log.warn('view.publish-failed', { window: 'operator' });
    }
  }

  /** Nothing under way: the screen shows `next` (a Start still waiting on the keychain shows it too). */
  private showResting(next: Resting): void {
    this.state = withShown(this.state, next);
    this.publish();
  }

  private padAction(action: (entry: Entry, card: Card) => void): PinpadView {
    const state = this.state;
    if (state.kind !== 'awaiting-pin') throw new StationError('NO_SESSION');
    const { entry, card } = state;
    entry.notice = null;
    try {
      action(entry, card);
    } catch (error) {
      if (!(error instanceof StationError)) {
        this.abandon(toErrorInfo(error));
        throw error;
      }
      // Policy feedback goes to the pad; it names a rule, never a digit.
      entry.notice = error.toInfo();
      // Which weak-PIN rule fired would narrow the rejected candidate, so the log keeps only that a policy refused it.
      this.log.info('pad.notice', { cardId: card.cardId, code: isWeakPinCode(error.code) ? 'PIN_POLICY' : error.code });
    }
    if (this.state === state) {
      this.log.debug('pad.progress', { step: entry.session.step, count: entry.session.count });
      restartInactivityTimer(entry, this.deps.config, this.clock);
    }
    this.publish();
    return this.pinpadView();
  }

  private async send(card: Card, digits: Uint8Array | null, pan: string | null): Promise<void> {
    this.state = { kind: 'sending', card };
    this.publish();
    const { outcome, failure, attemptId } = await sendRequest({ deps: this.deps, log: this.log, records: this.records, keys: this.keys }, card, digits, pan);
    // Still 'sending' (busy) until the record is on disk; only then is the outcome shown. When the attempt record
    // itself failed, nothing was sent and there is nothing more to record: the operator sees why.
    const auditError =
      attemptId === null
        ? null
        : await this.records.outcome(card, auditOutcomeOf(card.mode, outcome, failure), outcome?.requestStatus ?? null, failure?.code ?? null, attemptId);
    if (outcome !== null && failure === null) this.state = { kind: 'done', card, outcome, auditError };
    else this.state = { kind: 'failed', card, outcome, error: failure ?? new StationError('INTERNAL').toInfo(), auditError };
    this.publish();
  }

  private abandon(reason: StationErrorInfo): void {
    const state = this.state;
    if (state.kind !== 'awaiting-pin') return;
    const { card, entry } = state;
    this.log.info('session.end', { cardId: card.cardId, code: reason.code });
    // The approval was for this entry, which ended without a request: it cannot start another.
    if (card.approval) this.deps.approvals?.discard(card.approval);
    endEntry(entry);
    if (!this.deps.audit) {
      this.state = { kind: 'failed', card, outcome: null, error: reason, auditError: null };
      return this.publish();
    }
    this.state = { kind: 'recording', card, error: reason, then: 'show' };
    // The pad goes blank at once; the operator sees the end once it is recorded.
    this.publishPad();
    const outcome = reason.code === 'PIN_TIMEOUT' ? 'timeout' : reason.code === 'PIN_CANCELLED' ? 'cancelled' : 'failed';
    this.inFlight = this.records.outcome(card, outcome, null, reason.code).then((auditError) => {
      // The session it belonged to may have ended meanwhile: then nothing of it is shown to the next person.
      const cleared = this.state.kind === 'recording' && this.state.then === 'clear' && auditError === null;
      this.state = cleared ? IDLE : { kind: 'failed', card, outcome: null, error: reason, auditError };
      this.publish();
    });
  }

  private timeout(entry: Entry): void {
    if (this.state.kind !== 'awaiting-pin' || this.state.entry !== entry) return;
    this.abandon(new StationError('PIN_TIMEOUT').toInfo());
  }

  private publish(): void {
    if (this.isBetweenCards()) this.deps.betweenCards?.();
    this.publishPad();
    try {
      this.deps.views.operator(this.operatorView());
    } catch {
      // A window that cannot take an update must not stop the state machine.
      this.log.warn('view.publish-failed', { window: 'operator' });
    }
  }

  private publishPad(): void {
    this.padRevision++;
    const view = this.pinpadView();
    if (view.active) this.audio.outcomeCueReported = false;
    // As the page does, the choice goes back to the default once no entry is on the pad; an audio entry's language
    // stays until its final outcome has gone out (the pad may reload before the processor answers).
    if (!view.active && view.audio.outcome !== 'sent') this.audio.cardholderLanguage = null;
    try {
      this.deps.views.pinpad(view);
    } catch {
      this.log.warn('view.publish-failed', { window: 'pinpad' });
    }
  }
}
