/**
 * Audio guidance's part of the Station: whether this station can offer it now, and what the pad needs to speak.
 * Guidance plays only through the output device the config names, never the default one, so it is offered only
 * once the pad has found that device.
 */
import type { Language } from '../../common/domain';
import type { OperatorView, PinpadView } from '../../common/ipc';
import type { StationConfig } from './config';
import type { State } from './station-state';

/** Needs the switch on, an output device named, and the pad to have found it. */
export function audioAvailability(config: StationConfig, deviceFound: boolean): Omit<OperatorView['audio'], 'on'> {
  const { enabled, outputDevice } = config.pad.audio;
  const unavailableReason = !enabled ? 'disabled' : outputDevice === null ? 'no-device' : deviceFound ? null : 'device-absent';
  return { available: unavailableReason === null, unavailableReason };
}

/**
 * The pad's audio state: guidance for this card, how its entry ended (what the last prompt says), and the language
 * it speaks (`chosen` on the pad, else the pad's default).
 */
export function padAudioView(state: State, config: StationConfig, chosen: Language | null): PinpadView['audio'] {
  const { enabled, outputDevice } = config.pad.audio;
  const card = state.kind === 'idle' || state.kind === 'starting' ? null : state.card;
  const on = card?.audio === true;
  let outcome: PinpadView['audio']['outcome'] = null;
  if (on && state.kind === 'sending') outcome = 'sent';
  else if (on && state.kind === 'done') outcome = 'set';
  else if (on && (state.kind === 'failed' || state.kind === 'recording')) {
    outcome = state.error.code === 'PIN_CANCELLED' ? 'cancelled' : state.error.code === 'PIN_TIMEOUT' ? 'timeout' : 'failed';
  }
  return { on, outputDevice: enabled ? outputDevice : null, outcome, language: on ? (chosen ?? config.pad.language) : null };
}

/** An outcome after which nothing more is spoken for the card ('sent' still waits for the processor's answer). */
export function isFinalOutcome(outcome: PinpadView['audio']['outcome']): boolean {
  return outcome !== null && outcome !== 'sent';
}
