/**
 * showWhenLoaded (renderer/shared/i18n/catalogue.ts), the one place both
 * windows load a newly chosen language's texts: a language chosen and then
 * given up before its texts arrive never replaces the newer choice, whatever
 * order the answers come in; a failed load leaves the texts on screen.
 */
import { describe, expect, it } from 'vitest';
import type { Language } from '../../common/domain';
import { showWhenLoaded } from '../../renderer/shared/i18n/catalogue';

/** A loader whose answers the test releases one language at a time, in any order. */
function manualLoader() {
  const pending = new Map<Language, { resolve: (texts: string) => void; reject: (error: Error) => void }>();
  const load = (language: Language): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      pending.set(language, { resolve, reject });
    });
  const answer = (language: Language): void => pending.get(language)?.resolve(`${language} texts`);
  const fail = (language: Language): void => pending.get(language)?.reject(new Error('chunk failed to load'));
  return { load, answer, fail };
}

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('showWhenLoaded', () => {
  it('shows the texts of the language still wanted', async () => {
    const loader = manualLoader();
    const shown: string[] = [];
    showWhenLoaded(loader.load, 'ru', (texts) => shown.push(texts));
    loader.answer('ru');
    await settle();
    expect(shown).toEqual(['ru texts']);
  });

  it('ignores a slower answer for a language given up meanwhile (ru chosen, then kk; ru answers last)', async () => {
    const loader = manualLoader();
    const shown: string[] = [];
    const cancelRu = showWhenLoaded(loader.load, 'ru', (texts) => shown.push(texts));
    cancelRu();
    showWhenLoaded(loader.load, 'kk', (texts) => shown.push(texts));
    loader.answer('kk');
    await settle();
    loader.answer('ru');
    await settle();
    expect(shown).toEqual(['kk texts']);
  });

  it('a failed load shows nothing and rejects nowhere', async () => {
    const loader = manualLoader();
    const shown: string[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      showWhenLoaded(loader.load, 'kk', (texts) => shown.push(texts));
      loader.fail('kk');
      await settle();
      await settle();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(shown).toEqual([]);
    expect(unhandled).toEqual([]);
  });
});
