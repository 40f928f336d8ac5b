/**
 * Rules for the PIN pad's window, decided here and only carried out by the
 * Electron adapter (which relays the window's focus events and owns the real
 * window). Plain Node, so every rule is unit-tested without Electron.
 *
 * - While a PIN is entered the pad is shown on top; afterwards it drops back,
 *   its page is reloaded (no renderer state survives a session) and keyboard
 *   focus goes back to the operator window.
 * - After an audio entry the drop and reload wait until the pad has spoken the
 *   final outcome (it says so), bounded by `outcomeCueTimeoutMs` from the end
 *   of entry and again from the final outcome: a reload would cut the clip. If
 *   the processor is slower than that, the pad reloads meanwhile and the fresh
 *   page speaks the outcome in the card's language, which main keeps. A Start
 *   while the reload still waits reloads first: nothing of one card's page
 *   carries into the next.
 * - `pad.keyboardInput: false` (the default): the pad is touch/mouse only. It
 *   never takes keyboard focus from the operator window, so neither the
 *   operator's keyboard nor a keyboard-wedge scanner can type into a PIN. The
 *   focus-loss rule does not apply (a window that never has focus cannot lose
 *   it); the inactivity and session timeouts bound an unattended entry.
 * - `pad.keyboardInput: true` (a pad display with its own keypad): the pad is
 *   focused for entry, and when it is out of focus for `pad.blurTimeoutMs`
 *   the entry is wiped. The rule runs from the start of entry: a pad that
 *   could not be focused counts as out of focus from that moment.
 * - With audio guidance offered (an output device configured) the window must
 *   be focusable, since an audio entry takes keys from the cardholder's keypad;
 *   at any other time focus that reaches the pad goes back to the operator
 *   window at once.
 */
import type { PinpadView } from '../../common/ipc';
import { isFinalOutcome } from '../../common/ipc';

/** How long an audio entry's end waits for the pad to speak its outcome: longer than the longest outcome clip. */
export const OUTCOME_CUE_TIMEOUT_MS = 8_000;

/** What the adapter does to the real windows. */
export interface PadWindowControls {
  /** Shows the pad on top of other windows; takes keyboard focus only when `focus` is true. */
  raisePad(focus: boolean): void;
  /** Ends "on top" and reloads the pad page. */
  releasePad(): void;
  focusOperator(): void;
  /** Whether the pad window has keyboard focus right now. */
  padHasFocus(): boolean;
}

export interface PadWindowRulesOptions {
  readonly keyboardInput: boolean;
  /** Audio guidance can be offered (an output device is configured): an entry with it takes keys, so the window must be focusable. */
  readonly audioGuidance?: boolean;
  readonly blurTimeoutMs: number;
  readonly controls: PadWindowControls;
  /** Called when the pad stayed out of focus too long during entry. */
  readonly onFocusLost: () => void;
  /** The bound on waiting for an audio entry's outcome cue (OUTCOME_CUE_TIMEOUT_MS unless a test says). */
  readonly outcomeCueTimeoutMs?: number;
}

export class PadWindowRules {
  private entryActive = false;
  /** Whether the entry under way takes keys (the station's keypad, or audio guidance for this card). */
  private entryTakesKeys = false;
  private blurTimer: NodeJS.Timeout | undefined;
  /** An audio entry ended and its page still waits to be reloaded; `outcomeFinal` once its last cue is known. */
  private reloadPending = false;
  private outcomeFinal = false;
  private reloadTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PadWindowRulesOptions) {}

  /** Whether the pad window may ever take keyboard focus (a window option). */
  /** Audio guidance can be offered on this station (the pad's page may then look up and choose its output). */
  get audioOffered(): boolean {
    return this.options.audioGuidance === true;
  }

  get padFocusable(): boolean {
    return this.options.keyboardInput || this.options.audioGuidance === true;
  }

  /**
   * True when `view` starts an entry while the last audio entry's reload still waits: it is reloaded first, so the
   * view is better not sent to the old page at all (the fresh page asks for it).
   */
  reloadsBefore(view: PinpadView): boolean {
    return view.active && !this.entryActive && this.reloadPending;
  }

  /** Every pad view goes through here; the start and end of entry matter, and an audio entry's outcome. */
  onPinpadView(view: PinpadView): void {
    if (view.active === this.entryActive) {
      if (!view.active) this.awaitOutcomeCue(view);
      return;
    }
    this.entryActive = view.active;
    const { controls } = this.options;
    const keyboardInput = view.active && view.keyboardInput && this.padFocusable;
    this.entryTakesKeys = keyboardInput;
    if (view.active) {
      if (this.reloadPending) this.reloadNow();
      controls.raisePad(keyboardInput);
      if (keyboardInput && !controls.padHasFocus()) this.armBlurTimer();
      return;
    }
    this.clearBlurTimer();
    controls.focusOperator();
    if (!view.audio.on) {
      controls.releasePad();
      return;
    }
    this.reloadPending = true;
    this.outcomeFinal = false;
    this.armReloadTimer();
    this.awaitOutcomeCue(view);
  }

  /** The pad reports it spoke the final outcome: the reload that waited for it happens now. */
  outcomeCuePlayed(): void {
    if (this.reloadPending && this.outcomeFinal) this.reloadNow();
  }

  padBlurred(): void {
    if (this.entryTakesKeys && this.entryActive) this.armBlurTimer();
  }

  padFocused(): void {
    this.clearBlurTimer();
    // A window focusable for audio guidance that got focus anyway (a touch on the pad) during any other entry, or
    // between entries, hands the keyboard straight back: only an entry that takes keys may hold it.
    if (!this.options.keyboardInput && !this.entryTakesKeys) this.options.controls.focusOperator();
  }

  dispose(): void {
    this.clearBlurTimer();
    clearTimeout(this.reloadTimer);
  }

  /** While the reload waits: the final outcome restarts the bound (its clip starts now); a card gone reloads at once. */
  private awaitOutcomeCue(view: PinpadView): void {
    if (!this.reloadPending || this.outcomeFinal) return;
    if (!view.audio.on || view.audio.outcome === null) return this.reloadNow();
    if (!isFinalOutcome(view.audio.outcome)) return;
    this.outcomeFinal = true;
    this.armReloadTimer();
  }

  private armReloadTimer(): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = undefined;
      if (this.outcomeFinal) return this.reloadNow();
      // The processor is slow: the page goes now, and the one loaded in its place speaks the outcome when it comes.
      this.options.controls.releasePad();
    }, this.options.outcomeCueTimeoutMs ?? OUTCOME_CUE_TIMEOUT_MS);
  }

  private reloadNow(): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = undefined;
    this.reloadPending = false;
    this.outcomeFinal = false;
    this.options.controls.releasePad();
  }

  private armBlurTimer(): void {
    this.clearBlurTimer();
    this.blurTimer = setTimeout(() => {
      this.blurTimer = undefined;
      if (this.entryActive) this.options.onFocusLost();
    }, this.options.blurTimeoutMs);
  }

  private clearBlurTimer(): void {
    clearTimeout(this.blurTimer);
    this.blurTimer = undefined;
  }
}
