/**
 * The names of the audio guidance cues: one clip per name and language. Shared by the pad (which plays them), main
 * (which serves them, from a bank's own voice folder too) and the clip script. Named by event and counts only.
 */
import { PIN_MAX_LENGTH, PIN_MIN_LENGTH } from './domain';

/** Events with one fixed clip each. */
export const FIXED_CUES = [
  'erased',
  'cleared',
  'too-short',
  'too-long',
  'confirm',
  'mismatch',
  'mismatch-restart',
  'weak-repeated',
  'weak-sequence',
  'weak-denied',
  'ten-seconds',
  'sent',
  'set',
  'failed',
  'cancelled',
  'timeout',
] as const;
export type FixedCue = (typeof FIXED_CUES)[number];

/** The entry prompt: the required length (exact or a range) and where OK is. */
export const promptCue = (min: number, max: number): string => (min === max ? `prompt-exact-${max}` : `prompt-range-${min}-${max}`);
/** After each key: "k of n digits" (or "k digits" when the length is a range). */
export const countCue = (count: number, min: number, max: number): string => (min === max ? `count-${count}-of-${max}` : `count-${count}`);

/** Every cue a station may play, for any allowed PIN length: the clip set is complete when each has a file. */
export function allCues(): string[] {
  const cues: string[] = [];
  for (let min = PIN_MIN_LENGTH; min <= PIN_MAX_LENGTH; min++) {
    for (let max = min; max <= PIN_MAX_LENGTH; max++) cues.push(promptCue(min, max));
  }
  for (let max = PIN_MIN_LENGTH; max <= PIN_MAX_LENGTH; max++) {
    for (let count = 1; count <= max; count++) cues.push(countCue(count, max, max));
  }
  for (let count = 1; count <= PIN_MAX_LENGTH; count++) cues.push(countCue(count, PIN_MIN_LENGTH, PIN_MAX_LENGTH));
  return [...cues, ...FIXED_CUES];
}
