/**
 * The station's state machine: one card at a time, from the operator's Start
 * through the cardholder's entry to the processor's answer. Plain Node; the
 * Electron adapter and the test harness both drive it through IpcRouter.
 */
import { StationError, toErrorInfo } from '../../common/errors';
import type { StationErrorInfo } from '../../common/errors';
import type { OperatorView, PinMode, PinpadView, ProcessorOutcome, StartRequest } from '../../common/ipc';
import { CARD_ID_PATTERN, compileCardIdPattern } from '../../common/card-id';
import { isValidPan } from '../../common/pan';
import { encryptGcm } from '../crypto/gcm';
import { encryptIso4Hex } from '../crypto/iso4';
import { parseAes256KeyHex } from '../crypto/keys';
import { encryptRsaOaep, parseRsaPublicKey } from '../crypto/rsa-oaep';
import type { CardApi } from './card-api-client';
import type { StationConfig } from './config';
import { SANDBOX_BASE_URL } from './config';
import type { KeyStore } from './keystore';
import type { AuditEntry } from './audit';
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
  append(entry: AuditEntry): Promise<unknown>;
  /** Start-time check that the trail can take a record. */
  check(): Promise<unknown>;
}

export const AUDIT_OPERATOR = 'unassigned';

export interface StationDeps {
  readonly config: StationConfig;
  readonly keyStore: KeyStore;
  readonly cardApi: CardApi;
  readonly views: StationViewSink;
  readonly random?: RandomSource;
  readonly log?: Logger;
  readonly audit?: AuditSink;
}

interface CurrentCard {
  readonly cardId: string;
  readonly mode: PinMode;
  /** Only for the iso4 profile; dropped as soon as the request is built, never shown or logged. */
  pan: string | null;
}

export class Station {
  private phase: OperatorView['phase'] = 'idle';
  private card: CurrentCard | null = null;
  private session: PinSession | null = null;
  private outcome: ProcessorOutcome | null = null;
  private error: StationErrorInfo | null = null;
  /** Set when the outcome could not be recorded; shown beside the outcome, never instead of it. */
  private auditError: StationErrorInfo | null = null;
  private recording = false;
  private padNotice: StationErrorInfo | null = null;
  private inactivityTimer: NodeJS.Timeout | undefined;
  private sessionTimer: NodeJS.Timeout | undefined;
  // Publishes once a second during entry so both windows can show the time left.
  private ticker: NodeJS.Timeout | undefined;
  private inactivityDeadline = 0;
  private sessionDeadline = 0;
  private inFlight: Promise<void> | null = null;

  private readonly log: Logger;
  private readonly cardIdPattern: RegExp;

  constructor(private readonly deps: StationDeps) {
    this.log = deps.log ?? silentLogger;
    this.cardIdPattern = compileCardIdPattern(deps.config.operator.cardIdPattern) ?? CARD_ID_PATTERN;
  }

  operatorView(): OperatorView {
    const session = this.session;
    return {
      phase: this.phase,
      cardId: this.card?.cardId ?? null,
      mode: this.card?.mode ?? null,
      pad: session ? { step: session.step, count: session.count, secondsLeft: this.secondsLeft() ?? 0, restarts: session.restarts } : null,
      outcome: this.outcome,
      error: this.error,
      auditError: this.auditError,
      panRequired: this.deps.config.profile === 'iso4',
      cardIdPattern: this.deps.config.operator.cardIdPattern,
      language: this.deps.config.operator.language,
      usingSandboxProcessor: this.deps.config.processor.baseUrl === SANDBOX_BASE_URL,
    };
  }

  pinpadView(): PinpadView {
    const session = this.session;
    const { minLength, maxLength } = this.deps.config.pin;
    return {
      active: session !== null,
      step: session?.step ?? 'enter',
      count: session?.count ?? 0,
      minLength,
      maxLength,
      layout: session ? Array.from(session.layout) : [...FIXED_LAYOUT],
      notice: this.padNotice,
      secondsLeft: this.secondsLeft(),
      language: this.deps.config.pad.language,
      keyboardInput: this.deps.config.pad.keyboardInput,
    };
  }

  /** Seconds until the entry times out: the nearer of the inactivity and session deadlines. */
  private secondsLeft(): number | null {
    if (!this.session) return null;
    const deadline = Math.min(this.inactivityDeadline, this.sessionDeadline);
    return Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
  }

  /** Operator's Start. Checks the card ID and the keychain before anyone types a PIN. */
  async start(request: StartRequest): Promise<void> {
    if (this.isBusy()) throw new StationError('SESSION_BUSY');
    const cardId = request.cardId.trim();
    if (!this.cardIdPattern.test(cardId) || /\p{Cc}/u.test(cardId)) throw new StationError('CARD_ID_INVALID');
    let pan: string | null = null;
    if (request.mode === 'customer' && this.deps.config.profile === 'iso4') {
      pan = (request.pan ?? '').replace(/[\s-]/g, '');
      if (!isValidPan(pan)) throw new StationError('PAN_INVALID');
    }
    await requireEntry(this.deps.keyStore, 'api-token');
    if (request.mode === 'customer') await this.checkPinKey();
    // No PIN is taken if its outcome could not be recorded.
    if (this.deps.audit) await this.deps.audit.check().catch((error: unknown) => Promise.reject(this.auditFailure(error)));
    // Re-check: another start may have won while the keychain answered.
    if (this.isBusy()) throw new StationError('SESSION_BUSY');
    this.card = { cardId, mode: request.mode, pan };
    this.auditError = null;
    this.log.info('session.start', { cardId, mode: request.mode, profile: this.deps.config.profile });
    this.outcome = null;
    this.error = null;
    this.padNotice = null;
    if (request.mode === 'processor') {
      this.inFlight = this.send(null);
      return;
    }
    this.session = new PinSession(this.deps.config.pin, { shuffle: this.deps.config.pad.shuffle, random: this.deps.random });
    this.phase = 'awaiting-pin';
    this.armTimers();
    this.publish();
  }

  /** Operator's Cancel: allowed while the cardholder is entering, not once the request is out. */
  cancel(): void {
    if (this.phase !== 'awaiting-pin') throw new StationError('NO_SESSION');
    this.abandon({ code: 'PIN_CANCELLED', message: new StationError('PIN_CANCELLED').message });
  }

  nextCard(): void {
    // During entry the operator cancels first, so the session ends with its audit record.
    if (this.isBusy()) throw new StationError('SESSION_BUSY');
    this.endSession();
    this.phase = 'idle';
    this.card = null;
    this.outcome = null;
    this.error = null;
    this.auditError = null;
    this.padNotice = null;
    this.publish();
  }

  press(position: number): PinpadView {
    return this.padAction((session) => session.press(position));
  }

  erase(): PinpadView {
    return this.padAction((session) => session.erase());
  }

  clear(): PinpadView {
    return this.padAction((session) => session.clear());
  }

  submit(): PinpadView {
    return this.padAction((session) => {
      const result = session.submit();
      if (result.kind === 'complete') {
        this.endSession();
        this.inFlight = this.send(result.digits);
      }
    });
  }

  /** Ends PIN entry from outside the pad (its window lost focus for too long, or closed). */
  interruptEntry(code: 'PIN_TIMEOUT' | 'PIN_CANCELLED'): void {
    if (this.phase !== 'awaiting-pin') return;
    this.abandon(new StationError(code).toInfo());
  }

  padCancel(): void {
    if (!this.session) throw new StationError('NO_SESSION');
    this.abandon({ code: 'PIN_CANCELLED', message: new StationError('PIN_CANCELLED').message });
  }

  /** Resolves when the request in flight (if any) has its outcome; for shutdown and tests. */
  async settled(): Promise<void> {
    await this.inFlight;
  }

  /** Wipes everything; the adapter calls this on window close and app quit. */
  dispose(): void {
    this.endSession();
  }

  private isBusy(): boolean {
    return this.phase === 'awaiting-pin' || this.phase === 'sending' || this.recording;
  }

  private padAction(action: (session: PinSession) => void): PinpadView {
    const session = this.session;
    if (!session) throw new StationError('NO_SESSION');
    this.padNotice = null;
    try {
      action(session);
    } catch (error) {
      if (!(error instanceof StationError)) {
        this.abandon(toErrorInfo(error));
        throw error;
      }
      // Policy feedback goes to the pad; it names a rule, never a digit.
      this.padNotice = error.toInfo();
      // Which weak-PIN rule fired would narrow the rejected candidate, so the log keeps only that a policy refused it.
      const logged = error.code === 'PIN_REPEATED' || error.code === 'PIN_SEQUENCE' || error.code === 'PIN_DENIED' ? 'PIN_POLICY' : error.code;
      this.log.info('pad.notice', { cardId: this.card?.cardId ?? null, code: logged });
    }
    if (this.session) this.log.debug('pad.progress', { step: this.session.step, count: this.session.count });
    if (this.session) this.armInactivityTimer();
    this.publish();
    return this.pinpadView();
  }

  private async send(digits: Uint8Array | null): Promise<void> {
    const card = this.card;
    let outcome: ProcessorOutcome | null = null;
    let failure: StationErrorInfo | null = null;
    try {
      if (!card) return;
      this.phase = 'sending';
      this.publish();
      // Both keychain entries are read at once: each read is a D-Bus round trip,
      // the largest cost between OK and the request on the wire (npm run bench).
      const tokenRead = requireEntry(this.deps.keyStore, 'api-token');
      tokenRead.catch(() => undefined);
      let pin: string | undefined;
      if (digits) pin = await this.encrypt(digits, card);
      digits?.fill(0);
      card.pan = null;
      const token = await tokenRead;
      this.log.info('request.send', { cardId: card.cardId, mode: card.mode, withPin: pin !== undefined });
      outcome = await this.deps.cardApi.setPin(pin === undefined ? { cardId: card.cardId, token } : { cardId: card.cardId, pin, token });
      this.log.info('request.outcome', { cardId: card.cardId, status: outcome.status, requestStatus: outcome.requestStatus });
      if (outcome.status !== 'ok') failure = new StationError('PROCESSOR_REJECTED', `Request status: ${outcome.requestStatus}.`).toInfo();
    } catch (error) {
      failure = toErrorInfo(error);
      this.log.warn('request.failed', { cardId: card?.cardId ?? null, code: failure.code });
    } finally {
      digits?.fill(0);
      if (card) card.pan = null;
    }
    if (!card) return;
    // Still 'sending' (busy) until the record is on disk; only then is the outcome shown.
    this.auditError = await this.record(card, auditOutcomeOf(card.mode, outcome, failure), outcome?.requestStatus ?? null, failure?.code ?? null);
    this.outcome = outcome;
    this.error = failure;
    this.phase = outcome?.status === 'ok' && failure === null ? 'done' : 'failed';
    this.publish();
  }

  /** Startup check: the token and the key the profile needs are present and well-formed. */
  async preflight(): Promise<void> {
    const token = await requireEntry(this.deps.keyStore, 'api-token');
    if (!/^[\x21-\x7e]+$/.test(token)) {
      throw new StationError(
        'KEYCHAIN_ENTRY_MALFORMED',
        'Entry "api-token" must be printable ASCII without spaces. Fix: npm run keys -- import api-token --replace',
      );
    }
    await this.checkPinKey();
  }

  /** Start-time check that the key the profile needs is present and well-formed. */
  private async checkPinKey(): Promise<void> {
    if (this.deps.config.profile === 'rsa-oaep') {
      try {
        parseRsaPublicKey(await requireEntry(this.deps.keyStore, 'pin-public-key'));
      } catch (error) {
        if (error instanceof StationError && error.code === 'CRYPTO_FAILED') {
          throw new StationError('KEYCHAIN_ENTRY_MALFORMED', 'Entry "pin-public-key" must be a PEM RSA public key of at least 2048 bits.');
        }
        throw error;
      }
      return;
    }
    parseAes256KeyHex(await requireEntry(this.deps.keyStore, 'pin-key'), 'pin-key').fill(0);
  }

  /** Encrypts with the configured profile; keys are read per operation and wiped right after use. */
  private async encrypt(digits: Uint8Array, card: CurrentCard): Promise<string> {
    const profile = this.deps.config.profile;
    if (profile === 'rsa-oaep') {
      return encryptRsaOaep(await requireEntry(this.deps.keyStore, 'pin-public-key'), digits, card.cardId);
    }
    const key = parseAes256KeyHex(await requireEntry(this.deps.keyStore, 'pin-key'), 'pin-key');
    try {
      if (profile === 'iso4') {
        if (card.pan === null) throw new StationError('PAN_INVALID');
        return encryptIso4Hex(key, digits, card.pan);
      }
      return encryptGcm(key, digits, card.cardId);
    } finally {
      key.fill(0);
    }
  }

  private abandon(reason: StationErrorInfo): void {
    this.log.info('session.end', { cardId: this.card?.cardId ?? null, code: reason.code });
    const card = this.card;
    if (card) card.pan = null;
    this.endSession();
    this.phase = 'failed';
    this.error = reason;
    this.padNotice = null;
    // The pad goes blank at once; the operator sees the end once it is recorded.
    this.publishPad();
    if (!card || !this.deps.audit) return this.publish();
    const outcome = reason.code === 'PIN_TIMEOUT' ? 'timeout' : reason.code === 'PIN_CANCELLED' ? 'cancelled' : 'failed';
    this.recording = true;
    this.inFlight = this.record(card, outcome, null, reason.code).then((auditError) => {
      this.recording = false;
      this.auditError = auditError;
      this.publish();
    });
  }

  /** Appends one audit record; returns why it failed, if it did (the outcome itself stays visible). */
  private async record(
    card: CurrentCard,
    outcome: AuditEntry['outcome'],
    requestStatus: string | null,
    errorCode: string | null,
  ): Promise<StationErrorInfo | null> {
    const audit = this.deps.audit;
    if (!audit) return null;
    try {
      await audit.append({
        stationId: this.deps.config.station.id,
        operator: AUDIT_OPERATOR,
        cardId: card.cardId,
        mode: card.mode,
        profile: this.deps.config.profile,
        outcome,
        requestStatus,
        errorCode,
        ...(this.deps.config.processor.baseUrl === SANDBOX_BASE_URL ? { processor: 'sandbox' as const } : {}),
      });
      return null;
    } catch (error) {
      this.log.error('audit.failed', { cardId: card.cardId, outcome });
      return this.auditFailure(error).toInfo();
    }
  }

  private auditFailure(error: unknown): StationError {
    // Keychain problems keep their own codes; anything else about the trail is AUDIT_FAILED.
    if (error instanceof StationError) return error;
    const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'AUDIT_WRITE_FAILED';
    return new StationError('AUDIT_FAILED', `(${code})`);
  }

  private endSession(): void {
    clearTimeout(this.inactivityTimer);
    clearTimeout(this.sessionTimer);
    clearInterval(this.ticker);
    this.session?.wipe();
    this.session = null;
  }

  private armTimers(): void {
    clearTimeout(this.sessionTimer);
    clearInterval(this.ticker);
    this.sessionDeadline = Date.now() + this.deps.config.pin.sessionTimeoutMs;
    this.sessionTimer = setTimeout(() => this.timeout(), this.deps.config.pin.sessionTimeoutMs);
    this.ticker = setInterval(() => this.publish(), 1000);
    this.armInactivityTimer();
  }

  private armInactivityTimer(): void {
    clearTimeout(this.inactivityTimer);
    this.inactivityDeadline = Date.now() + this.deps.config.pin.inactivityTimeoutMs;
    this.inactivityTimer = setTimeout(() => this.timeout(), this.deps.config.pin.inactivityTimeoutMs);
  }

  private timeout(): void {
    if (this.phase !== 'awaiting-pin') return;
    this.abandon(new StationError('PIN_TIMEOUT').toInfo());
  }

  private publish(): void {
    this.publishPad();
    try {
      this.deps.views.operator(this.operatorView());
    } catch {
      // A window that cannot take an update must not stop the state machine.
      this.log.warn('view.publish-failed', { window: 'operator' });
    }
  }

  private publishPad(): void {
    try {
      this.deps.views.pinpad(this.pinpadView());
    } catch {
      this.log.warn('view.publish-failed', { window: 'pinpad' });
    }
  }
}

/** The audit outcome for a finished request. */
function auditOutcomeOf(mode: PinMode, outcome: ProcessorOutcome | null, failure: StationErrorInfo | null): AuditEntry['outcome'] {
  if (outcome?.status === 'ok' && failure === null) return mode === 'processor' ? 'pin-generated' : 'pin-set';
  if (outcome?.status === 'error') return 'rejected';
  if (failure?.code === 'OUTCOME_UNKNOWN' || failure?.code === 'PROCESSOR_BAD_RESPONSE') return 'outcome-unknown';
  return 'failed';
}
