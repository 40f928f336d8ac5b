/**
 * Audio guidance through the real pages: the operator's per-card checkbox, the pad's fixed telephone keypad and
 * keyboard input, and the cues the pad plays. The harness replaces the pad's audio output with a recorder and
 * stands in for the device list (launchStation's `audioOutputs`): what is proven is which cue is played, in which
 * language, on which device label; real sound through setSinkId needs an Electron station with the device.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_MESSAGES } from '../../common/errors';
import { launchStation } from '../harness/launch-station';
import type { LaunchedStation, LaunchStationOptions } from '../harness/launch-station';
import { heading, padLayout, startCard, statusText, waitForCount } from '../harness/journeys';
import type { Page } from 'playwright-core';

let station: LaunchedStation | null = null;
afterEach(async () => {
  await station?.close();
  station = null;
});

const PAD_DEVICE = 'Pad headset';
const AUDIO_ON: LaunchStationOptions = {
  config: { pad: { audio: { outputDevice: PAD_DEVICE } }, pin: { sessionTimeoutMs: 1_800_000, inactivityTimeoutMs: 600_000 }, approval: { require: [] } },
  audioOutputs: ['Operator speakers', PAD_DEVICE],
};

async function launch(options: LaunchStationOptions): Promise<LaunchedStation> {
  station = await launchStation(options);
  return station;
}

const checkbox = (operator: Page) => operator.getByRole('checkbox', { name: 'Audio guidance for the cardholder' });

/** Types on the pad's keyboard, one key at a time, waiting for each digit to count. */
async function typeOnKeyboard(pinpad: Page, digits: string): Promise<void> {
  for (let index = 0; index < digits.length; index++) {
    await pinpad.keyboard.press(digits.charAt(index));
    await waitForCount(pinpad, index + 1);
  }
}

/** One cardholder's entry by keyboard: Erase, Clear, a weak PIN, the PIN, a wrong confirmation, the right one. */
async function keyboardJourney(pinpad: Page, pin: string, weak: string, wrong: string): Promise<void> {
  await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
  await typeOnKeyboard(pinpad, pin.slice(0, 1));
  await pinpad.keyboard.press('Backspace');
  await waitForCount(pinpad, 0);
  await typeOnKeyboard(pinpad, pin.slice(0, 2));
  await pinpad.keyboard.press('Delete');
  await waitForCount(pinpad, 0);
  await typeOnKeyboard(pinpad, weak);
  await pinpad.keyboard.press('Enter');
  await expect.poll(() => pinpad.getByRole('alert').textContent()).toContain(ERROR_MESSAGES.PIN_REPEATED);
  await typeOnKeyboard(pinpad, pin);
  await pinpad.keyboard.press('Enter');
  await expect.poll(() => heading(pinpad)).toBe('Enter the same PIN again');
  await typeOnKeyboard(pinpad, wrong);
  await pinpad.keyboard.press('Enter');
  await expect.poll(() => pinpad.getByRole('alert').textContent()).toContain(ERROR_MESSAGES.PIN_MISMATCH);
  await typeOnKeyboard(pinpad, pin);
  await pinpad.keyboard.press('Enter');
}

const count4 = ['count-1-of-4', 'count-2-of-4', 'count-3-of-4', 'count-4-of-4'];
const EXPECTED = [
  'prompt-exact-4',
  'count-1-of-4',
  'erased',
  'count-1-of-4',
  'count-2-of-4',
  'cleared',
  ...count4,
  'weak-repeated',
  ...count4,
  'confirm',
  ...count4,
  'mismatch',
  ...count4,
  'sent',
  'set',
];

const cardRecords = (auditPath: string) =>
  readFileSync(auditPath, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.type === undefined);

describe('audio guidance', () => {
  it('with the checkbox on: telephone keypad, keyboard entry, the same cues for two different PINs, on the pad device only; the PINs set', async () => {
    const { operator, pinpad, sandbox, auditPath } = await launch(AUDIO_ON);
    const run = async (cardId: string, pin: string, weak: string, wrong: string): Promise<readonly string[]> => {
      const before = station?.audioCues().length ?? 0;
      await expect.poll(() => checkbox(operator).isEnabled()).toBe(true);
      await checkbox(operator).check();
      await startCard(operator, cardId, 'Customer chooses PIN');
      await expect.poll(() => pinpad.getByRole('status').textContent()).toBe('Audio guidance on');
      // The operator is warned while the pad takes keys.
      await expect.poll(() => operator.getByRole('alert').textContent()).toContain('Audio guidance is on');
      // Telephone order, not shuffled: 1 2 3 / 4 5 6 / 7 8 9 / Clear 0 OK, then Erase and Cancel.
      expect(await padLayout(pinpad)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
      expect((await pinpad.locator('.keys button').allTextContents()).map((label) => label.trim())).toEqual([
        '1', '2', '3', '4', '5', '6', '7', '8', '9', 'Clear', '0', 'OK', 'Erase', 'Cancel',
      ]); // prettier-ignore
      await keyboardJourney(pinpad, pin, weak, wrong);
      await expect.poll(() => statusText(operator)).toContain('PIN set.');
      await expect.poll(() => station?.audioCues().at(-1)?.cue).toBe('set');
      expect(sandbox?.isPinSet(cardId, pin)).toBe(true);
      return (station?.audioCues() ?? []).slice(before).map(({ cue, language }) => `${language}:${cue}`);
    };

    const first = await run('CARD-A001', '5860', '1111', '5861');
    // The checkbox is for one card: after the outcome it is clear again.
    await operator.getByRole('button', { name: 'Next card' }).click();
    await expect.poll(() => checkbox(operator).isChecked()).toBe(false);
    const second = await run('CARD-A002', '3917', '7777', '4028');

    expect(first).toEqual(EXPECTED.map((cue) => `en:${cue}`));
    expect(second).toEqual(first);
    expect(new Set(station?.audioDevices())).toEqual(new Set([PAD_DEVICE]));
    expect(station?.consoleLines.filter((line) => line.includes('audio clip failed'))).toEqual([]);
    const records = cardRecords(auditPath);
    expect(records.map((record) => [record.cardId, record.outcome, record.audio])).toEqual([
      ['CARD-A001', 'pin-set', true],
      ['CARD-A002', 'pin-set', true],
    ]);
  });

  it("the outcome is spoken whole in the cardholder's language (ru): sent, then set, before the pad reloads; the PIN sets", async () => {
    const { operator, pinpad, sandbox } = await launch(AUDIO_ON);
    const launched = station as LaunchedStation;
    await expect.poll(() => checkbox(operator).isEnabled()).toBe(true);
    await checkbox(operator).check();
    await startCard(operator, 'CARD-A040', 'Customer chooses PIN');
    await expect.poll(() => launched.audioCues().at(-1)?.cue).toBe('prompt-exact-4');
    await pinpad.locator('.languages button[lang="ru"]').click();
    await expect.poll(() => launched.core.station.pinpadView().audio.language).toBe('ru');
    const fromChoice = launched.audioCues().length;
    // The pad speaks Russian now; the count is read from main's view rather than the pad's English label.
    const typeCounted = async (digits: string): Promise<void> => {
      for (let index = 0; index < digits.length; index++) {
        await pinpad.keyboard.press(digits.charAt(index));
        await expect.poll(() => launched.core.station.pinpadView().count).toBe(index + 1);
      }
    };
    await typeCounted('5860');
    await pinpad.keyboard.press('Enter');
    await expect.poll(() => launched.core.station.pinpadView().step).toBe('confirm');
    await typeCounted('5860');
    await pinpad.keyboard.press('Enter');
    await expect.poll(() => statusText(operator)).toContain('PIN set.');
    // The pad's page reloads once the last cue has played, not before.
    await expect.poll(() => launched.padReloads()).toBe(1);
    const spoken = launched.audioCues().slice(fromChoice);
    expect(spoken.map(({ cue }) => cue)).toEqual([...count4, 'confirm', ...count4, 'sent', 'set']);
    expect(new Set(spoken.map(({ language }) => language))).toEqual(new Set(['ru']));
    expect(launched.audioCutOff().filter(({ cue }) => cue === 'sent' || cue === 'set')).toEqual([]);
    expect(sandbox?.isPinSet('CARD-A040', '5860')).toBe(true);
    // The fresh page is back in the station's language and says nothing more; main forgot the choice.
    await expect.poll(() => pinpad.evaluate(() => document.documentElement.lang)).toBe('en');
    await pinpad.getByRole('heading').waitFor();
    expect(launched.audioCues()).toHaveLength(fromChoice + spoken.length);
    expect(launched.core.station.pinpadView().audio.language).toBe('en');
  });

  it('with the checkbox off: the pad is shuffled as usual, takes no keys, and says nothing; the record has no audio field', async () => {
    const { operator, pinpad, sandbox, auditPath } = await launch(AUDIO_ON);
    await expect.poll(() => checkbox(operator).isEnabled()).toBe(true);
    await startCard(operator, 'CARD-A010', 'Customer chooses PIN');
    await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
    await pinpad.keyboard.press('5');
    await pinpad.keyboard.press('Enter');
    expect(station?.core.station.pinpadView()).toMatchObject({ active: true, count: 0, keyboardInput: false });
    expect(await pinpad.getByText('Audio guidance on').count()).toBe(0);
    const layout = await padLayout(pinpad);
    for (const digit of '2468') await pinpad.getByRole('button', { name: digit, exact: true }).click();
    await waitForCount(pinpad, 4);
    await pinpad.getByRole('button', { name: 'OK' }).click();
    await expect.poll(() => heading(pinpad)).toBe('Enter the same PIN again');
    for (const digit of '2468') await pinpad.getByRole('button', { name: digit, exact: true }).click();
    await waitForCount(pinpad, 4);
    await pinpad.getByRole('button', { name: 'OK' }).click();
    await expect.poll(() => statusText(operator)).toContain('PIN set.');
    expect(sandbox?.isPinSet('CARD-A010', '2468')).toBe(true);
    expect(layout).toHaveLength(10);
    expect(station?.audioCues()).toEqual([]);
    expect(cardRecords(auditPath)[0]).not.toHaveProperty('audio');
  });

  it('the configured device is absent (only the default would play): audio guidance is unavailable, the operator is told why, and main refuses it', async () => {
    const { operator } = await launch({ ...AUDIO_ON, audioOutputs: ['Operator speakers'] });
    await expect.poll(() => operator.getByText("the PIN pad's headphones or handset are not connected").count()).toBe(1);
    expect(await checkbox(operator).isDisabled()).toBe(true);
    expect(station?.core.station.operatorView().audio).toEqual({ available: false, unavailableReason: 'device-absent', on: false });
    await expect(station?.core.station.start({ cardId: 'CARD-A020', mode: 'customer', audio: true }, 'operator.test')).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
    expect(station?.audioCues()).toEqual([]);
  });

  it('switched off by config: no checkbox at all', async () => {
    const { operator } = await launch({ ...AUDIO_ON, config: { pad: { audio: { enabled: false, outputDevice: PAD_DEVICE } } } });
    await operator.getByRole('textbox', { name: 'Card ID' }).waitFor();
    expect(await checkbox(operator).count()).toBe(0);
  });

  it('is axe clean in audio mode on both windows (pad: entering, a notice; operator: the warning), and pictured', async () => {
    const { operator, pinpad } = await launch({ ...AUDIO_ON, config: { ...AUDIO_ON.config, pad: { shuffle: false, audio: { outputDevice: PAD_DEVICE } } } });
    const serious = async (page: Page): Promise<string[]> => {
      const results = await new AxeBuilder({ page }).setLegacyMode(true).analyze();
      expect(results.passes.length).toBeGreaterThan(5);
      return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`);
    };
    await expect.poll(() => checkbox(operator).isEnabled()).toBe(true);
    expect(await serious(operator)).toEqual([]);
    await checkbox(operator).check();
    await startCard(operator, 'CARD-A030', 'Customer chooses PIN');
    await expect.poll(() => pinpad.getByRole('status').textContent()).toBe('Audio guidance on');
    await typeOnKeyboard(pinpad, '58');
    expect(await serious(pinpad)).toEqual([]);
    expect(await serious(operator)).toEqual([]);
    // Pictures for the docs (UPDATE_SCREENSHOTS=1 writes them to docs/screenshots, as the screenshot suite does).
    const dir = join(import.meta.dirname, '..', '..', process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/screenshots' : 'test-results/screenshots');
    mkdirSync(dir, { recursive: true });
    await pinpad.screenshot({ path: join(dir, 'pinpad-audio.png'), animations: 'disabled', caret: 'hide' });
    await operator.screenshot({ path: join(dir, 'operator-audio.png'), animations: 'disabled', caret: 'hide' });
    await pinpad.keyboard.press('Enter');
    await expect.poll(() => pinpad.getByRole('alert').textContent()).toContain(ERROR_MESSAGES.PIN_TOO_SHORT);
    expect(await serious(pinpad)).toEqual([]);
    await pinpad.keyboard.press('Escape');
    await expect.poll(() => statusText(operator)).toContain('cancelled');
    await expect.poll(() => station?.audioCues().at(-1)?.cue).toBe('cancelled');
  });
});
