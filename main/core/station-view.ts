/**
 * What each window may know of the Station, built from its state: the operator window never a digit (counts and
 * outcomes only), the pad its layout and how many digits were entered.
 */
import type { Language } from '../../common/domain';
import type { OperatorView, PinpadView } from '../../common/ipc';
import { isFinalOutcome } from '../../common/ipc';
import type { StaffView } from '../../common/staff';
import { missingCaseError } from '../../common/missing-case';
import { daysToExpiry } from '../crypto/processor-key';
import type { ProcessorKey } from '../crypto/processor-key';
import type { StationConfig } from './config';
import { SANDBOX_BASE_URL } from './config';
import { FIXED_LAYOUT } from './pin-session';
import type { Card, State } from './station-state';
import { shownState } from './station-state';
import { secondsLeft } from './station-entry';
import { audioAvailability, padAudioView } from './station-audio';
import type { AudioFacts } from './station-audio';

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

/** The operator view's parts that come from outside the card. */
export interface OperatorFacts {
  readonly config: StationConfig;
  readonly interruptedCards: readonly string[];
  readonly auditOutcomePending: string | null;
  readonly auditShippingDelayedSince: string | null;
  readonly managedSettings: readonly string[];
  readonly staff: StaffView;
  /** The processor's key as last read (public-key profile). */
  readonly processorKey: ProcessorKey | null;
  /** Whether the pad found the configured audio output device. */
  readonly audio: AudioFacts;
}

type CardPart = Pick<OperatorView, 'phase' | 'cardId' | 'mode' | 'pad' | 'outcome' | 'error' | 'auditError'>;

export function operatorView(state: State, facts: OperatorFacts): OperatorView {
  const { config } = facts;
  return {
    ...cardPart(state),
    panRequired: config.profile === 'iso4',
    cardIdPattern: config.operator.cardIdPattern,
    language: config.operator.language,
    usingSandboxProcessor: config.processor.baseUrl === SANDBOX_BASE_URL,
    repeatWindowHours: config.approval.repeatWindowHours,
    interruptedCards: [...facts.interruptedCards],
    auditOutcomePending: facts.auditOutcomePending,
    auditShippingDelayedSince: facts.auditShippingDelayedSince,
    managedSettings: [...facts.managedSettings],
    staff: facts.staff,
    processorKey: processorKeyView(config, facts.processorKey),
    audio: { ...audioAvailability(config, facts.audio), on: state.kind === 'awaiting-pin' && state.card.audio },
  };
}

function cardPart(state: State): CardPart {
  // A Start still waiting on the keychain shows what was there before it.
  const shown = shownState(state);
  const none = { pad: null, outcome: null, error: null, auditError: null };
  switch (shown.kind) {
    case 'idle':
      return { phase: 'idle', cardId: null, mode: null, ...none };
    case 'awaiting-pin': {
      const { session } = shown.entry;
      const pad = { step: session.step, count: session.count, secondsLeft: secondsLeft(shown.entry), restarts: session.restarts };
      return { phase: 'awaiting-pin', ...cardOf(shown.card), ...none, pad };
    }
    case 'sending':
      return { phase: 'sending', ...cardOf(shown.card), ...none };
    case 'recording':
      // An ended entry being recorded already shows as failed (with its reason); the record follows.
      return { phase: 'failed', ...cardOf(shown.card), ...none, error: shown.error };
    case 'done':
      return { phase: 'done', ...cardOf(shown.card), ...none, outcome: shown.outcome, auditError: shown.auditError };
    case 'failed':
      return { phase: 'failed', ...cardOf(shown.card), pad: null, outcome: shown.outcome, error: shown.error, auditError: shown.auditError };
    default:
      throw missingCaseError(shown);
  }
}

function cardOf(card: Card): Pick<OperatorView, 'cardId' | 'mode'> {
  return { cardId: card.cardId, mode: card.mode };
}

function processorKeyView(config: StationConfig, processorKey: ProcessorKey | null): OperatorView['processorKey'] {
  const key = config.profile === 'public-key' ? processorKey : null;
  if (key === null) return null;
  return { kcv: key.kcv, notAfter: key.notAfter?.toISOString() ?? null, daysLeft: daysToExpiry(key, new Date()) };
}

/**
 * `revision` counts the pad views published; `cardholderLanguage` is the language chosen on the pad, if any;
 * `outcomeUnspoken` that no pad page has reported speaking this card's final outcome yet.
 */
export function pinpadView(
  state: State,
  config: StationConfig,
  revision: number,
  cardholderLanguage: Language | null = null,
  outcomeUnspoken = false,
): PinpadView {
  const entry = state.kind === 'awaiting-pin' ? state.entry : null;
  const { minLength, maxLength } = config.pin;
  return {
    active: entry !== null,
    step: entry?.session.step ?? 'enter',
    count: entry?.session.count ?? 0,
    minLength,
    maxLength,
    layout: entry ? Array.from(entry.session.layout) : [...FIXED_LAYOUT],
    notice: entry?.notice ?? null,
    secondsLeft: entry ? secondsLeft(entry) : null,
    language: config.pad.language,
    keyboardInput: config.pad.keyboardInput || (entry !== null && state.kind === 'awaiting-pin' && state.card.audio),
    audio: speakOutcomeIfOwed(padAudioView(state, config, cardholderLanguage), outcomeUnspoken),
    revision,
  };
}

/** A fresh pad page says nothing of an outcome it did not see happen, unless no page has spoken it yet. */
function speakOutcomeIfOwed(audio: PinpadView['audio'], outcomeUnspoken: boolean): PinpadView['audio'] {
  return { ...audio, speakOutcome: audio.on && isFinalOutcome(audio.outcome) && outcomeUnspoken };
}
