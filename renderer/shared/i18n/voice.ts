/**
 * What each audio guidance cue says, in each language: the source text of the clips (scripts/make-voice-clips.ts)
 * and of a bank's own recordings. Numbers in a text are counts (length, digits entered), never a digit of a PIN.
 * Never loaded by the pad: it plays the clips, and its script budget has no room for these texts.
 */
import { type Language, PIN_MAX_LENGTH, PIN_MIN_LENGTH } from '../../../common/domain';
import { FIXED_CUES, type FixedCue } from '../../../common/voice-cues';
import { en } from './voice/en';
import { kk } from './voice/kk';
import { ru } from './voice/ru';

export interface VoiceCatalogue {
  readonly promptExact: (length: number) => string;
  readonly promptRange: (min: number, max: number) => string;
  readonly countOf: (count: number, length: number) => string;
  readonly count: (count: number) => string;
  readonly fixed: Readonly<Record<FixedCue, string>>;
}

const TRANSCRIPTS: Readonly<Record<Language, VoiceCatalogue>> = { en, ru, kk };

/** The text of `cue` in `language`, or null for a cue name that does not exist. */
export function transcript(cue: string, language: Language): string | null {
  const text = TRANSCRIPTS[language];
  if ((FIXED_CUES as readonly string[]).includes(cue)) return text.fixed[cue as FixedCue];
  const inRange = (...numbers: number[]) => numbers.every((n) => n >= 1 && n <= PIN_MAX_LENGTH);
  let match = /^prompt-exact-(\d+)$/.exec(cue);
  if (match) return Number(match[1]) >= PIN_MIN_LENGTH && inRange(Number(match[1])) ? text.promptExact(Number(match[1])) : null;
  match = /^prompt-range-(\d+)-(\d+)$/.exec(cue);
  if (match) return inRange(Number(match[1]), Number(match[2])) ? text.promptRange(Number(match[1]), Number(match[2])) : null;
  match = /^count-(\d+)-of-(\d+)$/.exec(cue);
  if (match) return inRange(Number(match[1]), Number(match[2])) ? text.countOf(Number(match[1]), Number(match[2])) : null;
  match = /^count-(\d+)$/.exec(cue);
  if (match) return inRange(Number(match[1])) ? text.count(Number(match[1])) : null;
  return null;
}
