/**
 * Pictures of every screen and state of both windows, taken through the
 * harness so they show the real pages and stay current. Written to
 * test-results/screenshots; with UPDATE_SCREENSHOTS=1 to docs/screenshots
 * (README.md shows the main ones). The pad's layout is fixed (pad.shuffle
 * false) so the pictures are stable; times and the countdown still vary.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { CATALOGUES } from '../helpers/catalogues';
import { launchStation } from '../harness/launch-station';
import type { LaunchedStation } from '../harness/launch-station';
import { brokenWords, launchGatedStation, setZoom, zoomedScreenshot, startCard, statusText, typeDigits, waitForCount } from '../harness/journeys';
import type { GatedStation } from '../harness/journeys';
import type { Page } from 'playwright-core';

const dir = join(import.meta.dirname, '..', '..', process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/screenshots' : 'test-results/screenshots');
let gated: GatedStation | null = null;
let iso4: LaunchedStation | null = null;
const localized: LaunchedStation[] = [];
afterAll(async () => {
  await gated?.close();
  await iso4?.close();
  for (const station of localized) await station.close();
});

const shots: string[] = [];
async function shoot(page: Page, name: string): Promise<void> {
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
  shots.push(path);
}

async function shootZoomed(page: Page, name: string): Promise<void> {
  const path = join(dir, `${name}.png`);
  await zoomedScreenshot(page, path);
  shots.push(path);
}

const alertText = (page: Page): Promise<string | null> => page.getByRole('alert').textContent();

it('captures every operator and PIN pad state through the journeys', async () => {
  mkdirSync(dir, { recursive: true });
  // Dual control off: these journeys include processor-generated PINs; the approval dialog has its own pictures.
  gated = await launchGatedStation({ config: { pad: { shuffle: false }, approval: { require: [] } } });
  const { operator, pinpad } = gated.station;
  const ok = pinpad.getByRole('button', { name: 'OK' });

  await operator.getByRole('status').getByText('Ready.').waitFor();
  await shoot(operator, 'operator-ready');
  await shoot(pinpad, 'pinpad-idle');

  await startCard(operator, 'CARD 12/<x>', 'Customer chooses PIN');
  await operator.getByRole('alert').waitFor();
  await shoot(operator, 'operator-card-id-error');

  await startCard(operator, 'CARD-0001', 'Customer chooses PIN');
  await typeDigits(pinpad, '25');
  await waitForCount(pinpad, 2);
  await expect.poll(() => statusText(operator)).toContain('2 digits entered');
  await shoot(pinpad, 'pinpad-entering');
  await shoot(operator, 'operator-waiting');

  await pinpad.getByRole('button', { name: 'Русский' }).click();
  await pinpad.getByRole('heading', { name: CATALOGUES.ru.pad.enterTitle }).waitFor();
  await shoot(pinpad, 'pinpad-ru');
  await pinpad.getByRole('button', { name: 'Қазақша' }).click();
  await pinpad.getByRole('heading', { name: CATALOGUES.kk.pad.enterTitle }).waitFor();
  await shoot(pinpad, 'pinpad-kk');
  await pinpad.getByRole('button', { name: 'English' }).click();

  await pinpad.emulateMedia({ forcedColors: 'active', contrast: 'more' });
  await operator.emulateMedia({ forcedColors: 'active', contrast: 'more' });
  await shoot(pinpad, 'pinpad-high-contrast');
  await shoot(operator, 'operator-high-contrast');
  await pinpad.emulateMedia({ forcedColors: null, contrast: null });
  await operator.emulateMedia({ forcedColors: null, contrast: null });

  await setZoom(pinpad, 2);
  await setZoom(operator, 2);
  await shootZoomed(pinpad, 'pinpad-zoom-200');
  await shootZoomed(operator, 'operator-zoom-200');
  await setZoom(pinpad, 1);
  await setZoom(operator, 1);

  await pinpad.getByRole('button', { name: 'Clear' }).click();
  await typeDigits(pinpad, '1111');
  await ok.click();
  await expect.poll(() => alertText(pinpad)).toContain('one digit repeated');
  await shoot(pinpad, 'pinpad-policy-notice');

  await typeDigits(pinpad, '2580');
  await ok.click();
  await pinpad.getByRole('heading', { name: 'Enter the same PIN again' }).waitFor();
  await typeDigits(pinpad, '2');
  await waitForCount(pinpad, 1);
  await shoot(pinpad, 'pinpad-confirm');
  await typeDigits(pinpad, '581');
  await ok.click();
  await expect.poll(() => alertText(pinpad)).toContain('did not match');
  await shoot(pinpad, 'pinpad-mismatch');
  for (let i = 0; i < 2; i++) {
    await typeDigits(pinpad, '2581');
    await waitForCount(pinpad, 4);
    await ok.click();
  }
  await expect.poll(() => alertText(pinpad)).toContain('did not match several times');
  await expect.poll(() => statusText(operator)).toContain('starting again');
  await shoot(pinpad, 'pinpad-mismatch-limit');
  await shoot(operator, 'operator-restart-notice');

  gated.gate.hold();
  await typeDigits(pinpad, '2580');
  await waitForCount(pinpad, 4);
  await ok.click();
  await typeDigits(pinpad, '2580');
  await waitForCount(pinpad, 4);
  await ok.click();
  await expect.poll(() => statusText(operator)).toContain('Sending');
  await expect.poll(() => gated?.gate.waiting).toBe(1);
  await shoot(operator, 'operator-sending');
  gated.gate.release();
  await expect.poll(() => statusText(operator)).toContain('PIN set.');
  expect(gated.sandbox.isPinSet('CARD-0001', '2580')).toBe(true);
  await shoot(operator, 'operator-done');

  await operator.getByRole('button', { name: 'Next card' }).click();
  await startCard(operator, 'CARD-0002', 'Processor generates PIN');
  await expect.poll(() => statusText(operator)).toContain('The processor generated the PIN.');
  await shoot(operator, 'operator-done-generated');

  await operator.getByRole('button', { name: 'Next card' }).click();
  await operator.getByRole('combobox', { name: 'Language' }).selectOption('ru');
  await operator.getByRole('status').getByText(CATALOGUES.ru.operator.ready).waitFor();
  await shoot(operator, 'operator-ru');
  await operator.getByRole('combobox', { name: CATALOGUES.ru.operator.language }).selectOption('kk');
  await operator.getByRole('status').getByText(CATALOGUES.kk.operator.ready).waitFor();
  await shoot(operator, 'operator-kk');
  await operator.getByRole('combobox', { name: CATALOGUES.kk.operator.language }).selectOption('en');

  await gated.gate.stop();
  await startCard(operator, 'CARD-0003', 'Processor generates PIN');
  await expect.poll(() => statusText(operator)).toContain('could not be reached');
  await shoot(operator, 'operator-failed');

  // The iso4 profile asks for the card number; a short inactivity limit shows the countdown at once.
  iso4 = await launchStation({ config: { profile: 'iso4', pad: { shuffle: false }, pin: { inactivityTimeoutMs: 9_000 } } });
  await iso4.operator.getByLabel('Card number (PAN)').fill('4000001234567890');
  await startCard(iso4.operator, 'DEMO-0001', 'Customer chooses PIN');
  await iso4.operator.getByRole('alert').waitFor();
  await shoot(iso4.operator, 'operator-pan');
  await startCard(iso4.operator, 'DEMO-0001', 'Customer chooses PIN', '4000 0012 3456 7899');
  await typeDigits(iso4.pinpad, '25');
  await waitForCount(iso4.pinpad, 2);
  await expect.poll(() => iso4?.pinpad.getByRole('timer').textContent()).toMatch(/^\d s left$/);
  await shoot(iso4.pinpad, 'pinpad-countdown');

  for (const path of shots) expect(statSync(path).size).toBeGreaterThan(5_000);
});

it('the staff screens: sign-in with the practice accounts, a wrong password, locked', async () => {
  mkdirSync(dir, { recursive: true });
  const station = await launchStation({ staff: [{ username: 'anna.k', password: 'river-lantern-4417', roles: ['operator'] }], signIn: false });
  localized.push(station);
  const { operator } = station;
  await operator.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  // The practice passwords change at every start: masked so the picture does not go stale.
  const maskPasswords = () =>
    operator.evaluate(() => {
      // User name, password and current code per account: the last two change.
      for (const [index, code] of document.querySelectorAll('.sandbox-banner code').entries()) {
        if (index % 3 === 1) code.textContent = 'xxxx-xxxx-xxxx-xxxx';
        if (index % 3 === 2) code.textContent = '000000';
      }
    });
  await maskPasswords();
  await shoot(operator, 'operator-sign-in');
  await operator.getByRole('textbox', { name: 'User name' }).fill('anna.k');
  await operator.getByLabel('Password', { exact: true }).fill('not-her-password');
  await operator.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect.poll(() => alertText(operator)).toBe('The user name, password or authentication code is wrong.');
  await shoot(operator, 'operator-sign-in-wrong-password');
  await operator.getByLabel('Password', { exact: true }).fill('river-lantern-4417');
  await operator.getByRole('textbox', { name: 'Authentication code' }).fill(await station.authCode('anna.k'));
  await operator.getByRole('button', { name: 'Sign in', exact: true }).click();
  await operator.getByRole('button', { name: 'Lock' }).click();
  await operator.getByRole('heading', { name: 'Screen locked' }).waitFor();
  await maskPasswords();
  await shoot(operator, 'operator-locked');
});

it('the pad in Russian and Kazakh: idle, entering, a policy notice, and 200% zoom with no word broken inside', async () => {
  mkdirSync(dir, { recursive: true });
  for (const language of ['ru', 'kk'] as const) {
    const t = CATALOGUES[language];
    const station = await launchStation({ config: { pad: { shuffle: false, language } } });
    localized.push(station);
    const { operator, pinpad } = station;
    await pinpad.getByRole('heading', { name: t.pad.waitTitle }).waitFor();
    await shoot(pinpad, `pinpad-${language}-idle`);
    expect(await brokenWords(pinpad)).toEqual([]);

    await startCard(operator, `CARD-${language.toUpperCase()}`, 'Customer chooses PIN');
    await pinpad.getByRole('heading', { name: t.pad.enterTitle }).waitFor();
    await typeDigits(pinpad, '1111');
    await pinpad.getByRole('button', { name: t.pad.ok, exact: true }).click();
    await expect.poll(() => alertText(pinpad)).toBe(t.errors.PIN_REPEATED);
    await shoot(pinpad, `pinpad-${language}-policy-notice`);
    await typeDigits(pinpad, '25');
    await expect.poll(() => station.core.station.pinpadView().count).toBe(2);
    await shoot(pinpad, `pinpad-${language}-entering`);

    await setZoom(pinpad, 2);
    await shootZoomed(pinpad, `pinpad-${language}-zoom-200`);
    expect(await brokenWords(pinpad)).toEqual([]);
    await setZoom(pinpad, 1);
  }
  for (const path of shots) expect(statSync(path).size).toBeGreaterThan(5_000);
});
