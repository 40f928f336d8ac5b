/**
 * Every language's whole catalogue, pad and operator texts together, loaded
 * statically: tests look texts up synchronously, the pages load theirs on demand.
 */
import type { Language } from '../../common/domain';
import type { OperatorCatalogue, PadCatalogue } from '../../renderer/shared/i18n';
import { en as operatorEn } from '../../renderer/shared/i18n/operator/en';
import { kk as operatorKk } from '../../renderer/shared/i18n/operator/kk';
import { ru as operatorRu } from '../../renderer/shared/i18n/operator/ru';
import { en as padEn } from '../../renderer/shared/i18n/pad/en';
import { kk as padKk } from '../../renderer/shared/i18n/pad/kk';
import { ru as padRu } from '../../renderer/shared/i18n/pad/ru';

export type WholeCatalogue = PadCatalogue & OperatorCatalogue;

// The operator's errors already hold the pad's (every code), so they win the spread.
export const CATALOGUES: Readonly<Record<Language, WholeCatalogue>> = {
  en: { ...padEn, ...operatorEn },
  ru: { ...padRu, ...operatorRu },
  kk: { ...padKk, ...operatorKk },
};
export const PAD_CATALOGUES: Readonly<Record<Language, PadCatalogue>> = { en: padEn, ru: padRu, kk: padKk };
export const OPERATOR_CATALOGUES: Readonly<Record<Language, OperatorCatalogue>> = { en: operatorEn, ru: operatorRu, kk: operatorKk };
