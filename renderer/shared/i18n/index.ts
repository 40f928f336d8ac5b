/** The operator window's texts: the desk, staff, approvals and every error, one language at a time. */
import type { StationErrorInfo } from '../../../common/errors';
import type { Language } from '../../../common/domain';
import { errorText, languageLoader, plural } from './catalogue';
import type { OperatorCatalogue } from './catalogue';

export { errorText, fill, LANGUAGE_NAMES, plural, showWhenLoaded } from './catalogue';
export type { OperatorCatalogue as Catalogue, OperatorAudioText, OperatorCatalogue, PadCatalogue } from './catalogue';

export const loadCatalogue = languageLoader<OperatorCatalogue>({
  en: () => import('./operator/en').then((module) => module.en),
  ru: () => import('./operator/ru').then((module) => module.ru),
  kk: () => import('./operator/kk').then((module) => module.kk),
});

/** errorText, with a lockout's minutes left said in the window's language. */
export function staffErrorText(catalogue: OperatorCatalogue, language: Language, error: StationErrorInfo): string {
  if (error.code === 'ACCOUNT_LOCKED_OUT' && error.minutesLeft !== undefined) {
    return `${catalogue.errors.ACCOUNT_LOCKED_OUT} ${plural(language, catalogue.staff.lockedOutFor, error.minutesLeft)}`;
  }
  return errorText(catalogue, error);
}
