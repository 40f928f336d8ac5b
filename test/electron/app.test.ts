/**
 * The packaged-app journeys through Playwright's Electron driver. They need an
 * Electron binary; without one every test here is reported as skipped, with
 * the reason in its name, never as passed.
 */
import { join } from 'node:path';
import { _electron as electron } from 'playwright-core';
import type { ElectronApplication, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { electronBinaryPath, MISSING_ELECTRON_MESSAGE } from '../../scripts/electron-binary.mjs';

const binary = electronBinaryPath();
const suiteName = binary ? 'Electron app' : `Electron app — skipped: ${MISSING_ELECTRON_MESSAGE}`;
if (!binary) console.warn(`test/electron: skipped: ${MISSING_ELECTRON_MESSAGE}`);

describe.skipIf(!binary)(suiteName, () => {
  let app: ElectronApplication;
  let operator: Page;
  let pinpad: Page;

  beforeAll(async () => {
    app = await electron.launch({ executablePath: binary ?? undefined, args: [join(import.meta.dirname, '..', '..', 'out', 'main', 'index.js')] });
    const windows = async (): Promise<Page[]> => {
      // Up to 60 s: on a busy machine the app's start-up (keychain, trail) takes far longer than when idle.
      for (let i = 0; i < 300 && app.windows().length < 2; i++) await new Promise((r) => setTimeout(r, 200));
      return app.windows();
    };
    for (const page of await windows()) {
      await page.waitForLoadState('domcontentloaded');
      if (page.url().includes('/operator/')) operator = page;
      if (page.url().includes('/pinpad/')) pinpad = page;
    }
  });

  afterAll(async () => {
    await app?.close();
  });

  it('processor generates PIN: the operator sees the processor answer', async () => {
    await operator.getByRole('textbox', { name: 'Card ID' }).fill('CARD-E1');
    await operator.getByRole('radio', { name: 'Processor generates PIN' }).check();
    await operator.getByRole('button', { name: 'Start' }).click();
    await expect.poll(() => operator.getByRole('status').textContent()).toContain('pin_generated');
  });

  it('customer chooses PIN: typed twice on the pad, set at the sandbox', async () => {
    await operator.getByRole('button', { name: 'Next card' }).click();
    await operator.getByRole('textbox', { name: 'Card ID' }).fill('CARD-E2');
    await operator.getByRole('radio', { name: 'Customer chooses PIN' }).check();
    await operator.getByRole('button', { name: 'Start' }).click();
    for (let round = 0; round < 2; round++) {
      for (const digit of '4826') await pinpad.getByRole('button', { name: digit, exact: true }).click();
      await pinpad.getByRole('button', { name: 'OK' }).click();
    }
    await expect.poll(() => operator.getByRole('status').textContent()).toContain('pin_set');
  });

  it('navigation to a remote URL is refused', async () => {
    const before = operator.url();
    await operator.evaluate(() => {
      window.location.href = 'https://example.com/';
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(operator.url()).toBe(before);
  });

  it('window.open is refused', async () => {
    const count = app.windows().length;
    const opened = await operator.evaluate(() => window.open('https://example.com/') === null);
    expect(opened).toBe(true);
    expect(app.windows().length).toBe(count);
  });

  it('the PIN pad window reports content protection on; the operator window has none of the pad options', async () => {
    const flags = await app.evaluate(({ BrowserWindow }) =>
      BrowserWindow.getAllWindows().map((w) => ({ title: w.getTitle(), protected: w.isContentProtected() })),
    );
    expect(flags.find((f) => f.title.includes('PIN pad'))?.protected).toBe(true);
  });

  it('each window exposes only its own API', async () => {
    expect(await operator.evaluate(() => typeof (window as unknown as Record<string, unknown>).pinpad)).toBe('undefined');
    expect(await pinpad.evaluate(() => typeof (window as unknown as Record<string, unknown>).station)).toBe('undefined');
  });
});
