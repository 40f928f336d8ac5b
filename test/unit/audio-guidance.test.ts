import { readFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LANGUAGES } from '../../common/domain';
import { allCues, cuesFor, type GuidanceState, type PadAction } from '../../renderer/pinpad/audio/cues';
import { findOutputDevice } from '../../renderer/pinpad/audio/output';
import type { AudioOutput } from '../../renderer/pinpad/audio/output';
import { startGuidance } from '../../renderer/pinpad/audio/guidance';
import type { PinpadView } from '../../common/ipc';
import { transcript } from '../../renderer/shared/i18n/voice';
import { OPERATOR_CATALOGUES, PAD_CATALOGUES } from '../helpers/catalogues';

const VOICE = join(__dirname, '../../renderer/public/voice');

/** The first Ogg page: "OggS", version 0, beginning-of-stream flag; its packet is the Opus identification header. */
function checkOggOpus(bytes: Buffer): string | null {
  if (bytes.subarray(0, 4).toString('latin1') !== 'OggS') return 'no OggS capture pattern';
  if (bytes[4] !== 0) return 'Ogg version is not 0';
  if (((bytes[5] ?? 0) & 0x02) === 0) return 'first page is not a beginning of stream';
  const segments = bytes[26] ?? 0;
  const packet = bytes.subarray(27 + segments);
  if (packet.subarray(0, 8).toString('latin1') !== 'OpusHead') return 'first packet is not OpusHead';
  if (packet[8] !== 1) return 'OpusHead version is not 1';
  if (bytes.indexOf('OpusTags', 0, 'latin1') < 0) return 'no OpusTags packet';
  return null;
}

describe('audio guidance clips', () => {
  it.each(LANGUAGES)('every cue has a valid Ogg Opus clip in %s', (language) => {
    const problems: string[] = [];
    for (const cue of allCues()) {
      const file = join(VOICE, language, `${cue}.opus`);
      if (!existsSync(file)) problems.push(`${cue}: missing`);
      else {
        const problem = checkOggOpus(readFileSync(file));
        if (problem) problems.push(`${cue}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the Ogg Opus check refuses what is not one', () => {
    expect(checkOggOpus(Buffer.from('RIFF....WAVEfmt '))).toBe('no OggS capture pattern');
    const ogg = readFileSync(join(VOICE, 'en', 'set.opus'));
    const vorbis = Buffer.from(ogg);
    vorbis.write('OpusHeaX', 27 + (ogg[26] ?? 0), 'latin1');
    expect(checkOggOpus(vorbis)).toBe('first packet is not OpusHead');
  });

  it.each(LANGUAGES)('every transcript in %s exists, and its only numbers are the counts its cue names', (language) => {
    for (const cue of allCues()) {
      const text = transcript(cue, language);
      expect(text, cue).not.toBeNull();
      const counts = (cue.match(/\d+/g) ?? []).sort();
      const spoken = ((text ?? '').match(/\d+/g) ?? []).sort();
      expect(spoken, `${language} ${cue}: ${text}`).toEqual(counts);
    }
  });

  it('the voice catalogue says what the committed clips say: a changed text must come with new clips (scripts/make-voice-clips.ts)', () => {
    const texts = LANGUAGES.flatMap((language) => allCues().map((cue) => `${transcript(cue, language)}\n`)).join('');
    expect(createHash('sha256').update(texts, 'utf8').digest('hex')).toBe('3f66f26a00795147571cef9b3ad38f6743a710c303fc4751c7286d1826cc3bde');
  });

  it("the operator's and the pad's audio texts are in their catalogues, in every language", () => {
    expect(PAD_CATALOGUES.en.pad.audioOn).toBe('Audio guidance on');
    expect(OPERATOR_CATALOGUES.en.audio.checkbox).toBe('Audio guidance for the cardholder');
    for (const language of LANGUAGES) {
      const { audio } = OPERATOR_CATALOGUES[language];
      const texts = [PAD_CATALOGUES[language].pad.audioOn, audio.checkbox, audio.onWarning, ...Object.values(audio.unavailable)];
      expect(texts.every((text) => text.trim().length > 0)).toBe(true);
      expect(Object.keys(audio.unavailable).sort()).toEqual(['device-absent', 'no-device', 'voice-folder-missing', 'voice-folder-unsafe']);
    }
  });

  it('no cue exists outside the catalogue (a bank folder is named after these)', () => {
    expect(transcript('count-5-of-4x', 'en')).toBeNull();
    expect(transcript('digit-7', 'en')).toBeNull();
    expect(new Set(allCues()).size).toBe(allCues().length);
  });
});

describe('cue sequence', () => {
  const base: GuidanceState = {
    active: false,
    step: 'enter',
    count: 0,
    minLength: 4,
    maxLength: 4,
    noticeCode: null,
    secondsLeft: null,
    outcome: null,
    revision: 0,
  };
  /** A journey as the pad sees it: states and the key that led to each; never a digit. */
  function play(steps: readonly [Partial<GuidanceState>, PadAction | null][]): string[] {
    let previous: GuidanceState | null = null;
    const cues: string[] = [];
    steps.forEach(([change, action], index) => {
      const next: GuidanceState = { ...(previous ?? base), ...change, revision: index + 1 };
      cues.push(...cuesFor(previous, next, action));
      previous = next;
    });
    return cues;
  }

  it('prompts, counts, erase, clear, a weak PIN, the confirm step, a mismatch, the countdown and the outcome', () => {
    const cues = play([
      [{ active: true, secondsLeft: 60 }, null],
      [{ count: 1 }, 'press'],
      [{ count: 0 }, 'erase'],
      [{ count: 1 }, 'press'],
      [{ count: 0 }, 'clear'],
      [{ count: 4 }, 'press'],
      [{ count: 0, noticeCode: 'PIN_REPEATED' }, 'submit'],
      [{ count: 1, noticeCode: null }, 'press'],
      [{ count: 4 }, 'press'],
      [{ count: 0, step: 'confirm' }, 'submit'],
      [{ count: 4, secondsLeft: 9 }, 'press'],
      [{ count: 0, step: 'confirm', noticeCode: 'PIN_MISMATCH' }, 'submit'],
      [{ active: false, outcome: 'sent' }, null],
      [{ outcome: 'set' }, null],
    ]);
    expect(cues).toEqual([
      'prompt-exact-4',
      'count-1-of-4',
      'erased',
      'count-1-of-4',
      'cleared',
      'count-4-of-4',
      'weak-repeated',
      'count-1-of-4',
      'count-4-of-4',
      'confirm',
      'count-4-of-4',
      'ten-seconds',
      'mismatch',
      'sent',
      'set',
    ]);
  });

  it('a notice is not spoken again by a later key or a countdown tick, only by a new refusal at OK', () => {
    const cues = play([
      [{ active: true }, null],
      [{ count: 4 }, 'press'],
      [{ count: 0, step: 'confirm' }, 'submit'],
      [{ count: 4 }, 'press'],
      [{ count: 0, noticeCode: 'PIN_MISMATCH' }, 'submit'],
      [{ secondsLeft: 50 }, 'press'],
      [{ count: 1, secondsLeft: 50 }, null],
      [{ count: 1 }, 'submit'],
    ]);
    expect(cues).toEqual(['prompt-exact-4', 'count-4-of-4', 'confirm', 'count-4-of-4', 'mismatch', 'count-1-of-4', 'mismatch']);
  });

  it('every digit refused at the maximum length is told "too long", not only the first', () => {
    const cues = play([
      [{ active: true }, null],
      [{ count: 4 }, 'press'],
      [{ noticeCode: 'PIN_TOO_LONG' }, 'press'],
      [{}, 'press'],
      [{ secondsLeft: 40 }, null],
      [{}, 'press'],
    ]);
    expect(cues).toEqual(['prompt-exact-4', 'count-4-of-4', 'too-long', 'too-long', 'too-long']);
  });

  it('a range of lengths is prompted as such, and counted without a total', () => {
    expect(
      play([
        [{ active: true, minLength: 4, maxLength: 6 }, null],
        [{ count: 2 }, 'press'],
      ]),
    ).toEqual(['prompt-range-4-6', 'count-2']);
  });
});

describe('output device rule', () => {
  const devices = [
    { deviceId: 'default', label: 'Pad headset' },
    { deviceId: 'communications', label: 'Pad headset' },
    { deviceId: 'a1', label: 'Operator speakers' },
    { deviceId: 'b2', label: 'Pad headset' },
  ];
  it('routes to the configured device by its label, never to the default or communications device', () => {
    expect(findOutputDevice(devices, 'Pad headset')?.deviceId).toBe('b2');
  });
  it('no device when the named one is absent, when none is named, or when only the default carries the label', () => {
    expect(findOutputDevice(devices, 'USB handset')).toBeNull();
    expect(findOutputDevice(devices, null)).toBeNull();
    expect(findOutputDevice(devices.slice(0, 3), 'Pad headset')).toBeNull();
  });
});

describe('guidance on the pad: which key each view answers', () => {
  afterEach(() => vi.unstubAllGlobals());

  const padView = (revision: number, change: Partial<PinpadView>): PinpadView => ({
    active: true,
    step: 'enter',
    count: 0,
    minLength: 4,
    maxLength: 4,
    layout: [1, 2, 3, 4, 5, 6, 7, 8, 9, 0],
    notice: null,
    secondsLeft: 60,
    language: 'en',
    keyboardInput: true,
    audio: { on: true, outputDevice: 'Pad headset', outcome: null, language: 'en' },
    revision,
    ...change,
  });

  /** Guidance with a recording output on the pad's device; the page's globals stubbed as a browser has them. */
  async function guidance(
    onOutcomeSpoken?: () => void,
  ): Promise<{ update: (view: PinpadView, replyTo?: PadAction) => void; note: (action: PadAction) => void; cues: string[] }> {
    vi.stubGlobal('document', { baseURI: 'http://station.localhost/pinpad/index.html' });
    vi.stubGlobal('navigator', {});
    const cues: string[] = [];
    const output: AudioOutput = {
      outputs: async () => [{ deviceId: 'pad', label: 'Pad headset' }],
      play: async (cue) => void cues.push(cue),
    };
    const started = await startGuidance('Pad headset', undefined, output, onOutcomeSpoken);
    return { update: (view, replyTo) => started.update(view, 'en', replyTo ?? null), note: (action) => started.noteAction(action), cues };
  }

  it('Clear pressed right after a digit says "cleared", even when both pushed views come before the replies', async () => {
    const pad = await guidance();
    pad.update(padView(1, {}));
    pad.note('press');
    pad.note('clear');
    pad.update(padView(2, { count: 1 }));
    pad.update(padView(3, { count: 0 }));
    pad.update(padView(2, { count: 1 }), 'press');
    pad.update(padView(3, { count: 0 }), 'clear');
    expect(pad.cues).toEqual(['prompt-exact-4', 'count-1-of-4', 'cleared']);
  });

  const full = { count: 4, notice: { code: 'PIN_TOO_LONG' as const, message: 'Too long.' } };
  /** A pad at its maximum length whose first refused digit got its pushed view, then its reply; a second digit pressed. */
  async function refusedOnceThenPressed(): Promise<Awaited<ReturnType<typeof guidance>>> {
    const pad = await guidance();
    pad.update(padView(1, { count: 4 }));
    pad.note('press');
    pad.update(padView(2, full));
    pad.update(padView(2, full), 'press');
    pad.note('press');
    return pad;
  }

  it('a second digit refused at the maximum is told too, when its pushed view (unchanged) came before its reply', async () => {
    const pad = await refusedOnceThenPressed();
    pad.update(padView(3, full));
    pad.update(padView(3, full), 'press');
    expect(pad.cues).toEqual(['prompt-exact-4', 'too-long', 'too-long']);
  });

  it('Clear after a refused digit whose reply a countdown tick overtook still says "cleared"', async () => {
    const pad = await refusedOnceThenPressed();
    pad.update(padView(3, full));
    pad.update(padView(4, { ...full, secondsLeft: 59 }));
    pad.update(padView(3, full), 'press');
    pad.note('clear');
    pad.update(padView(5, { count: 0, secondsLeft: 59 }));
    pad.update(padView(5, { count: 0, secondsLeft: 59 }), 'clear');
    expect(pad.cues).toEqual(['prompt-exact-4', 'too-long', 'cleared']);
  });

  describe('a page loaded after entry ended', () => {
    const ended = (revision: number, outcome: PinpadView['audio']['outcome'], speakOutcome: boolean): PinpadView =>
      padView(revision, { active: false, secondsLeft: null, audio: { on: true, outputDevice: 'Pad headset', outcome, language: 'kk', speakOutcome } });

    it('speaks a final outcome no page has spoken yet, and only then reports it spoken', async () => {
      // What had been played when the page reported it spoken.
      const reports: string[][] = [];
      const played: { cues: string[] } = { cues: [] };
      const pad = await guidance(() => reports.push([...played.cues]));
      played.cues = pad.cues;
      pad.update(ended(7, 'set', true));
      await vi.waitFor(() => expect(reports).toEqual([['set']]));
      expect(pad.cues).toEqual(['set']);
    });

    it('says nothing of an outcome already spoken, and does not report it again', async () => {
      let reported = 0;
      const pad = await guidance(() => (reported += 1));
      pad.update(ended(7, 'failed', false));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(pad.cues).toEqual([]);
      expect(reported).toBe(0);
    });

    it('a page that saw "sent" speaks the final outcome once, whatever main marks', async () => {
      let reported = 0;
      const pad = await guidance(() => (reported += 1));
      pad.update(ended(7, 'sent', false));
      pad.update(ended(8, 'set', true));
      await vi.waitFor(() => expect(reported).toBe(1));
      expect(pad.cues).toEqual(['set']);
    });
  });
});
