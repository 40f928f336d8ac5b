/**
 * The PIN pad's script budget, from the built out/renderer (run the build
 * first), counted as `npm run bench` counts it (scripts/bench/sizes.ts): every
 * script the pad can load in a session — its entry and what it imports, each
 * language's pad texts and audio guidance's player — is under 25 KB gzip, and
 * none of it is the operator window's texts. The operator page's size is
 * printed for the record (no budget).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LANGUAGES } from '../../common/domain';
import { pageSizes, RENDERER_OUT } from '../../scripts/bench/sizes';
import type { PageSizes } from '../../scripts/bench/sizes';
import { OPERATOR_CATALOGUES, PAD_CATALOGUES } from '../helpers/catalogues';

const PAD_JS_GZIP_BUDGET = 25_000;

const jsOf = (sizes: PageSizes, loading?: 'static' | 'lazy'): string[] =>
  sizes.assets.filter((asset) => asset.kind === 'js' && (loading === undefined || asset.loading === loading)).map((asset) => asset.file);
const read = (file: string): string => readFileSync(join(RENDERER_OUT, file), 'utf8');

describe('renderer bundle sizes (out/renderer)', () => {
  const pad = pageSizes('pinpad');
  const operator = pageSizes('operator');

  // Audio guidance's player (renderer/pinpad/audio/guidance.ts) is imported only when a card has it.
  const isAudioModeChunk = (file: string): boolean => /(^|\/)guidance-[^/]*\.js$/.test(file);

  it('the pad page can load under 25 KB of JS gzip in a session: every language and audio guidance counted', () => {
    const padJs = pad.assets.filter((asset) => asset.kind === 'js');
    const audioMode = padJs.filter((asset) => isAudioModeChunk(asset.file));
    const audioBytes = audioMode.reduce((sum, asset) => sum + asset.gzipBytes, 0);
    console.info(
      `pinpad JS gzip ${pad.jsGzipBytes} B (${pad.staticJsGzipBytes} B before it runs, ${audioBytes} B of it audio guidance); operator JS gzip ${operator.jsGzipBytes} B (${operator.staticJsGzipBytes} B before it runs)`,
    );
    expect(pad.jsGzipBytes).toBe(padJs.reduce((sum, asset) => sum + asset.gzipBytes, 0));
    expect(audioMode.length, 'the audio guidance chunk is built and counted').toBeGreaterThan(0);
    expect(audioMode.every((asset) => asset.loading === 'lazy')).toBe(true);
    expect(pad.jsGzipBytes).toBeLessThan(PAD_JS_GZIP_BUDGET);
  });

  it("holds none of the operator window's texts; English pad texts in the page, each other language's in a chunk loaded on demand", () => {
    const padCode = jsOf(pad).map(read).join('\n');
    for (const language of LANGUAGES) {
      const staff = OPERATOR_CATALOGUES[language].staff;
      const texts = [staff.signInTitle, OPERATOR_CATALOGUES[language].approval.title, staff.exportAudit];
      // English error texts are main's own table, which every page shares to split a message from its detail.
      if (language !== 'en') texts.push(OPERATOR_CATALOGUES[language].errors.POLICY_INVALID);
      for (const text of texts) expect(padCode, `${language}: ${text}`).not.toContain(text);
      // English, the default, comes with the page so the keypad waits for no chunk after main's first state.
      const marker = PAD_CATALOGUES[language].pad.waitBody;
      expect(
        jsOf(pad, 'static').filter((file) => read(file).includes(marker)),
        language,
      ).toHaveLength(language === 'en' ? 1 : 0);
      expect(
        jsOf(pad, 'lazy').filter((file) => read(file).includes(marker)),
        language,
      ).toHaveLength(language === 'en' ? 0 : 1);
    }
  });

  it('the operator page loads its languages on demand too', () => {
    for (const language of LANGUAGES) {
      const marker = OPERATOR_CATALOGUES[language].staff.signInTitle;
      expect(
        jsOf(operator, 'static').filter((file) => read(file).includes(marker)),
        language,
      ).toEqual([]);
      expect(
        jsOf(operator, 'lazy').filter((file) => read(file).includes(marker)),
        language,
      ).toHaveLength(1);
    }
  });
});
