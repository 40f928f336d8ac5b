/**
 * A bank's own voice (pad.audio.voiceFolder) through the real pages: the pad fetches a replaced clip from the
 * bank's folder and every other clip from the app, by the same resolver the app:// protocol uses; a folder that is
 * not there makes audio guidance unavailable with the reason in the operator window, and nothing else changes.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launchStation } from '../harness/launch-station';
import type { LaunchedStation, LaunchStationOptions } from '../harness/launch-station';
import { heading, startCard } from '../harness/journeys';

const BUILT_VOICE = join(__dirname, '../../out/renderer/voice');
const PAD_DEVICE = 'Pad headset';

let station: LaunchedStation | null = null;
let folder: string | null = null;
afterEach(async () => {
  await station?.close();
  station = null;
  if (folder) rmSync(folder, { recursive: true, force: true });
  folder = null;
});

const options = (voiceFolder: string): LaunchStationOptions => ({
  config: { pad: { audio: { outputDevice: PAD_DEVICE, voiceFolder } }, approval: { require: [] } },
  audioOutputs: ['Operator speakers', PAD_DEVICE],
});

describe("a bank's own voice", () => {
  it('the pad plays the clip the folder replaces, and the built-in clip for the rest', async () => {
    folder = mkdtempSync(join(tmpdir(), 'bank-voice-'));
    mkdirSync(join(folder, 'en'));
    // Any valid clip that differs from the built-in prompt stands in for the bank's recording.
    copyFileSync(join(BUILT_VOICE, 'en', 'cancelled.opus'), join(folder, 'en', 'prompt-exact-4.opus'));
    const replaced = readFileSync(join(folder, 'en', 'prompt-exact-4.opus'));
    expect(replaced.equals(readFileSync(join(BUILT_VOICE, 'en', 'prompt-exact-4.opus')))).toBe(false);

    station = await launchStation(options(folder));
    const { operator, pinpad } = station;
    const fetched = new Map<string, Buffer>();
    pinpad.on('response', (response) => {
      const path = new URL(response.url()).pathname;
      if (path.includes('/voice/'))
        void response.body().then(
          (body) => fetched.set(path, body),
          () => undefined,
        );
    });
    const audio = operator.getByRole('checkbox', { name: 'Audio guidance for the cardholder' });
    await expect.poll(() => audio.isEnabled()).toBe(true);
    await audio.check();
    await startCard(operator, 'CARD-V001', 'Customer chooses PIN');
    await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
    await pinpad.keyboard.press('5');
    await expect.poll(() => station?.audioCues().map(({ cue }) => cue)).toEqual(['prompt-exact-4', 'count-1-of-4']);
    await expect.poll(() => fetched.size, { timeout: 15_000 }).toBe(2);

    expect(fetched.get('/voice/en/prompt-exact-4.opus')?.equals(replaced)).toBe(true);
    expect(fetched.get('/voice/en/count-1-of-4.opus')?.equals(readFileSync(join(BUILT_VOICE, 'en', 'count-1-of-4.opus')))).toBe(true);
    expect(station.consoleLines.filter((line) => line.includes('audio clip failed'))).toEqual([]);
  });

  it('a folder that is not there: audio guidance is unavailable and the operator is told why; cards go on without it', async () => {
    station = await launchStation(options(join(tmpdir(), 'no-such-bank-voice-folder')));
    const { operator, pinpad } = station;
    await expect.poll(() => operator.getByText("the bank's voice folder (pad.audio.voiceFolder) does not exist").count()).toBe(1);
    expect(await operator.getByRole('checkbox', { name: 'Audio guidance for the cardholder' }).isDisabled()).toBe(true);
    expect(station.core.station.operatorView().audio).toEqual({ available: false, unavailableReason: 'voice-folder-missing', on: false });
    await startCard(operator, 'CARD-V002', 'Customer chooses PIN');
    await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
    expect(station.audioCues()).toEqual([]);
  });
});
