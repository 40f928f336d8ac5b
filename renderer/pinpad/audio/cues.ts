/**
 * Audio guidance cues: one per event, named by what happened and by counts only. Nothing here ever depends on
 * which digit was pressed, so the sequence of cues is the same for every PIN of the same length.
 */
import { countCue, type FixedCue, promptCue } from '../../../common/voice-cues';

// The names live in common/: main serves the clips (a bank's own voice too) by these names.
export { allCues, countCue, FIXED_CUES, type FixedCue, promptCue } from '../../../common/voice-cues';

/** The cue for a notice the pad shows (a refusal at OK or a key too many), or null for one without a cue. */
export function noticeCue(code: string): FixedCue | null {
  switch (code) {
    case 'PIN_TOO_SHORT':
      return 'too-short';
    case 'PIN_TOO_LONG':
      return 'too-long';
    case 'PIN_MISMATCH':
      return 'mismatch';
    case 'PIN_MISMATCH_LIMIT':
      return 'mismatch-restart';
    case 'PIN_REPEATED':
      return 'weak-repeated';
    case 'PIN_SEQUENCE':
      return 'weak-sequence';
    case 'PIN_DENIED':
      return 'weak-denied';
    default:
      return null;
  }
}

/** The pad's state as far as guidance cares: never a digit, only counts, steps, notices and the outcome. */
export interface GuidanceState {
  readonly active: boolean;
  readonly step: 'enter' | 'confirm';
  readonly count: number;
  readonly minLength: number;
  readonly maxLength: number;
  readonly noticeCode: string | null;
  readonly secondsLeft: number | null;
  readonly outcome: 'sent' | 'set' | 'failed' | 'cancelled' | 'timeout' | null;
  readonly revision: number;
}

/** What the cardholder did on the pad, for the cue that answers it. */
export type PadAction = 'press' | 'erase' | 'clear' | 'submit';

export const COUNTDOWN_CUE_AT_SECONDS = 10;

/**
 * The cues for one change of state. `action` is the cardholder's key whose reply this is (null for a pushed
 * update). Cues follow from counts, steps and notices alone.
 */
export function cuesFor(previous: GuidanceState | null, next: GuidanceState, action: PadAction | null): string[] {
  const cues: string[] = [];
  const wasActive = previous?.active === true;
  if (next.active && !wasActive) {
    cues.push(promptCue(next.minLength, next.maxLength));
    return cues;
  }
  if (next.active) {
    const before = previous?.count ?? 0;
    // A notice is spoken when it appears, and again when OK is refused again for the same reason.
    // A key refused at the maximum length keeps the count and the same notice: each such key is told again.
    const refusedKey = action === 'press' && next.noticeCode === 'PIN_TOO_LONG' && next.count === before;
    const notice =
      next.noticeCode !== null && (action === 'submit' || refusedKey || next.noticeCode !== previous?.noticeCode) ? noticeCue(next.noticeCode) : null;
    if (notice !== null) cues.push(notice);
    else if (next.step === 'confirm' && previous?.step === 'enter') cues.push('confirm');
    else if (next.count > before) cues.push(countCue(next.count, next.minLength, next.maxLength));
    // The key, when known, says Erase or Clear; a pushed update that came first is read from the count.
    else if (action === 'erase' || (action === null && next.count === before - 1)) cues.push('erased');
    else if (action === 'clear' || (action === null && next.count === 0 && before > 1)) cues.push('cleared');
    const secondsBefore = previous?.secondsLeft ?? null;
    if (next.secondsLeft !== null && next.secondsLeft <= COUNTDOWN_CUE_AT_SECONDS && (secondsBefore === null || secondsBefore > COUNTDOWN_CUE_AT_SECONDS)) {
      cues.push('ten-seconds');
    }
    return cues;
  }
  // Only an outcome this page saw happen: a page loaded after it (the pad reloads after entry) says nothing again;
  // guidance adds one that main says no page has spoken yet.
  if (previous !== null && next.outcome !== null && next.outcome !== previous.outcome) cues.push(next.outcome);
  return cues;
}
