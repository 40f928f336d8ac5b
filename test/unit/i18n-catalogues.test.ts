/**
 * The message catalogues (renderer/shared/i18n): the type system already
 * requires every key, but a catalogue can still be cast, spread or edited
 * into shape, so this checks at run time that en, ru and kk say the same
 * things, with the same placeholders, and that plurals work. Each page's
 * part (pad, operator) is checked on its own as well as together.
 */
import { describe, expect, it } from 'vitest';
import { ERROR_MESSAGES } from '../../common/errors';
import type { ErrorCode } from '../../common/errors';
import { LANGUAGES } from '../../common/domain';
import { errorText, fill, loadCatalogue, plural } from '../../renderer/shared/i18n';
import { PAD_ERROR_CODES } from '../../renderer/shared/i18n/catalogue';
import { loadPadCatalogue } from '../../renderer/shared/i18n/pad';
import { CATALOGUES, OPERATOR_CATALOGUES, PAD_CATALOGUES } from '../helpers/catalogues';

const PLURAL_CATEGORIES: ReadonlySet<string> = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);
type Tree = { readonly [key: string]: unknown };

const isTree = (value: unknown): value is Tree => typeof value === 'object' && value !== null && !Array.isArray(value);
/** An object whose keys are all CLDR plural categories is a set of plural forms, not a branch of the catalogue. */
const isPluralForms = (value: Tree): boolean => Object.keys(value).length > 0 && Object.keys(value).every((key) => PLURAL_CATEGORIES.has(key));

/** Every leaf as "path" -> value, plural forms kept together as one leaf. */
function leaves(tree: Tree, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isTree(value) && !isPluralForms(value)) for (const [p, v] of leaves(value, path)) out.set(p, v);
    else out.set(path, value);
  }
  return out;
}

/**
 * Key paths one catalogue lacks or adds relative to another. Plural forms are
 * one leaf: their categories legitimately differ (Russian needs one/few/many,
 * Kazakh only other).
 */
function keyDiff(reference: Tree, catalogue: Tree): { missing: string[]; extra: string[] } {
  const want = [...leaves(reference).keys()];
  const have = [...leaves(catalogue).keys()];
  return { missing: want.filter((path) => !have.includes(path)).sort(), extra: have.filter((path) => !want.includes(path)).sort() };
}

const placeholders = (text: string): string[] => [...new Set(Array.from(text.matchAll(/\{(\w+)\}/g), (m) => m[1] as string))].sort();

describe('i18n catalogues', () => {
  const catalogues = LANGUAGES.map((language) => [language, CATALOGUES[language] as unknown as Tree] as const);

  it('all three exist and have exactly the same nested keys (recursively)', () => {
    expect(Object.keys(CATALOGUES).sort()).toEqual([...LANGUAGES].sort());
    for (const [language, catalogue] of catalogues) {
      expect({ language, ...keyDiff(CATALOGUES.en as unknown as Tree, catalogue) }).toEqual({ language, missing: [], extra: [] });
    }
  });

  it('the key-set check itself catches a key only one catalogue has, at any depth', () => {
    const en = CATALOGUES.en as unknown as Tree;
    const pad = en.pad as Tree;
    const withoutErase = { ...en, pad: Object.fromEntries(Object.entries(pad).filter(([key]) => key !== 'erase')) };
    expect(keyDiff(en, withoutErase)).toEqual({ missing: ['pad.erase'], extra: [] });
    expect(keyDiff(en, { ...en, operator: { ...(en.operator as Tree), waiting: { enter: 'x' } } })).toEqual({
      missing: ['operator.waiting.confirm'],
      extra: [],
    });
    expect(keyDiff(en, { ...en, errors: { ...(en.errors as Tree), NEW_CODE: 'x' } })).toEqual({ missing: [], extra: ['errors.NEW_CODE'] });
  });

  it('has no empty strings, only strings or plural forms as leaves, and every plural set has "other"', () => {
    for (const [language, catalogue] of catalogues) {
      for (const [path, value] of leaves(catalogue)) {
        if (isTree(value)) {
          expect(Object.keys(value), `${language} ${path}`).toContain('other');
          for (const [form, text] of Object.entries(value)) {
            expect(typeof text, `${language} ${path}.${form}`).toBe('string');
            expect((text as string).trim(), `${language} ${path}.${form}`).not.toBe('');
            expect(placeholders(text as string), `${language} ${path}.${form} must show the number`).toEqual(['n']);
          }
        } else {
          expect(typeof value, `${language} ${path}`).toBe('string');
          expect((value as string).trim(), `${language} ${path}`).not.toBe('');
        }
      }
    }
  });

  it('uses the same placeholders for the same message in every language', () => {
    const reference = leaves(CATALOGUES.en as unknown as Tree);
    for (const [language, catalogue] of catalogues) {
      for (const [path, value] of leaves(catalogue)) {
        const en = reference.get(path);
        if (typeof value === 'string' && typeof en === 'string') expect(placeholders(value), `${language} ${path}`).toEqual(placeholders(en));
      }
    }
  });

  it("has a message for every error code in each language, and English is main's own text", () => {
    const codes = Object.keys(ERROR_MESSAGES) as ErrorCode[];
    expect(codes.length).toBeGreaterThan(20);
    for (const language of LANGUAGES) {
      const errors = CATALOGUES[language].errors;
      expect(Object.keys(errors).sort(), language).toEqual([...codes].sort());
      for (const code of codes) expect(errors[code].trim(), `${language} ${code}`).not.toBe('');
    }
    for (const code of codes) expect(CATALOGUES.en.errors[code]).toBe(ERROR_MESSAGES[code]);
    // Translated messages are really translated (not English left behind).
    for (const language of ['ru', 'kk'] as const) {
      for (const code of codes) expect(CATALOGUES[language].errors[code], `${language} ${code}`).not.toBe(ERROR_MESSAGES[code]);
    }
  });

  it('the language review holds: no text tells the cardholder staff will enter the PIN, runs say up or down, Kazakh says цифр', () => {
    expect(CATALOGUES.ru.pad.waitBody).toBe('Ввод ПИН\u2011кода начнётся, когда сотрудник банка его запустит.');
    expect(CATALOGUES.kk.pad.waitBody).toBe('PIN\u2011код енгізуді банк қызметкері іске қосады.');
    expect(CATALOGUES.ru.errors.PIN_SEQUENCE).toMatch(/по возрастанию или убыванию/);
    expect(CATALOGUES.kk.errors.PIN_SEQUENCE).toMatch(/өсу немесе кему/);
    const kkTexts = JSON.stringify(CATALOGUES.kk);
    // «сан» (number, count) is not the word for a digit.
    expect(kkTexts).not.toMatch(/(^|[^\p{L}])сан(ы|нан|дар)?([^\p{L}]|$)/u);
    expect(kkTexts).not.toContain('Карта ID');
    for (const language of ['ru', 'kk'] as const) {
      // PIN-код is written with a non-breaking hyphen, so a narrow pad never splits it.
      expect(JSON.stringify(CATALOGUES[language])).not.toMatch(/(PIN|ПИН)-код/);
    }
  });

  it('plural() picks the right Russian, Kazakh and English forms', () => {
    const ru = CATALOGUES.ru.pad.lengthExact;
    expect(plural('ru', ru, 1)).toBe('1 цифра');
    expect(plural('ru', ru, 3)).toBe('3 цифры');
    expect(plural('ru', ru, 5)).toBe('5 цифр');
    expect(plural('ru', ru, 12)).toBe('12 цифр');
    expect(plural('ru', ru, 21)).toBe('21 цифра');
    expect(plural('ru', ru, 22)).toBe('22 цифры');
    expect(plural('ru', CATALOGUES.ru.pad.digitsEntered, 0)).toBe('Введено 0 цифр');
    expect(plural('ru', CATALOGUES.ru.pad.digitsEntered, 1)).toBe('Введена 1 цифра');
    expect(plural('ru', CATALOGUES.ru.pad.digitsEntered, 4)).toBe('Введено 4 цифры');
    expect(plural('kk', CATALOGUES.kk.pad.digitsEntered, 1)).toBe('1 цифр енгізілді');
    expect(plural('kk', CATALOGUES.kk.pad.digitsEntered, 4)).toBe('4 цифр енгізілді');
    expect(plural('en', CATALOGUES.en.pad.digitsEntered, 1)).toBe('1 digit entered');
    expect(plural('en', CATALOGUES.en.pad.digitsEntered, 0)).toBe('0 digits entered');
    expect(plural('en', CATALOGUES.en.pad.digitsEntered, 3)).toBe('3 digits entered');
  });

  it('fill() substitutes named values and leaves unknown placeholders alone', () => {
    expect(fill(CATALOGUES.ru.pad.lengthRange, { min: 4, max: 12 })).toBe('от 4 до 12 цифр');
    expect(fill(CATALOGUES.ru.pad.secondsLeft, { s: 7 })).toBe('Осталось 7 с');
    expect(fill(CATALOGUES.kk.pad.secondsLeft, { s: 7 })).toBe('7 с қалды');
    expect(fill('{a} and {b}', { a: 1 })).toBe('1 and {b}');
  });

  it("errorText() translates by code and keeps main's detail", () => {
    const detail = { code: 'KEYCHAIN_ENTRY_MISSING', message: `${ERROR_MESSAGES.KEYCHAIN_ENTRY_MISSING} Entry "pin-key" was not found.` } as const;
    expect(errorText(CATALOGUES.ru, detail)).toBe(`${CATALOGUES.ru.errors.KEYCHAIN_ENTRY_MISSING} Entry "pin-key" was not found.`);
    expect(errorText(CATALOGUES.kk, { code: 'PIN_TIMEOUT', message: ERROR_MESSAGES.PIN_TIMEOUT })).toBe(CATALOGUES.kk.errors.PIN_TIMEOUT);
  });

  it('each page part has the same keys in every language, and the pad part holds no staff, approval or audit text', () => {
    for (const parts of [PAD_CATALOGUES, OPERATOR_CATALOGUES]) {
      for (const language of LANGUAGES) {
        expect({ language, ...keyDiff(parts.en as unknown as Tree, parts[language] as unknown as Tree) }).toEqual({ language, missing: [], extra: [] });
      }
    }
    expect(Object.keys(PAD_CATALOGUES.en).sort()).toEqual(['errors', 'pad']);
    expect(Object.keys(OPERATOR_CATALOGUES.en).sort()).toEqual(['approval', 'audio', 'errors', 'operator', 'staff']);
    for (const language of LANGUAGES) {
      expect(Object.keys(PAD_CATALOGUES[language].errors).sort(), language).toEqual([...PAD_ERROR_CODES].sort());
      // The operator's error texts include the pad's very texts, written once.
      for (const code of PAD_ERROR_CODES) expect(OPERATOR_CATALOGUES[language].errors[code]).toBe(PAD_CATALOGUES[language].errors[code]);
    }
  });

  it('the loaders give each language its own catalogue, once, and the pad error text falls back to main for a code it lacks', async () => {
    for (const language of LANGUAGES) {
      const pad = await loadPadCatalogue(language);
      expect(pad.pad).toEqual(PAD_CATALOGUES[language].pad);
      expect(await loadPadCatalogue(language)).toBe(pad);
      expect((await loadCatalogue(language)).staff).toEqual(OPERATOR_CATALOGUES[language].staff);
    }
    const ru = await loadPadCatalogue('ru');
    const keychain = { code: 'KEYCHAIN_UNAVAILABLE', message: ERROR_MESSAGES.KEYCHAIN_UNAVAILABLE } as const;
    expect(errorText(ru, keychain)).toBe(ERROR_MESSAGES.KEYCHAIN_UNAVAILABLE);
    expect(errorText(ru, { code: 'PIN_TOO_SHORT', message: `${ERROR_MESSAGES.PIN_TOO_SHORT} Enter at least 4 digits.` })).toBe(
      `${PAD_CATALOGUES.ru.errors.PIN_TOO_SHORT} Enter at least 4 digits.`,
    );
  });
});
