/** The PIN pad's texts: only what the cardholder sees, one language at a time. */
import { languageLoader } from './catalogue';
import type { PadCatalogue } from './catalogue';

export { errorText, fill, LANGUAGE_NAMES, plural, showWhenLoaded } from './catalogue';
export type { PadCatalogue } from './catalogue';

export const loadPadCatalogue = languageLoader<PadCatalogue>({
  en: () => import('./pad/en').then((module) => module.en),
  ru: () => import('./pad/ru').then((module) => module.ru),
  kk: () => import('./pad/kk').then((module) => module.kk),
});
