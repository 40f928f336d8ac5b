/** The pad's visible "audio guidance on" status, for the operator and sighted helpers (kept out of the shared catalogue: used only here). */
import type { Language } from '../../../common/domain';

export const AUDIO_STATUS: Readonly<Record<Language, string>> = {
  en: 'Audio guidance on',
  ru: 'Голосовые подсказки включены',
  kk: 'Дауыстық нұсқаулық қосулы',
};
