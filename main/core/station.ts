/**
 * The station's state machine: one card at a time, from the operator's Start
 * through the cardholder's entry to the processor's answer. Plain Node; the
 * Electron adapter and the test harness both drive it through IpcRouter.
 *
 * The state is one tagged union (docs/architecture.md, "The Station"), so a
 * combination such as "entry in progress and an outcome shown" cannot be
 * written down:
 *
 *   idle --start(customer)--> awaiting-pin --OK twice--> sending --> done | failed
 *   idle --start(processor)--------------------------> sending
 *   awaiting-pin --cancel | timeout | focus lost--> recording --> failed
 *   done | failed --next card--> idle;  done | failed --start--> (as from idle)
 *
 * `sending` lasts until the outcome is on disk in the audit trail, and
 * `recording` until an ended entry is: only then does the operator see it.
 */
import { StationError, toErrorInfo } from '../../common/errors';
import type { StationErrorInfo } from '../../common/errors';
import type { OperatorView, PinpadView, ProcessorOutcome, StartRequest } from '../../common/ipc';
import type { PinMode } from '../../common/domain';
import type { StaffView } from '../../common/staff';
import { isOutcomeUnknown, PRINTABLE_TOKEN } from '../../common/domain';
import { randomUUID } from 'node:crypto';
import { CARD_ID_PATTERN, compileCardIdPattern } from '../../common/card-id';
import { isValidPan } from '../../common/pan';
import { checkProfileKey, encryptPin } from '../crypto/profiles';
import type { KeyReader, ProcessorKeyRules } from '../crypto/profiles';
import { assertProcessorKeyUsable, daysToExpiry } from '../crypto/processor-key';
import type { ProcessorKey } from '../crypto/processor-key';
import { promoteNextProcessorKey } from './processor-key-rotation';
import type { CardApi } from './card-api-client';
import type { StationConfig } from './config';
import { SANDBOX_BASE_URL } from './config';
import type { KeyStore } from './keystore';
import type { AuditEntry, AuditInput, AuditLine, TrailVisitor } from './audit';
import { closeOpenAttempts } from './audit';
import type { CardHistory, Grant } from './approvals';
import type { Logger } from './log';
import { silentLogger } from './log';
import { requireEntry } from './keystore';
import { FIXED_LAYOUT, PinSession } from './pin-session';
import type { RandomSource } from './pin-session';

export interface StationViewSink {
  operator(view: OperatorView): void;
  pinpad(view: PinpadView): void;
}

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
  export?(format: 'csv' | 'json', stationId?: string): Promise<{ readonly text: string; readonly records: number }>;
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

/** What the operator window shows before a staff session exists (tests that build a Station alone). */
export const NO_STAFF_VIEW: StaffView = {
  state: 'signed-out',
  provider: 'local',
  codeRequired: true,
  username: null,
  displayName: null,
  roles: [],
  idleLockInSeconds: null,
  notice: null,
  practiceAccounts: [],
};

export interface StationDeps {
  readonly config: StationConfig;
  readonly keyStore: KeyStore;
  readonly cardApi: CardApi;
  readonly views: StationViewSink;
  readonly random?: RandomSource;
  readonly log?: Logger;
  readonly audit?: AuditSink;
  /** The staff session's part of the operator view. */
  readonly staffView?: () => StaffView;
  /** Settings the managed policy sets (dotted paths), for the operator window's marks. */
  readonly managedSettings?: readonly string[];
  /** Told whenever no card is in progress (and at each Start, before it reads a setting): a new policy applies then. */
  readonly betweenCards?: () => void;
  /** Since when shipping the trail to the SIEM has been failing (ISO time), once that is worth telling; null otherwise. */
  readonly auditShippingDelayedSince?: () => string | null;
  /** Earlier attempts per card, kept up to date with every record (for the approval rules). */
  readonly history?: CardHistory;
  /** The approval desk's last check before a request goes out, and the end of a grant whose entry ended. */
  readonly approvals?: { confirmAtSend(grant: Grant, cardId: string, mode: PinMode, operator: string): void; discard(grant: Grant): void };
}

interface Card {
  readonly cardId: string;
  readonly mode: PinMode;
  /** Who pressed Start: the record names them even if they sign out before the answer comes. */
  readonly operator: string;
  /** The supervisor's approval this Start went ahead under, if a rule required one. */
  readonly approval: Grant | null;
  /** Audio guidance for this card (fixed keypad, keyboard input, spoken prompts on the pad's device). */
  readonly audio: boolean;
}

/** A cardholder's entry in progress: the digits (in the session), its timers and the pad's notice. */
interface Entry {
  readonly session: PinSession;
  /** Only for the iso4 profile; dropped as soon as the request is built, never shown or logged. */
  pan: string | null;
  notice: StationErrorInfo | null;
  inactivityTimer: NodeJS.Timeout | undefined;
  sessionTimer: NodeJS.Timeout | undefined;
  // Publishes once a second during entry so both windows can show the time left.
  ticker: NodeJS.Timeout | undefined;
  inactivityDeadline: number;
  sessionDeadline: number;
}

type State =
  | { readonly kind: 'idle' }
  | { readonly kind: 'awaiting-pin'; readonly card: Card; readonly entry: Entry }
  | { readonly kind: 'sending'; readonly card: Card }
  | { readonly kind: 'recording'; readonly card: Card; readonly error: StationErrorInfo }
  | { readonly kind: 'done'; readonly card: Card; readonly outcome: ProcessorOutcome; readonly auditError: StationErrorInfo | null }
  | {
      readonly kind: 'failed';
      readonly card: Card;
      readonly outcome: ProcessorOutcome | null;
      readonly error: StationErrorInfo;
      /** Set when the outcome could not be recorded; shown beside the outcome, never instead of it. */
      readonly auditError: StationErrorInfo | null;
    };

const IDLE: State = { kind: 'idle' };

export class Station {
  private state: State = IDLE;
  private inFlight: Promise<void> | null = null;
  /** PinpadView.revision: counts the pad views published. */
  private padRevision = 0;
  /** Whether the pad found the configured audio output device (it reports on load); guidance is refused until it does. */
  private audioDeviceFound = false;
  /** Set by beginClose(): a Start still waiting on the keychain or the trail must not go on to send. */
  private closing = false;
  /** Set when a session ended while an ended entry was being recorded: its outcome is not shown to the next person. */
  private clearWhenRecorded = false;
  /** An outcome whose record could not be written: kept, retried, and no Start goes ahead until it is on disk. */
  private unrecorded: AuditEntry | null = null;
  private unrecordedRetry: NodeJS.Timeout | undefined;
  private flushing: Promise<boolean> | null = null;
  /** Cards whose request was under way when the station last stopped (closed at start-up as outcome unknown). */
  private interruptedCards: string[] = [];

  private readonly log: Logger;
  private readonly readKey: KeyReader;
  /** A Start between its first check and the entry (it waits on the keychain): settings must not change then. */
  private starting = false;
  /** The processor's key as last read (public-key profile), for the operator window's expiry line. */
  private processorKey: ProcessorKey | null = null;

  constructor(private readonly deps: StationDeps) {
    this.log = deps.log ?? silentLogger;
    this.readKey = (account) => requireEntry(deps.keyStore, account);
  }

  operatorView(): OperatorView {
    const state = this.state;
    const card = state.kind === 'idle' ? null : state.card;
    return {
      // An ended entry being recorded already shows as failed (with its reason); the record follows.
      phase: state.kind === 'recording' ? 'failed' : state.kind,
      cardId: card?.cardId ?? null,
      mode: card?.mode ?? null,
      pad:
        state.kind === 'awaiting-pin'
          ? {
              step: state.entry.session.step,
              count: state.entry.session.count,
              secondsLeft: secondsLeft(state.entry),
              restarts: state.entry.session.restarts,
            }
          : null,
      outcome: state.kind === 'done' || state.kind === 'failed' ? state.outcome : null,
      error: state.kind === 'failed' || state.kind === 'recording' ? state.error : null,
      auditError: state.kind === 'done' || state.kind === 'failed' ? state.auditError : null,
      panRequired: this.deps.config.profile === 'iso4',
      cardIdPattern: this.deps.config.operator.cardIdPattern,
      language: this.deps.config.operator.language,
      usingSandboxProcessor: this.deps.config.processor.baseUrl === SANDBOX_BASE_URL,
      repeatWindowHours: this.deps.config.approval.repeatWindowHours,
      interruptedCards: [...this.interruptedCards],
      auditOutcomePending: this.unrecorded?.cardId ?? null,
      auditShippingDelayedSince: this.deps.auditShippingDelayedSince?.() ?? null,
      managedSettings: [...(this.deps.managedSettings ?? [])],
      staff: this.deps.staffView?.() ?? NO_STAFF_VIEW,
      processorKey: this.processorKeyView(),
      audio: { ...this.audioAvailability(), on: state.kind === 'awaiting-pin' && state.card.audio },
    };
  }

  /** Audio guidance needs the switch on, an output device named, and the pad to have found it: never the default device. */
  private audioAvailability(): Omit<OperatorView['audio'], 'on'> {
    const { enabled, outputDevice } = this.deps.config.pad.audio;
    const unavailableReason = !enabled ? 'disabled' : outputDevice === null ? 'no-device' : this.audioDeviceFound ? null : 'device-absent';
    return { available: unavailableReason === null, unavailableReason };
  }

  /** The pad's report on the configured output device (connected or not). */
  noteAudioDevice(found: boolean): void {
    if (this.audioDeviceFound === found) return;
    this.audioDeviceFound = found;
    this.publishOperator();
  }

  /** The pad's audio state: guidance for this card, and how its entry ended (what the last prompt says). */
  private padAudioView(): PinpadView['audio'] {
    const { enabled, outputDevice } = this.deps.config.pad.audio;
    const state = this.state;
    const card = state.kind === 'idle' ? null : state.card;
    const on = card?.audio === true;
    let outcome: PinpadView['audio']['outcome'] = null;
    if (on && state.kind === 'sending') outcome = 'sent';
    else if (on && state.kind === 'done') outcome = 'set';
    else if (on && (state.kind === 'failed' || state.kind === 'recording'))
      outcome = state.error.code === 'PIN_CANCELLED' ? 'cancelled' : state.error.code === 'PIN_TIMEOUT' ? 'timeout' : 'failed';
    return { on, outputDevice: enabled ? outputDevice : null, outcome };
  }

  private processorKeyView(): OperatorView['processorKey'] {
    const key = this.deps.config.profile === 'public-key' ? this.processorKey : null;
    if (key === null) return null;
    return { kcv: key.kcv, notAfter: key.notAfter?.toISOString() ?? null, daysLeft: daysToExpiry(key, new Date()) };
  }

  /** What the processor's key must satisfy now: the pin from config or policy, and its validity. */
  private processorKeyRules(): ProcessorKeyRules {
    return { pins: this.deps.config.processor.publicKeySha256, now: new Date() };
  }

  /** A staged next key whose notBefore has come becomes current, on record; then the current key is checked. */
  private async refreshProcessorKey(rules: ProcessorKeyRules | undefined): Promise<void> {
    if (this.deps.config.profile !== 'public-key') return;
    const promoted = await promoteNextProcessorKey(this.deps.keyStore, 'not-before', new Date(), async (entry) => {
      if (!this.deps.audit) return;
      await this.deps.audit
        .append({
          ...entry,
          stationId: this.deps.config.station.id,
          ...(this.deps.config.processor.baseUrl === SANDBOX_BASE_URL ? { processor: 'sandbox' as const } : {}),
        })
        .catch((error: unknown) => Promise.reject(this.auditFailure(error)));
    });
    if (promoted) this.log.info('processor-key.promoted', { cause: promoted.cause, oldKcv: promoted.oldKcv, newKcv: promoted.newKcv });
    this.processorKey = await checkProfileKey('public-key', this.readKey);
    if (rules && this.processorKey) assertProcessorKeyUsable(this.processorKey, rules.pins, rules.now);
  }

  pinpadView(): PinpadView {
    const entry = this.state.kind === 'awaiting-pin' ? this.state.entry : null;
    const { minLength, maxLength } = this.deps.config.pin;
    return {
      active: entry !== null,
      step: entry?.session.step ?? 'enter',
      count: entry?.session.count ?? 0,
      minLength,
      maxLength,
      layout: entry ? Array.from(entry.session.layout) : [...FIXED_LAYOUT],
      notice: entry?.notice ?? null,
      secondsLeft: entry ? secondsLeft(entry) : null,
      language: this.deps.config.pad.language,
      keyboardInput: this.deps.config.pad.keyboardInput || (entry !== null && this.state.kind === 'awaiting-pin' && this.state.card.audio),
      audio: this.padAudioView(),
      revision: this.padRevision,
    };
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
    const cardId = typed.trim();
    // No control, invisible (format) or line-separator characters: a card ID is read in the trail and exports.
    // Compiled per check: a policy may change the rule between cards.
    const pattern = compileCardIdPattern(this.deps.config.operator.cardIdPattern) ?? CARD_ID_PATTERN;
    if (!pattern.test(cardId) || /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(cardId)) throw new StationError('CARD_ID_INVALID');
    return cardId;
  }

  /**
   * Operator's Start, by `operator` (the person signed in). Checks the card ID and the keychain before anyone
   * types a PIN. `stillAllowed` is asked again after those waits: a lock or sign-out meanwhile stops it.
   */
  async start(request: StartRequest, operator: string, stillAllowed: () => boolean = () => true, approval: Grant | null = null): Promise<void> {
    if (this.isBusy() || this.starting) throw new StationError('SESSION_BUSY');
    this.deps.betweenCards?.();
    this.starting = true;
    try {
      await this.startNow(request, operator, stillAllowed, approval);
    } finally {
      this.starting = false;
    }
  }

  private async startNow(request: StartRequest, operator: string, stillAllowed: () => boolean, approval: Grant | null): Promise<void> {
    const cardId = this.checkCardId(request.cardId);
    const audio = request.audio === true && request.mode === 'customer';
    if (audio && !this.audioAvailability().available) throw new StationError('INVALID_REQUEST', 'Audio guidance is not available on this station now.');
    // An outcome not yet on record comes first: it is tried once more now, and nothing starts until it lands.
    if (!(await this.flushUnrecorded())) throw new StationError('AUDIT_PENDING');
    let pan: string | null = null;
    if (request.mode === 'customer' && this.deps.config.profile === 'iso4') {
      pan = (request.pan ?? '').replace(/[\s-]/g, '');
      if (!isValidPan(pan)) throw new StationError('PAN_INVALID');
    }
    await requireEntry(this.deps.keyStore, 'api-token');
    // The processor's key is checked at every Start (pin and validity), whatever the mode: a swapped key means
    // this station's keychain is not what the bank provisioned.
    if (this.deps.config.profile === 'public-key') {
      try {
        await this.refreshProcessorKey(this.processorKeyRules());
      } finally {
        this.publishOperator();
      }
    } else if (request.mode === 'customer') await checkProfileKey(this.deps.config.profile, this.readKey);
    // No PIN is taken if its outcome could not be recorded.
    if (this.deps.audit) await this.deps.audit.check().catch((error: unknown) => Promise.reject(this.auditFailure(error)));
    // Re-check: the station may be closing, the screen locked, or another start may have won, while the keychain answered.
    if (this.closing) throw new StationError('STATION_CLOSING');
    if (!stillAllowed()) throw new StationError('SESSION_LOCKED', 'The session changed before the PIN pad opened. Nothing was started.');
    if (this.isBusy()) throw new StationError('SESSION_BUSY');
    const card: Card = { cardId, mode: request.mode, operator, approval, audio };
    this.log.info('session.start', { cardId, mode: request.mode, profile: this.deps.config.profile, operator });
    if (request.mode === 'processor') {
      this.inFlight = this.send(card, null, null);
      return;
    }
    const entry: Entry = {
      // Audio guidance describes where each key is: its keypad is never shuffled.
      session: new PinSession(this.deps.config.pin, { shuffle: this.deps.config.pad.shuffle && !audio, random: this.deps.random }),
      pan,
      notice: null,
      inactivityTimer: undefined,
      sessionTimer: undefined,
      ticker: undefined,
      inactivityDeadline: 0,
      sessionDeadline: 0,
    };
    this.state = { kind: 'awaiting-pin', card, entry };
    this.armTimers(entry);
    this.publish();
  }

  /** Operator's Cancel: allowed while the cardholder is entering, not once the request is out. */
  cancel(): void {
    if (this.state.kind !== 'awaiting-pin') throw new StationError('NO_SESSION');
    this.abandon(new StationError('PIN_CANCELLED').toInfo());
  }

  nextCard(): void {
    // During entry the operator cancels first, so the session ends with its audit record.
    if (this.isBusy()) throw new StationError('SESSION_BUSY');
    this.state = IDLE;
    this.publish();
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
      this.endEntry(entry);
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
    if (this.state.kind === 'recording') this.clearWhenRecorded = true;
    if (this.state.kind === 'done' || this.state.kind === 'failed') {
      this.state = IDLE;
      this.publish();
    }
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
    clearInterval(this.unrecordedRetry);
    if (this.state.kind !== 'awaiting-pin') return;
    this.endEntry(this.state.entry);
    this.state = IDLE;
  }

  /** Startup check: the token and the key the profile needs are present and well-formed. */
  async preflight(): Promise<void> {
    const token = await requireEntry(this.deps.keyStore, 'api-token');
    if (!PRINTABLE_TOKEN.test(token)) {
      throw new StationError(
        'KEYCHAIN_ENTRY_MALFORMED',
        'Entry "api-token" must be printable ASCII without spaces. Fix: npm run keys -- import api-token --replace',
      );
    }
    if (this.deps.config.profile !== 'public-key') {
      await checkProfileKey(this.deps.config.profile, this.readKey);
      return;
    }
    try {
      await this.refreshProcessorKey(this.processorKeyRules());
    } catch (error) {
      // An expired key still lets the station start: the operator window says so, and every Start is refused.
      if (!(error instanceof StationError && error.code === 'PROCESSOR_KEY_EXPIRED')) throw error;
    }
  }

  private isBusy(): boolean {
    const kind = this.state.kind;
    return kind === 'awaiting-pin' || kind === 'sending' || kind === 'recording';
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
      const logged = error.code === 'PIN_REPEATED' || error.code === 'PIN_SEQUENCE' || error.code === 'PIN_DENIED' ? 'PIN_POLICY' : error.code;
      this.log.info('pad.notice', { cardId: card.cardId, code: logged });
    }
    if (this.state === state) {
      this.log.debug('pad.progress', { step: entry.session.step, count: entry.session.count });
      this.armInactivityTimer(entry);
    }
    this.publish();
    return this.pinpadView();
  }

  private async send(card: Card, digits: Uint8Array | null, pan: string | null): Promise<void> {
    this.state = { kind: 'sending', card };
    this.publish();
    let outcome: ProcessorOutcome | null = null;
    let failure: StationErrorInfo | null = null;
    let attemptId: string | null | undefined;
    let attemptWrite: Promise<string | undefined> | null = null;
    try {
      // Both keychain entries are read at once: each read is a D-Bus round trip,
      // the largest cost between OK and the request on the wire (npm run bench).
      // The approval is checked again at the last moment before anything is written: it must be this card's, this
      // action's and this operator's.
      if (card.approval) {
        if (!this.deps.approvals) throw new StationError('APPROVAL_INVALID', 'Nothing was sent.');
        this.deps.approvals.confirmAtSend(card.approval, card.cardId, card.mode, card.operator);
      }
      const tokenRead = requireEntry(this.deps.keyStore, 'api-token');
      tokenRead.catch(() => undefined);
      // Write-ahead, begun now so its disk write overlaps the keychain reads and the encryption; it is awaited
      // below, before the first byte leaves. If anything fails after it landed, the outcome record closes it.
      attemptWrite = this.recordAttempt(card);
      attemptWrite.catch(() => undefined);
      let pin: string | undefined;
      if (digits) pin = await encryptPin(this.deps.config.profile, this.readKey, digits, { cardId: card.cardId, pan }, this.processorKeyRules());
      digits?.fill(0);
      pan = null;
      const token = await tokenRead;
      // Write-ahead: the attempt is on disk before the first byte leaves; if it cannot be written, nothing is sent.
      attemptId = await attemptWrite;
      this.log.info('request.send', { cardId: card.cardId, mode: card.mode, withPin: pin !== undefined });
      outcome = await this.deps.cardApi.setPin(pin === undefined ? { cardId: card.cardId, token } : { cardId: card.cardId, pin, token });
      this.log.info('request.outcome', { cardId: card.cardId, status: outcome.status, requestStatus: outcome.requestStatus });
      if (outcome.status !== 'ok') failure = new StationError('PROCESSOR_REJECTED', `Request status: ${outcome.requestStatus}.`).toInfo();
    } catch (error) {
      failure = toErrorInfo(error);
      // Whatever failed, the attempt record's own fate decides what is recorded: its outcome, or nothing.
      if (attemptWrite && attemptId === undefined) {
        attemptId = await attemptWrite.then(
          (id) => id,
          () => null,
        );
      }
      if ((error as { attemptNotRecorded?: boolean }).attemptNotRecorded) attemptId = null;
      this.log.warn('request.failed', { cardId: card.cardId, code: failure.code });
    } finally {
      digits?.fill(0);
      pan = null;
    }
    // Still 'sending' (busy) until the record is on disk; only then is the outcome shown. When the attempt record
    // itself failed, nothing was sent and there is nothing more to record: the operator sees why.
    const auditError =
      attemptId === null
        ? null
        : await this.record(card, auditOutcomeOf(card.mode, outcome, failure), outcome?.requestStatus ?? null, failure?.code ?? null, attemptId);
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
    this.endEntry(entry);
    if (!this.deps.audit) {
      this.state = { kind: 'failed', card, outcome: null, error: reason, auditError: null };
      return this.publish();
    }
    this.state = { kind: 'recording', card, error: reason };
    // The pad goes blank at once; the operator sees the end once it is recorded.
    this.publishPad();
    const outcome = reason.code === 'PIN_TIMEOUT' ? 'timeout' : reason.code === 'PIN_CANCELLED' ? 'cancelled' : 'failed';
    this.inFlight = this.record(card, outcome, null, reason.code).then((auditError) => {
      this.state = this.clearWhenRecorded && auditError === null ? IDLE : { kind: 'failed', card, outcome: null, error: reason, auditError };
      this.clearWhenRecorded = false;
      this.publish();
    });
  }

  /** Appends one audit record; returns why it failed, if it did (the outcome itself stays visible). */
  /**
   * The write-ahead attempt record; resolves to its ID (undefined without a trail). Throws the trail's error as a
   * StationError, which ends the request before it is sent; the caller then records nothing more.
   */
  private async recordAttempt(card: Card): Promise<string | undefined> {
    const audit = this.deps.audit;
    if (!audit) return undefined;
    const attemptId = randomUUID();
    try {
      await audit.append({
        type: 'attempt',
        stationId: this.deps.config.station.id,
        attemptId,
        operator: card.operator,
        cardId: card.cardId,
        mode: card.mode,
        profile: this.deps.config.profile,
        ...(card.approval ? { approver: card.approval.approver } : {}),
        ...(this.deps.config.processor.baseUrl === SANDBOX_BASE_URL ? { processor: 'sandbox' as const } : {}),
      });
      return attemptId;
    } catch (error) {
      this.log.error('audit.failed', { cardId: card.cardId, record: 'attempt' });
      // Marks "nothing sent, nothing to record" for send(); the error is what the operator sees.
      throw Object.assign(this.auditFailure(error), { attemptNotRecorded: true });
    }
  }

  /**
   * At start-up: every attempt in the trail without an outcome was cut short by a stop (crash, power loss,
   * kill) during its request. Each is closed now by an outcome-unknown record, and the next person is told.
   */
  async closeInterruptedAttempts(records: readonly AuditLine[]): Promise<void> {
    const audit = this.deps.audit;
    if (!audit) return;
    for (const { attempt, written } of await closeOpenAttempts(audit, records)) {
      const seq = (written as { seq?: unknown } | undefined)?.seq;
      this.deps.history?.note(attempt.cardId, typeof seq === 'number' ? seq : null, Date.now(), 'outcome-unknown');
      this.interruptedCards.push(attempt.cardId);
      this.log.warn('request.interrupted', { cardId: attempt.cardId });
    }
  }

  /** At quit: one more try to record a kept outcome (it stays on disk for the next start if this fails too). */
  async retryUnrecorded(): Promise<boolean> {
    return this.flushUnrecorded();
  }

  /** The card whose outcome is not yet on record (kept beside the trail), or null. */
  unrecordedCard(): string | null {
    return this.unrecorded?.cardId ?? null;
  }

  /**
   * At start-up, before attempts without an outcome are closed: an outcome kept beside the trail by the last run
   * is recorded now (it closes its attempt with the processor's real answer, not "outcome unknown"). Returns the
   * attempt it closes, if any, so it is not closed a second time. Kept in memory and retried if the trail still
   * cannot take it (every Start is refused until it does). Throws for a kept outcome that fails its MAC.
   */
  async recoverPendingOutcome(open: ReadonlySet<string>): Promise<string | null> {
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
      const seq = (written as { seq?: unknown } | undefined)?.seq;
      this.deps.history?.note(
        entry.cardId,
        typeof seq === 'number' ? seq : null,
        Date.parse((written as { time?: string }).time ?? '') || Date.now(),
        entry.outcome,
      );
      await audit.clearPending?.().catch(() => undefined);
      this.log.info('audit.recovered', { cardId: entry.cardId });
    } catch {
      this.deps.history?.note(entry.cardId, null, Date.now(), entry.outcome);
      await this.keepUnrecorded(entry, true);
    }
    return entry.attemptId ?? null;
  }

  /** True when no outcome is waiting to be recorded (after one more try to write it). */
  /**
   * The retry timer, a Start and quitting can all ask at once: one try at a time, and the others share its
   * answer, so the outcome is never appended twice.
   */
  private flushUnrecorded(): Promise<boolean> {
    this.flushing ??= this.tryFlushUnrecorded().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async tryFlushUnrecorded(): Promise<boolean> {
    const entry = this.unrecorded;
    if (!entry || !this.deps.audit) return true;
    try {
      await this.deps.audit.append(entry);
    } catch {
      return false;
    }
    if (this.unrecorded === entry) this.unrecorded = null;
    await this.deps.audit.clearPending?.().catch(() => undefined);
    clearInterval(this.unrecordedRetry);
    this.unrecordedRetry = undefined;
    // The outcome shown beside its warning is on record now: the warning goes.
    const state = this.state;
    if ((state.kind === 'done' || state.kind === 'failed') && state.auditError) this.state = { ...state, auditError: null };
    // The pending-outcome warning goes too.
    this.publish();
    this.log.info('audit.recovered', { cardId: entry.cardId });
    return true;
  }

  private async record(
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
      entry = {
        stationId: this.deps.config.station.id,
        operator: card.operator,
        cardId: card.cardId,
        mode: card.mode,
        profile: this.deps.config.profile,
        outcome,
        requestStatus,
        errorCode,
        ...(this.deps.config.processor.baseUrl === SANDBOX_BASE_URL ? { processor: 'sandbox' as const } : {}),
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
      };
      const written = await audit.append(entry);
      const seq = (written as { seq?: unknown } | undefined)?.seq;
      this.deps.history?.note(card.cardId, typeof seq === 'number' ? seq : null, Date.now(), outcome);
      return null;
    } catch (error) {
      // The rules must see the attempt even when its record could not be written.
      this.deps.history?.note(card.cardId, null, Date.now(), outcome);
      this.log.error('audit.failed', { cardId: card.cardId, outcome });
      // Kept (on disk beside the trail, before the operator is told anything) and retried: the outcome must reach
      // the trail, and no new Start goes ahead until it has.
      if (entry) await this.keepUnrecorded(entry);
      return this.auditFailure(error).toInfo();
    }
  }

  private async keepUnrecorded(entry: AuditEntry, onDisk = false): Promise<void> {
    this.unrecorded = entry;
    if (!onDisk) {
      // If this fails too (the disk is full, the keychain locked), the outcome is in memory only, as the warning says.
      await this.deps.audit?.keepPending?.(entry).catch(() => this.log.error('audit.pending-not-kept', { cardId: entry.cardId }));
    }
    clearInterval(this.unrecordedRetry);
    this.unrecordedRetry = setInterval(() => void this.flushUnrecorded(), UNRECORDED_RETRY_MS);
    this.unrecordedRetry.unref?.();
  }

  private auditFailure(error: unknown): StationError {
    // The trail's own failures (AUDIT_TORN_TAIL, ...) and the keychain's keep their codes; anything unforeseen is AUDIT_FAILED.
    return error instanceof StationError ? error : new StationError('AUDIT_FAILED');
  }

  /** Stops the entry's timers and wipes its digits and card number. */
  private endEntry(entry: Entry): void {
    clearTimeout(entry.inactivityTimer);
    clearTimeout(entry.sessionTimer);
    clearInterval(entry.ticker);
    entry.session.wipe();
    entry.pan = null;
    entry.notice = null;
  }

  private armTimers(entry: Entry): void {
    const { sessionTimeoutMs } = this.deps.config.pin;
    entry.sessionDeadline = Date.now() + sessionTimeoutMs;
    entry.sessionTimer = setTimeout(() => this.timeout(entry), sessionTimeoutMs);
    entry.ticker = setInterval(() => this.publish(), 1000);
    this.armInactivityTimer(entry);
  }

  private armInactivityTimer(entry: Entry): void {
    const { inactivityTimeoutMs } = this.deps.config.pin;
    clearTimeout(entry.inactivityTimer);
    entry.inactivityDeadline = Date.now() + inactivityTimeoutMs;
    entry.inactivityTimer = setTimeout(() => this.timeout(entry), inactivityTimeoutMs);
  }

  private timeout(entry: Entry): void {
    if (this.state.kind !== 'awaiting-pin' || this.state.entry !== entry) return;
    this.abandon(new StationError('PIN_TIMEOUT').toInfo());
  }

  /** The operator window's view changed for a reason outside the card (the staff session). */
  /** No card in progress and no Start under way: a new policy may apply now. */
  isBetweenCards(): boolean {
    return !this.isBusy() && !this.starting;
  }

  publishOperator(): void {
    try {
      this.deps.views.operator(this.operatorView());
    } catch {
      this.log.warn('view.publish-failed', { window: 'operator' });
    }
  }

  private publish(): void {
    if (!this.isBusy() && !this.starting) this.deps.betweenCards?.();
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
    try {
      this.deps.views.pinpad(this.pinpadView());
    } catch {
      this.log.warn('view.publish-failed', { window: 'pinpad' });
    }
  }
}

/** How often an outcome that could not be recorded is tried again. */
const UNRECORDED_RETRY_MS = 5_000;

/** Seconds until the entry times out: the nearer of the inactivity and session deadlines. */
function secondsLeft(entry: Entry): number {
  const deadline = Math.min(entry.inactivityDeadline, entry.sessionDeadline);
  return Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
}

/** The audit outcome for a finished request. */
function auditOutcomeOf(mode: PinMode, outcome: ProcessorOutcome | null, failure: StationErrorInfo | null): AuditEntry['outcome'] {
  if (outcome?.status === 'ok' && failure === null) return mode === 'processor' ? 'pin-generated' : 'pin-set';
  if (outcome?.status === 'error') return 'rejected';
  if (isOutcomeUnknown(failure?.code)) return 'outcome-unknown';
  return 'failed';
}
