/**
 * Audio guidance's part of the Station: whether this station can offer it now, and what the pad needs to speak.
 * Guidance plays only through the output device the config names, never the default one, so it is offered only
 * once the pad has found that device.
 */
import { statSync } from 'node:fs';
import type { Language } from '../../common/domain';
import type { AudioUnavailableReason, OperatorView, PinpadView } from '../../common/ipc';
import type { StationConfig } from './config';
import type { State } from './station-state';

/** Needs the switch on, an output device named, the bank's voice folder (when one is named) there, and the pad to have found the device. */
export function audioAvailability(config: StationConfig, deviceFound: boolean): Omit<OperatorView['audio'], 'on'> {
  const { enabled, outputDevice, voiceFolder } = config.pad.audio;
  let unavailableReason: AudioUnavailableReason | null = null;
  if (!enabled) unavailableReason = 'disabled';
  else if (outputDevice === null) unavailableReason = 'no-device';
  // A mistyped folder would quietly play the built-in voice instead of the bank's: guidance waits until it is fixed.
  else if (voiceFolder !== null && !isFolder(voiceFolder)) unavailableReason = 'voice-folder-missing';
  else if (!deviceFound) unavailableReason = 'device-absent';
  return { available: unavailableReason === null, unavailableReason };
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
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
