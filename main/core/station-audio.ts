/**
 * Audio guidance's part of the Station: whether this station can offer it now, and what the pad needs to speak.
 * Guidance plays only through the output device the config names, never the default one, so it is offered only
 * once the pad has found that device.
 */
import type { Language } from '../../common/domain';
import type { AudioUnavailableReason, OperatorView, PinpadView } from '../../common/ipc';
import type { StationConfig } from './config';
import type { State } from './station-state';
import { voiceFolderProblem } from './voice-folder';

/** What decides whether guidance can be offered, besides the config: learnt from the pad and the file system. */
export interface AudioFacts {
  /** The pad found the configured output device (it reports on load and at every device change). */
  readonly deviceFound: boolean;
  /** What is wrong with the bank's voice folder, if one is named; null when it is fine or none is named. */
  readonly voiceFolderProblem: VoiceFolderReason | null;
}

export type VoiceFolderReason = Extract<AudioUnavailableReason, 'voice-folder-missing' | 'voice-folder-unsafe'>;

/** Needs the switch on, an output device named, the bank's voice folder (when one is named) fine, and the pad to have found the device. */
export function audioAvailability(config: StationConfig, facts: AudioFacts): Omit<OperatorView['audio'], 'on'> {
  const { enabled, outputDevice } = config.pad.audio;
  let unavailableReason: AudioUnavailableReason | null = null;
  if (!enabled) unavailableReason = 'disabled';
  else if (outputDevice === null) unavailableReason = 'no-device';
  // A mistyped folder would quietly play the built-in voice instead of the bank's: guidance waits until it is fixed.
  else if (facts.voiceFolderProblem !== null) unavailableReason = facts.voiceFolderProblem;
  else if (!facts.deviceFound) unavailableReason = 'device-absent';
  return { available: unavailableReason === null, unavailableReason };
}

/** A folder someone other than an administrator can write could make the pad say anything: not used, and said. */
function voiceFolderReason(folder: string | null): VoiceFolderReason | null {
  if (folder === null) return null;
  const problem = voiceFolderProblem(folder);
  if (problem === null) return null;
  return problem === 'missing' ? 'voice-folder-missing' : 'voice-folder-unsafe';
}

/**
 * The Station's audio facts between views. The voice folder is looked at when the station starts, at each Start and
 * at each report from the pad, never while a view is built: a view is built per key press, and a folder on a slow
 * share must not stall one.
 */
export class StationAudio implements AudioFacts {
  deviceFound = false;
  voiceFolderProblem: VoiceFolderReason | null;
  /** The language the cardholder chose on the pad; kept for an audio entry until its outcome is final (the pad reloads before that). */
  cardholderLanguage: Language | null = null;
  /** A pad page reported it spoke the card's final outcome; until then a freshly loaded page is told to speak it. */
  outcomeCueReported = false;

  constructor(private readonly config: () => StationConfig) {
    this.voiceFolderProblem = voiceFolderReason(config().pad.audio.voiceFolder);
  }

  /** Looks at the voice folder again; says whether what it found changed. */
  lookAtVoiceFolder(): boolean {
    const problem = voiceFolderReason(this.config().pad.audio.voiceFolder);
    const changed = problem !== this.voiceFolderProblem;
    this.voiceFolderProblem = problem;
    return changed;
  }

  availability(): Omit<OperatorView['audio'], 'on'> {
    return audioAvailability(this.config(), this);
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
