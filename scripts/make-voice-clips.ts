/**
 * Makes the audio guidance clips: one Ogg Opus file per cue and language, spoken by espeak-ng from the
 * texts of the voice catalogue (renderer/shared/i18n/voice/). The clips are committed, so a station needs no speech
 * engine; run this again after changing a text. Needs Debian's espeak-ng and opus-tools.
 *
 *   npx tsx scripts/make-voice-clips.ts [output folder, default renderer/public/voice]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LANGUAGES } from '../common/domain';
import { allCues } from '../common/voice-cues';
import { transcript } from '../renderer/shared/i18n/voice';

const ESPEAK_VOICES = { en: 'en-gb', ru: 'ru', kk: 'kk' } as const;
const outDir = resolve(process.argv[2] ?? 'renderer/public/voice');
const work = mkdtempSync(join(tmpdir(), 'voice-'));
try {
  for (const language of LANGUAGES) {
    mkdirSync(join(outDir, language), { recursive: true });
    for (const cue of allCues()) {
      const text = transcript(cue, language);
      if (text === null) throw new Error(`no transcript for ${cue} in ${language}`);
      const wav = join(work, 'clip.wav');
      execFileSync('espeak-ng', ['-v', ESPEAK_VOICES[language], '-s', '150', '-w', wav, text]);
      // A fixed stream serial and no encoder date keep a clip byte-identical when its text has not changed.
      execFileSync('opusenc', ['--quiet', '--speech', '--bitrate', '12', '--serial', '1', '--discard-comments', wav, join(outDir, language, `${cue}.opus`)]);
    }
    console.log(`${language}: ${allCues().length} clips`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
