/**
 * The Station's state (docs/architecture.md, "The Station"): one tagged union, so a combination such as "entry in
 * progress and an outcome shown" cannot be written down.
 *
 *   idle --start--> starting --(customer)--> awaiting-pin --OK twice--> sending --> done | failed
 *                   starting --(processor)-------------------------> sending
 *                   starting --refused--> (back to what it showed)
 *   awaiting-pin --cancel | timeout | focus lost--> recording --> failed (or idle, when it was to be cleared)
 *   done | failed --next card | end of session--> idle;  done | failed --start--> starting
 *
 * `starting` waits on the keychain and the trail while the screen keeps showing what it showed (`shown`); `sending`
 * lasts until the outcome is on disk in the audit trail, and `recording` until an ended entry is.
 */
import type { StationErrorInfo } from '../../common/errors';
import type { ProcessorOutcome } from '../../common/ipc';
import type { PinMode } from '../../common/domain';
import { missingCaseError } from '../../common/missing-case';
import type { Grant } from './approvals';
import type { Entry } from './station-entry';

export interface Card {
  readonly cardId: string;
  readonly mode: PinMode;
  /** Who pressed Start: the record names them even if they sign out before the answer comes. */
  readonly operator: string;
  /** The supervisor's approval this Start went ahead under, if a rule required one. */
  readonly approval: Grant | null;
  /** Audio guidance for this card (fixed keypad, keyboard input, spoken prompts on the pad's device). */
  readonly audio: boolean;
}

export type Idle = { readonly kind: 'idle' };
export type Done = { readonly kind: 'done'; readonly card: Card; readonly outcome: ProcessorOutcome; readonly auditError: StationErrorInfo | null };
export type Failed = {
  readonly kind: 'failed';
  readonly card: Card;
  readonly outcome: ProcessorOutcome | null;
  readonly error: StationErrorInfo;
  /** Set when the outcome could not be recorded; shown beside the outcome, never instead of it. */
  readonly auditError: StationErrorInfo | null;
};
/** What the screen may show while no card is under way. */
export type Resting = Idle | Done | Failed;

export type State =
  | Idle
  /** A Start between its first check and the entry (it waits on the keychain): settings must not change now. */
  | { readonly kind: 'starting'; readonly shown: Resting }
  | { readonly kind: 'awaiting-pin'; readonly card: Card; readonly entry: Entry }
  | { readonly kind: 'sending'; readonly card: Card }
  /** An ended entry on its way to the trail; `then: 'clear'` once the session it belonged to has ended. */
  | { readonly kind: 'recording'; readonly card: Card; readonly error: StationErrorInfo; readonly then: 'show' | 'clear' }
  | Done
  | Failed;

export const IDLE: Idle = { kind: 'idle' };

/** What the operator sees for `state`: a Start under way shows what was there before it. */
export function shownState(state: State): Exclude<State, { kind: 'starting' }> {
  return state.kind === 'starting' ? state.shown : state;
}

/** A card is under way: no Start, no next card, no new policy. */
export function isBusy(state: State): boolean {
  switch (state.kind) {
    case 'awaiting-pin':
    case 'sending':
    case 'recording':
      return true;
    case 'idle':
    case 'starting':
    case 'done':
    case 'failed':
      return false;
    default:
      throw missingCaseError(state);
  }
}

/** No card in progress and no Start under way: a new policy may apply now. */
export function isBetweenCards(state: State): boolean {
  return !isBusy(state) && state.kind !== 'starting';
}

/** `state` with what it shows replaced (a Start under way keeps going; it shows the new resting state). */
export function withShown(state: State, shown: Resting): State {
  return state.kind === 'starting' ? { kind: 'starting', shown } : shown;
}

/** The outcome shown with its record-failed warning is on record now: the warning goes. */
export function withoutAuditError(state: State): State {
  const shown = shownState(state);
  if ((shown.kind === 'done' || shown.kind === 'failed') && shown.auditError) return withShown(state, { ...shown, auditError: null });
  return state;
}
