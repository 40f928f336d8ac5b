import { chmodSync, chownSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAppRequest, readAppTarget, resolveAppFile, resolveAppRequest } from '../../main/adapter/app-files';
import { StationAudio } from '../../main/core/station-audio';
import { parseConfig } from '../../main/core/config';
import { resolveSettings } from '../../main/core/policy/resolve';
import { isAdminOnly, voiceFolderProblem } from '../../main/core/voice-folder';

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

  it('a named folder that does not exist makes audio guidance unavailable with its own reason, looked at outside any view', () => {
    const station = (voiceFolder: string | null) => {
      const audio = new StationAudio(() => parseConfig({ pad: { audio: { outputDevice: 'USB Handset', voiceFolder } } }));
      audio.deviceFound = true;
      return audio;
    };
    expect(station(join(base, 'no-such-folder')).availability()).toEqual({ available: false, unavailableReason: 'voice-folder-missing' });
    expect(station(join(bank, 'en', 'set.opus')).availability()).toEqual({ available: false, unavailableReason: 'voice-folder-missing' });
    expect(station(bank).availability()).toEqual({ available: true, unavailableReason: null });
    expect(station(null).availability()).toEqual({ available: true, unavailableReason: null });
    // A folder removed later is noticed at the next look (a Start, the pad's report), which says what changed.
    const moved = join(base, 'moved-away');
    mkdirSync(moved);
    const audio = station(moved);
    rmSync(moved, { recursive: true });
    expect(audio.lookAtVoiceFolder()).toBe(true);
    expect(audio.availability().unavailableReason).toBe('voice-folder-missing');
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

// Who may have put a clip there: on POSIX only root, with no group or other write bit anywhere on the way.
describe.skipIf(process.platform === 'win32' || process.getuid?.() !== 0)('a voice folder only an administrator can write (POSIX, run as root)', () => {
  const NOBODY = 65534;
  let root: string;
  /** A fresh bank folder: root-owned 0755, en/ 0755, en/set.opus 0644 saying `bank set`. */
  const bankFolder = (name: string): string => {
    const folder = join(root, name);
    mkdirSync(join(folder, 'en'), { recursive: true, mode: 0o755 });
    chmodSync(folder, 0o755);
    chmodSync(join(folder, 'en'), 0o755);
    writeFileSync(join(folder, 'en', 'set.opus'), 'bank set', { mode: 0o644 });
    chmodSync(join(folder, 'en', 'set.opus'), 0o644);
    return folder;
  };
  const text = async (folder: string): Promise<string | undefined> =>
    (await readAppRequest(built, 'app://station/voice/en/set.opus', { voiceFolder: folder }))?.data.toString();

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'voice-owner-'));
    chmodSync(root, 0o755);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('a root-owned 0755 folder with a 0644 clip is served', async () => {
    const folder = bankFolder('fit');
    expect(await served('app://station/voice/en/set.opus', folder)).toBe(join(folder, 'en', 'set.opus'));
    expect(await text(folder)).toBe('bank set');
    expect(voiceFolderProblem(folder)).toBeNull();
  });

  it('a group-writable folder or language folder, or a 0664 clip, is refused: the built-in clip plays', async () => {
    const groupFolder = bankFolder('group-folder');
    chmodSync(groupFolder, 0o775);
    const groupLanguage = bankFolder('group-language');
    chmodSync(join(groupLanguage, 'en'), 0o775);
    const otherFolder = bankFolder('other-folder');
    chmodSync(otherFolder, 0o757);
    const groupClip = bankFolder('group-clip');
    chmodSync(join(groupClip, 'en', 'set.opus'), 0o664);
    for (const folder of [groupFolder, groupLanguage, otherFolder, groupClip]) {
      expect(await served('app://station/voice/en/set.opus', folder)).toBe(join(built, 'voice', 'en', 'set.opus'));
      expect(await text(folder)).toBe('built set');
    }
  });

  it('a folder, language folder or clip owned by another user is refused', async () => {
    const folders = ['nobody-folder', 'nobody-language', 'nobody-clip'].map(bankFolder);
    chownSync(folders[0]!, NOBODY, NOBODY);
    chownSync(join(folders[1]!, 'en'), NOBODY, NOBODY);
    chownSync(join(folders[2]!, 'en', 'set.opus'), NOBODY, NOBODY);
    for (const folder of folders) expect(await text(folder)).toBe('built set');
  });

  it('a link inside the folder is served only if every directory it really leads through is safe', async () => {
    const folder = bankFolder('linked');
    mkdirSync(join(folder, 'takes'), { mode: 0o777 });
    chmodSync(join(folder, 'takes'), 0o777);
    writeFileSync(join(folder, 'takes', 'cancelled.opus'), 'take', { mode: 0o644 });
    symlinkSync(join(folder, 'takes', 'cancelled.opus'), join(folder, 'en', 'cancelled.opus'));
    expect(await served('app://station/voice/en/cancelled.opus', folder)).toBe(join(built, 'voice', 'en', 'cancelled.opus'));
    chmodSync(join(folder, 'takes'), 0o755);
    expect(await served('app://station/voice/en/cancelled.opus', folder)).toBe(join(folder, 'takes', 'cancelled.opus'));
  });

  it('the checked file is the one read: a clip swapped in after the check is not played, the built-in one is', async () => {
    const folder = bankFolder('swapped');
    const target = await resolveAppRequest(built, 'app://station/voice/en/set.opus', { voiceFolder: folder });
    expect(target?.file).toBe(join(folder, 'en', 'set.opus'));
    // Another root-owned 0644 file takes its place (a new inode): the handle's identity no longer matches.
    writeFileSync(join(folder, 'en', 'new.opus'), 'swapped in', { mode: 0o644 });
    renameSync(join(folder, 'en', 'new.opus'), join(folder, 'en', 'set.opus'));
    expect((await readAppTarget(target!))?.data.toString()).toBe('built set');
    // The same file, handed to another user after the check, is refused too.
    const again = await resolveAppRequest(built, 'app://station/voice/en/set.opus', { voiceFolder: folder });
    chownSync(join(folder, 'en', 'set.opus'), NOBODY, NOBODY);
    expect((await readAppTarget(again!))?.data.toString()).toBe('built set');
  });

  it("the availability check says 'unsafe' for such a folder, 'missing' for none", () => {
    const group = bankFolder('problem-group');
    chmodSync(group, 0o775);
    const nobody = bankFolder('problem-nobody');
    chownSync(nobody, NOBODY, NOBODY);
    const language = bankFolder('problem-language');
    chmodSync(join(language, 'en'), 0o777);
    expect(voiceFolderProblem(group)).toBe('unsafe');
    expect(voiceFolderProblem(nobody)).toBe('unsafe');
    expect(voiceFolderProblem(language)).toBe('unsafe');
    expect(voiceFolderProblem(join(root, 'no-such-folder'))).toBe('missing');
    expect(voiceFolderProblem(join(bankFolder('problem-file'), 'en', 'set.opus'))).toBe('missing');
  });

  it('Windows: ownership is not checked (the admin guide says the app cannot verify the ACL there)', () => {
    expect(isAdminOnly({ uid: NOBODY, mode: 0o777 }, 'win32')).toBe(true);
    expect(isAdminOnly({ uid: NOBODY, mode: 0o755 }, 'linux')).toBe(false);
    expect(isAdminOnly({ uid: 0, mode: 0o775 }, 'darwin')).toBe(false);
    expect(isAdminOnly({ uid: 0, mode: 0o755 }, 'linux')).toBe(true);
  });
});
