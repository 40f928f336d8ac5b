/**
 * Audio guidance on the pad: turns each change of the pad's state into its cue and plays that cue's clip on the
 * configured output device. Loaded with a dynamic import only on a station that offers audio guidance, so the
 * pad's own bundle stays as it was.
 */
import { isFinalOutcome, type PinpadView } from '../../../common/ipc';
import type { Language } from '../../../common/domain';
import { cuesFor, type GuidanceState, type PadAction } from './cues';
import { findOutputDevice, mediaElementOutput, type AudioOutput, type OutputDevice } from './output';

export { findOutputDevice } from './output';

/** Where the clips are, beside the pad page (a bank's own recordings replace them there). */
export const clipUrl = (language: Language, cue: string): string => new URL(`../voice/${language}/${cue}.opus`, document.baseURI).href;

const guidanceState = (view: PinpadView): GuidanceState => ({
  active: view.active,
  step: view.step,
  count: view.count,
  minLength: view.minLength,
  maxLength: view.maxLength,
  noticeCode: view.notice?.code ?? null,
  secondsLeft: view.secondsLeft,
  outcome: view.audio.outcome,
  revision: view.revision,
});

export interface Guidance {
  /** Whether the configured output device is connected. */
  readonly deviceFound: boolean;
  /** The cardholder pressed a key of this kind: a newer view answers it, keys in the order pressed. */
  noteAction(action: PadAction): void;
  /** A newer view of the pad, in the language it is shown in; `replyTo` when it is the reply to that key. */
  update(view: PinpadView, language: Language, replyTo?: PadAction | null): void;
}

/**
 * `onDeviceChange` hears whether the device is there after each change of the system's devices (unplugged, back);
 * `onOutcomeSpoken` that the card's final outcome has been spoken (or could not be): main reloads the pad then.
 */
export async function startGuidance(
  deviceLabel: string | null,
  onDeviceChange: (found: boolean) => void = () => undefined,
  output: AudioOutput = window.pinpadAudioOutput ?? mediaElementOutput(),
  onOutcomeSpoken: () => void = () => undefined,
): Promise<Guidance> {
  let device: OutputDevice | null = null;
  const lookUp = async (): Promise<void> => {
    try {
      device = findOutputDevice(await output.outputs(), deviceLabel);
    } catch {
      device = null;
    }
  };
  await lookUp();
  navigator.mediaDevices?.addEventListener?.('devicechange', () => void lookUp().then(() => onDeviceChange(device !== null)));
  let previous: GuidanceState | null = null;
  // Keys not yet answered, oldest first (quick keys each get their own answer: a Clear right after a digit is a Clear).
  const pendingActions: PadAction[] = [];
  // Whether the view last taken claimed a key: a push that changed nothing leaves its key to the reply of the same revision.
  let lastClaimed = false;
  // The language of the entry: the pad goes back to its default as entry ends, the last cue stays in the cardholder's.
  let entryLanguage: Language | null = null;
  // Outcome cues follow each other whole ("sent", then "set" a moment later): the second waits for the first.
  let outcomeSpoken: Promise<void> = Promise.resolve();
  const playSafely = async (cue: string, language: Language): Promise<void> => {
    // A clip that cannot play (or a device unplugged meanwhile) must not stop entry; the next cue is tried as usual.
    if (device !== null) await output.play(cue, language, clipUrl(language, cue), device.deviceId).catch(() => undefined);
  };
  return {
    get deviceFound() {
      return device !== null;
    },
    noteAction(action) {
      pendingActions.push(action);
    },
    update(view, language, replyTo = null) {
      const next = guidanceState(view);
      // The reply to a key whose pushed view came first but changed nothing (a digit refused at the maximum): the
      // key is answered by that same view now.
      const lateReply = replyTo !== null && previous !== null && next.revision === previous.revision && !lastClaimed;
      // A reply is its key's answer even when a newer view overtook it: left queued, it would take a later key's view.
      if (replyTo !== null) {
        const index = pendingActions.indexOf(replyTo);
        if (index >= 0) pendingActions.splice(index, 1);
      }
      if (previous !== null && next.revision <= previous.revision && !lateReply) return;
      // A countdown tick that overtakes a key's answer changes nothing the key did: the key's cue waits for its view.
      const answersKey =
        previous === null ||
        next.count !== previous.count ||
        next.step !== previous.step ||
        next.noticeCode !== previous.noticeCode ||
        next.active !== previous.active;
      let action: PadAction | null = null;
      if (replyTo !== null) action = replyTo;
      else if (answersKey) action = pendingActions.shift() ?? null;
      if (!next.active) pendingActions.length = 0;
      lastClaimed = action !== null;
      // This page speaks the final outcome when it saw it happen, or when it is the first to show one never spoken.
      const ownsOutcome =
        view.audio.on &&
        !view.active &&
        isFinalOutcome(next.outcome) &&
        (previous === null ? view.audio.speakOutcome === true : previous.outcome !== next.outcome);
      const owed = ownsOutcome && previous === null && next.outcome !== null ? [next.outcome] : [];
      const cues = view.audio.on && device !== null ? [...cuesFor(previous, next, action), ...owed] : [];
      previous = view.audio.on ? next : null;
      if (view.active) entryLanguage = language;
      // After entry, main's record of the card's language: this page may be a fresh one that never saw the entry.
      const spoken = view.active ? language : (view.audio.language ?? entryLanguage ?? language);
      if (!view.audio.on) entryLanguage = null;
      if (view.active) {
        outcomeSpoken = Promise.resolve();
        for (const cue of cues) void playSafely(cue, spoken);
        return;
      }
      for (const cue of cues) outcomeSpoken = outcomeSpoken.then(() => playSafely(cue, spoken));
      // Reported only by the page that spoke it (or could not): main reloads the pad then.
      if (ownsOutcome) void outcomeSpoken.then(onOutcomeSpoken);
    },
  };
}
