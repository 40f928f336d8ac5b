import { ERROR_MESSAGES } from '../../../common/errors';
import type { ErrorCode, StationErrorInfo } from '../../../common/errors';
import type { Language } from '../../../common/ipc';
import type { Catalogue } from './catalogue';
import { en } from './en';
import { kk } from './kk';
import { ru } from './ru';

import { plural } from './catalogue';
export { fill, plural } from './catalogue';
export type { Catalogue } from './catalogue';

export const CATALOGUES: Readonly<Record<Language, Catalogue>> = { en, ru, kk };

/**
 * The message for an error in the window's language. Main's message is the
 * English text plus an optional detail (an entry name, an HTTP status), which
 * is kept; an unknown code falls back to main's message.
 */
export function errorText(catalogue: Catalogue, error: StationErrorInfo): string {
  if (!Object.prototype.hasOwnProperty.call(ERROR_MESSAGES, error.code)) return error.message;
  const code = error.code as ErrorCode;
  const base = ERROR_MESSAGES[code];
  const detail = error.message.startsWith(base) ? error.message.slice(base.length).trim() : '';
  return detail ? `${catalogue.errors[code]} ${detail}` : catalogue.errors[code];
}

/** errorText, with a lockout's minutes left said in the window's language. */
export function staffErrorText(catalogue: Catalogue, language: Language, error: StationErrorInfo): string {
  if (error.code === 'ACCOUNT_LOCKED_OUT' && error.minutesLeft !== undefined) {
    return `${catalogue.errors.ACCOUNT_LOCKED_OUT} ${plural(language, catalogue.staff.lockedOutFor, error.minutesLeft)}`;
  }
  return errorText(catalogue, error);
}
