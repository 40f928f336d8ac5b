/** The PIN pad's texts: only what the cardholder sees, one language at a time. */
import { languageLoader } from './catalogue';
import type { PadCatalogue } from './catalogue';
import { en } from './pad/en';

export { errorText, fill, LANGUAGE_NAMES, plural, showWhenLoaded } from './catalogue';
export type { PadCatalogue } from './catalogue';

export const loadPadCatalogue = languageLoader<PadCatalogue>({
  // English, the default and the fallback, is part of the page (a few hundred bytes): a pad set to English shows
  // its keypad as soon as main's first state arrives, without fetching a chunk after it. The others load on demand.
  en: () => Promise.resolve(en),
  ru: () => import('./pad/ru').then((module) => module.ru),
  kk: () => import('./pad/kk').then((module) => module.kk),
});
