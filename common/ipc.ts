/**
 * The one IPC contract between main, the preloads and the renderers:
 * channel names, argument and result types. Runtime validators for the
 * receiving side (main) live in ./ipc-validators.ts so that preloads and
 * renderers do not bundle the validation library.
 */
import type { AuditExportFormat, Language, PinMode } from './domain';
import type { StationErrorInfo } from './errors';
import type { ApprovalRequirement, StaffView } from './staff';

// Named in the contract's types; their home is common/domain.ts (re-exported for the windows that read them here).

export interface StartRequest {
  readonly cardId: string;
  readonly mode: PinMode;
  /** The card number, required only by the `iso4` profile when the customer chooses the PIN. */
  readonly pan?: string;
  /** A supervisor's approval for this Start (its ID, from station:approve), when a rule requires one. */
  readonly approval?: string;
  /** Spoken guidance for this card only (fixed keypad, keyboard input, prompts through the pad's own audio device). */
  readonly audio?: boolean;
}

/**
 * Why audio guidance cannot be offered: switched off by config or policy, no output device named, the bank's voice
 * folder (pad.audio.voiceFolder) not there or writable by someone other than an administrator, or the named device
 * not connected.
 */
export type AudioUnavailableReason = 'disabled' | 'no-device' | 'voice-folder-missing' | 'voice-folder-unsafe' | 'device-absent';

/** What the operator window knows about audio guidance. */
export interface AudioGuidanceView {
  readonly available: boolean;
  readonly unavailableReason: AudioUnavailableReason | null;
  /** The card under way uses audio guidance. */
  readonly on: boolean;
}

/** What the pad needs for audio guidance: whether this card uses it, and the output device to route it to (by label). */
export interface PadAudioView {
  readonly on: boolean;
  /** The configured output device's label; null when none is configured or audio guidance is switched off. */
  readonly outputDevice: string | null;
  /** How this card's entry ended, for the last prompt: sent to the processor, set, failed, cancelled or timed out. */
  readonly outcome: 'sent' | 'set' | 'failed' | 'cancelled' | 'timeout' | null;
  /**
   * The language this card's cues are spoken in (the cardholder's choice on the pad, else the pad's default), kept
   * by main so an outcome spoken after the pad reloaded is still in it; null without audio guidance.
   */
  readonly language: Language | null;
  /**
   * The card's final outcome is shown and no pad page has said it spoke it yet (the page that saw entry end was
   * reloaded before the processor answered): a page whose first view this is speaks it.
   */
  readonly speakOutcome?: boolean;
}

/** An outcome after which nothing more is spoken for the card ('sent' still waits for the processor's answer). */
export function isFinalOutcome(outcome: PadAudioView['outcome']): boolean {
  return outcome !== null && outcome !== 'sent';
}

/** What a Start did: went ahead, or stopped because a rule needs a supervisor's approval first. */
export type StartOutcome = { readonly started: true } | { readonly started: false; readonly approvalRequired: ApprovalRequirement };

/** A supervisor's over-the-shoulder approval for the Start of `cardId` in `mode`. */
export interface ApprovalCredentials {
  readonly cardId: string;
  readonly mode: PinMode;
  readonly reason: string;
  readonly username: string;
  readonly password: string;
  /** The supervisor's current code from their own authentication app (digits; empty when none is asked). */
  readonly code: string;
}

export type ApprovalSsoRequest = Omit<ApprovalCredentials, 'username' | 'password' | 'code'>;

/** An audit export for the auditor role: the file's name and text (the window saves it as a download). */
export interface AuditExportFile {
  readonly filename: string;
  readonly text: string;
}

export type IpcResult<T = null> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: StationErrorInfo };

export interface ProcessorOutcome {
  readonly status: 'ok' | 'error';
  readonly requestStatus: string;
  readonly dt: string;
}

export type PadStep = 'enter' | 'confirm';

/** 'unavailable': the station could not start (bad config or keychain); `error` says why and how to fix it. */
export type OperatorPhase = 'idle' | 'awaiting-pin' | 'sending' | 'done' | 'failed' | 'unavailable';

/** What the operator window may know: never a digit, only counts and outcomes. */
export interface OperatorView {
  readonly phase: OperatorPhase;
  readonly cardId: string | null;
  readonly mode: PinMode | null;
  readonly pad: {
    readonly step: PadStep;
    readonly count: number;
    /** Seconds until the entry times out (the nearer of inactivity and the session limit). */
    readonly secondsLeft: number;
    /** Times the entry restarted after too many confirmation mismatches. */
    readonly restarts: number;
  } | null;
  readonly outcome: ProcessorOutcome | null;
  readonly error: StationErrorInfo | null;
  /** The outcome could not be written to the audit trail (shown beside the outcome). */
  readonly auditError: StationErrorInfo | null;
  /** True when the configured profile binds the PIN to the card number, so Start needs the PAN. */
  readonly panRequired: boolean;
  /** The configured card ID rule (a regular expression source, anchored). */
  readonly cardIdPattern: string;
  /** Cards whose request was under way when the station last stopped: their outcome is unknown. */
  readonly interruptedCards: readonly string[];
  /**
   * The card whose outcome the audit trail could not take yet (kept on disk beside it, retried, recorded at the
   * next start at the latest); null when none. Shown as a warning, so nobody quits or wipes the station unaware.
   */
  readonly auditOutcomePending: string | null;
  /** Shipping the audit trail to the bank's collector has been failing since this time (ISO 8601); null when it is not, or not yet worth a notice. */
  readonly auditShippingDelayedSince: string | null;
  /** Settings set by the organisation's managed policy (dotted paths such as "operator.language"): shown as such, not changeable here. */
  readonly managedSettings: readonly string[];
  /** The repeat rule's window, for the approval dialog's text. */
  readonly repeatWindowHours: number;
  /** The operator window's configured language. */
  readonly language: Language;
  /** True when the processor is the built-in sandbox: no real card is affected. */
  readonly usingSandboxProcessor: boolean;
  /** Who is signed in at the desk, and whether the screen is locked. */
  readonly staff: StaffView;
  /** The processor's public key (public-key profile only; null otherwise): its fingerprint KCV and expiry. */
  readonly processorKey: ProcessorKeyView | null;
  readonly audio: AudioGuidanceView;
}

export interface ProcessorKeyView {
  /** First 10 hex characters of the SHA-256 of its SubjectPublicKeyInfo. */
  readonly kcv: string;
  /** The certificate's notAfter (ISO 8601); null for a bare key ("no expiry known"). */
  readonly notAfter: string | null;
  /** Whole days until notAfter, negative once past; null when no expiry is known. */
  readonly daysLeft: number | null;
}

/** A local sign-in or unlock. The password and code go to main once and are never sent back, shown or logged. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
  /** The current code of the person's authentication app (TOTP, digits); empty when the station asks none. */
  readonly code: string;
}

/** What the PIN pad may know: the key layout it draws and how many digits were entered. */
export interface PinpadView {
  readonly active: boolean;
  readonly step: PadStep;
  readonly count: number;
  readonly minLength: number;
  readonly maxLength: number;
  /** layout[position] is the digit drawn on the key at that position (0..9). */
  readonly layout: readonly number[];
  readonly notice: StationErrorInfo | null;
  /** Seconds until the entry times out, or null when no entry is active. */
  readonly secondsLeft: number | null;
  /** The configured default language for the cardholder. */
  readonly language: Language;
  /** Whether the pad takes keys from a keyboard (a pad display with its own keypad); otherwise touch and mouse only. */
  readonly keyboardInput: boolean;
  readonly audio: PadAudioView;
  /**
   * Grows with every change of the pad's state. The reply to a key press and the pushed state event carry the
   * same view and may arrive in either order: the pad shows whichever comes first and ignores an older one.
   */
  readonly revision: number;
}

export const KEY_POSITIONS = 10;

/** Channels the operator window may invoke, with their argument and result types. */
export interface OperatorInvoke {
  'station:get-state': { arg: null; result: OperatorView };
  'station:start': { arg: StartRequest; result: StartOutcome };
  'station:approve': { arg: ApprovalCredentials; result: { approval: string } };
  'station:approve-sso': { arg: ApprovalSsoRequest; result: { approval: string } };
  'audit:export': { arg: { format: AuditExportFormat }; result: AuditExportFile };
  'station:cancel': { arg: null; result: null };
  'station:next-card': { arg: null; result: null };
  'staff:sign-in': { arg: Credentials; result: null };
  'staff:sign-in-sso': { arg: null; result: null };
  'staff:unlock': { arg: Credentials; result: null };
  'staff:unlock-sso': { arg: null; result: null };
  'staff:sign-out': { arg: null; result: null };
  /** Gives up a single sign-on in progress. */
  'staff:cancel-sso': { arg: null; result: null };
  'staff:lock': { arg: null; result: null };
  /** The person at the desk typed or clicked: restarts the idle lock. */
  'staff:activity': { arg: null; result: null };
}

/** Channels the PIN pad window may invoke. */
export interface PinpadInvoke {
  'pinpad:get-state': { arg: null; result: PinpadView };
  'pinpad:press': { arg: number; result: PinpadView };
  'pinpad:erase': { arg: null; result: PinpadView };
  'pinpad:clear': { arg: null; result: PinpadView };
  'pinpad:submit': { arg: null; result: PinpadView };
  'pinpad:cancel': { arg: null; result: null };
  /** Whether the configured audio output device is connected (the pad looks it up; main only learns yes or no). */
  'pinpad:audio-device': { arg: boolean; result: null };
  /** The cardholder chose the pad's language (the language audio guidance speaks for this card). */
  'pinpad:language': { arg: Language; result: null };
  /** An audio entry's final outcome cue has played (or could not): the pad may now be reloaded. */
  'pinpad:outcome-cue-played': { arg: null; result: null };
}

export type OperatorChannel = keyof OperatorInvoke;
export type PinpadChannel = keyof PinpadInvoke;

// The channel lists are derived from the validator tables (common/ipc-validators.ts), so they cannot drift.

/** Events main pushes to a window. */
export const OPERATOR_STATE_EVENT = 'station:state';
export const PINPAD_STATE_EVENT = 'pinpad:state';

export type WindowRole = 'operator' | 'pinpad';

/** What main answers IPC with: the router of a running station, or of one that could not start. */
export interface IpcHandler {
  /** `role` is null when the sender is not one of the station's own windows. Never throws. */
  handle(role: WindowRole | null, channel: unknown, arg: unknown): Promise<IpcResult<unknown>>;
}

/** The API the operator preload exposes as `window.station`. */
export interface StationApi {
  getState(): Promise<IpcResult<OperatorView>>;
  start(request: StartRequest): Promise<IpcResult<StartOutcome>>;
  approve(credentials: ApprovalCredentials): Promise<IpcResult<{ approval: string }>>;
  approveSso(request: ApprovalSsoRequest): Promise<IpcResult<{ approval: string }>>;
  exportAudit(format: AuditExportFormat): Promise<IpcResult<AuditExportFile>>;
  cancel(): Promise<IpcResult<null>>;
  nextCard(): Promise<IpcResult<null>>;
  signIn(credentials: Credentials): Promise<IpcResult<null>>;
  signInSso(): Promise<IpcResult<null>>;
  unlock(credentials: Credentials): Promise<IpcResult<null>>;
  unlockSso(): Promise<IpcResult<null>>;
  signOut(): Promise<IpcResult<null>>;
  cancelSso(): Promise<IpcResult<null>>;
  lock(): Promise<IpcResult<null>>;
  activity(): Promise<IpcResult<null>>;
  onState(listener: (view: OperatorView) => void): () => void;
}

/** The API the PIN pad preload exposes as `window.pinpad`. */
export interface PinpadApi {
  getState(): Promise<IpcResult<PinpadView>>;
  /** Main's state as the page started loading: asked by the preload, so the answer overlaps the page's own load. */
  firstState(): Promise<IpcResult<PinpadView>>;
  press(position: number): Promise<IpcResult<PinpadView>>;
  erase(): Promise<IpcResult<PinpadView>>;
  clear(): Promise<IpcResult<PinpadView>>;
  submit(): Promise<IpcResult<PinpadView>>;
  cancel(): Promise<IpcResult<null>>;
  audioDevice(found: boolean): Promise<IpcResult<null>>;
  language(language: Language): Promise<IpcResult<null>>;
  outcomeCuePlayed(): Promise<IpcResult<null>>;
  onState(listener: (view: PinpadView) => void): () => void;
}
