/**
 * The voice catalogue (what each clip says) is for the clip script and a bank's recordings only: no page's
 * scripts hold it, so it costs the pad's 25 KB budget nothing. Reads the built out/renderer (run the build first).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LANGUAGES } from '../../common/domain';
import { transcript } from '../../renderer/shared/i18n/voice';
import { pageSizes, RENDERER_OUT } from '../../scripts/bench/sizes';

describe('the voice catalogue stays out of the pages', () => {
  it('no script of the pad or the operator page holds a clip text', () => {
    const scripts = [...pageSizes('pinpad').assets, ...pageSizes('operator').assets].filter((asset) => asset.kind === 'js');
    expect(scripts.length).toBeGreaterThan(0);
    const code = scripts.map((asset) => readFileSync(join(RENDERER_OUT, asset.file), 'utf8')).join('\n');
    for (const language of LANGUAGES) {
      for (const cue of ['set', 'mismatch-restart', 'weak-sequence']) {
        const text = transcript(cue, language) ?? '';
        expect(text.length).toBeGreaterThan(0);
        expect(code, `${language} ${cue}`).not.toContain(text);
      }
    }
  });
});
