import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAppFile, resolveAppRequest } from '../../main/adapter/app-files';
import { audioAvailability } from '../../main/core/station-audio';
import { parseConfig } from '../../main/core/config';
import { resolveSettings } from '../../main/core/policy/resolve';

let base: string;
let built: string;
let bank: string;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'voice-folder-'));
  built = join(base, 'renderer');
  bank = join(base, 'bank');
  for (const cue of ['set', 'sent', 'failed', 'cancelled']) {
    mkdirSync(join(built, 'voice', 'en'), { recursive: true });
    writeFileSync(join(built, 'voice', 'en', `${cue}.opus`), `built ${cue}`);
  }
  mkdirSync(join(built, 'voice', 'ru'), { recursive: true });
  writeFileSync(join(built, 'voice', 'ru', 'set.opus'), 'built ru set');
  writeFileSync(join(base, 'secret.opus'), 'outside');
  mkdirSync(join(base, 'elsewhere'));
  writeFileSync(join(base, 'elsewhere', 'set.opus'), 'outside ru set');
  mkdirSync(join(bank, 'en'), { recursive: true });
  writeFileSync(join(bank, 'en', 'set.opus'), 'bank set');
  // A link out of the folder, a link to a directory out of it, and a folder where a file should be.
  symlinkSync(join(base, 'secret.opus'), join(bank, 'en', 'sent.opus'));
  symlinkSync(join(base, 'elsewhere'), join(bank, 'ru'));
  mkdirSync(join(bank, 'en', 'failed.opus'));
  // A link inside the folder is the bank's own arrangement and is served.
  writeFileSync(join(bank, 'en', 'take-2.wav'), 'not served by name');
  symlinkSync(join(bank, 'en', 'set.opus'), join(bank, 'en', 'cancelled.opus'));
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

const served = async (url: string, voiceFolder: string | null = bank): Promise<string | null> =>
  (await resolveAppRequest(built, url, { voiceFolder }))?.file ?? null;

describe("a bank's own voice folder (pad.audio.voiceFolder)", () => {
  it('serves the clip the folder holds instead of the built-in one', async () => {
    expect(await served('app://station/voice/en/set.opus')).toBe(join(bank, 'en', 'set.opus'));
    expect((await resolveAppRequest(built, 'app://station/voice/en/set.opus', { voiceFolder: bank }))?.type).toBe('audio/ogg');
  });

  it('falls back to the built-in clip for one the folder lacks', async () => {
    expect(await served('app://station/voice/ru/set.opus', join(bank, 'no-such-folder'))).toBe(join(built, 'voice', 'ru', 'set.opus'));
    expect(await served('app://station/voice/en/set.opus', null)).toBe(join(built, 'voice', 'en', 'set.opus'));
  });

  it('ignores a link that leads out of the folder, and a folder named like a clip: the built-in clip plays', async () => {
    expect(await served('app://station/voice/en/sent.opus')).toBe(join(built, 'voice', 'en', 'sent.opus'));
    expect(await served('app://station/voice/ru/set.opus')).toBe(join(built, 'voice', 'ru', 'set.opus'));
    expect(await served('app://station/voice/en/failed.opus')).toBe(join(built, 'voice', 'en', 'failed.opus'));
    expect(await served('app://station/voice/en/cancelled.opus')).toBe(join(bank, 'en', 'set.opus'));
  });

  it('never leaves the app or the folder: traversal is refused', async () => {
    // The URL's own dot segments stop at the app's root: this asks for the app's secret.opus, never the folder's parent.
    expect(await served('app://station/voice/en/%2e%2e/%2e%2e/%2e%2e/secret.opus')).toBe(join(built, 'secret.opus'));
    expect(await served('app://station/voice/..%2f..%2f..%2fsecret.opus')).toBeNull();
    expect(await served('app://station/voice/en/..%2f..%2f..%2fbank%2fen%2fset.opus')).toBeNull();
    expect(await served('app://station/voice/en%2fset.opus%00')).toBeNull();
  });

  it('serves only <language>/<cue>.opus names from the cue list and the languages', async () => {
    expect(await served('app://station/voice/en/digit-7.opus')).toBeNull();
    expect(await served('app://station/voice/en/take-2.opus')).toBeNull();
    expect(await served('app://station/voice/de/set.opus')).toBeNull();
    expect(await served('app://station/voice/set.opus')).toBeNull();
    expect(await served('app://station/voice/en/set.opus/set.opus')).toBeNull();
    expect(await served('app://station/voice/en/count-13.opus')).toBeNull();
    expect(resolveAppFile(built, 'app://station/voice/en/prompt-range-4-12.opus')?.file).toBe(join(built, 'voice', 'en', 'prompt-range-4-12.opus'));
    expect(resolveAppFile(built, 'app://station/voice/kk/count-3-of-4.opus')?.type).toBe('audio/ogg');
  });

  it('leaves every other file to the app', async () => {
    expect(await served('app://station/pinpad/index.html')).toBe(join(built, 'pinpad', 'index.html'));
    expect(await served('app://other/voice/en/set.opus')).toBeNull();
  });

  it('a named folder that does not exist makes audio guidance unavailable with its own reason', () => {
    const config = (voiceFolder: string | null) => parseConfig({ pad: { audio: { outputDevice: 'USB Handset', voiceFolder } } });
    expect(audioAvailability(config(join(base, 'no-such-folder')), true)).toEqual({ available: false, unavailableReason: 'voice-folder-missing' });
    expect(audioAvailability(config(join(bank, 'en', 'set.opus')), true)).toEqual({ available: false, unavailableReason: 'voice-folder-missing' });
    expect(audioAvailability(config(bank), true)).toEqual({ available: true, unavailableReason: null });
    expect(audioAvailability(config(null), true)).toEqual({ available: true, unavailableReason: null });
  });

  it("a managed policy may set it like the other pad.audio settings (a relative path is the policy's fault)", () => {
    const resolved = resolveSettings('{"pad": {"audio": {"outputDevice": "USB Handset"}}}', { pad: { audio: { voiceFolder: '/srv/bank-voice' } } }, 'HKLM');
    expect(resolved.config.pad.audio.voiceFolder).toBe('/srv/bank-voice');
    expect(resolved.managed).toContain('pad.audio.voiceFolder');
    expect(() => resolveSettings('', { pad: { audio: { voiceFolder: 'bank-voice' } } }, 'HKLM')).toThrow(
      /HKLM: pad\.audio\.voiceFolder: must be an absolute path/,
    );
  });
});
