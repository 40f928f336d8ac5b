import { StationError } from './errors';

/** Card ID rule: configurable; by default 1-64 of A-Z a-z 0-9 _ - (checked in the operator window and again in main). */
export const DEFAULT_CARD_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
export const CARD_ID_PATTERN = new RegExp(DEFAULT_CARD_ID_PATTERN);

/** Compiles a configured pattern; it must be anchored at both ends so a partial match cannot pass. */
export function compileCardIdPattern(source: string): RegExp | null {
  if (!source.startsWith('^') || !source.endsWith('$') || source.length > 200) return null;
  try {
    // Wrapped as a whole, so an alternation such as ^A|B$ cannot match a mere part of the ID.
    return new RegExp(`^(?:${source})$`, 'u');
  } catch {
    return null;
  }
}

/**
 * A card ID as typed, trimmed and checked against the configured rule (`patternSource`); CARD_ID_INVALID otherwise.
 * No control, invisible (format) or line-separator characters either: a card ID is read in the trail and exports.
 */
export function checkedCardId(typed: string, patternSource: string): string {
  const cardId = typed.trim();
  const pattern = compileCardIdPattern(patternSource) ?? CARD_ID_PATTERN;
  if (!pattern.test(cardId) || /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(cardId)) throw new StationError('CARD_ID_INVALID');
  return cardId;
}
