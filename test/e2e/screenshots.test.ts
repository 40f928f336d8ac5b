/**
 * Pictures of the main screens, taken through the harness so they show the
 * real pages. Written to test-results/screenshots; with UPDATE_SCREENSHOTS=1
 * to docs/screenshots (the ones README.md shows).
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { launchStation } from '../harness/launch-station';
import type { LaunchedStation } from '../harness/launch-station';

const dir = join(import.meta.dirname, '..', '..', process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/screenshots' : 'test-results/screenshots');
let station: LaunchedStation | null = null;
afterAll(async () => station?.close());

it('captures the operator and PIN pad screens through one customer-chooses-PIN journey', async () => {
  mkdirSync(dir, { recursive: true });
  station = await launchStation({ config: { pad: { shuffle: false } } });
  const { operator, pinpad } = station;
  const shots: string[] = [];
  const shoot = async (page: typeof operator, name: string): Promise<void> => {
    const path = join(dir, `${name}.png`);
    await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
    shots.push(path);
  };

  await shoot(operator, 'operator-ready');
  await shoot(pinpad, 'pinpad-waiting');
  await operator.getByRole('textbox', { name: 'Card ID' }).fill('CARD-0001');
  await operator.getByRole('button', { name: 'Start' }).click();
  for (const digit of '25') await pinpad.getByRole('button', { name: digit, exact: true }).click();
  await pinpad.getByRole('img', { name: '2 digits entered' }).waitFor();
  await shoot(pinpad, 'pinpad-entering');
  await expect.poll(() => operator.getByRole('status').textContent()).toContain('2 digits entered');
  await shoot(operator, 'operator-waiting');
  for (const digit of '80') await pinpad.getByRole('button', { name: digit, exact: true }).click();
  await pinpad.getByRole('button', { name: 'OK' }).click();
  for (const digit of '2580') await pinpad.getByRole('button', { name: digit, exact: true }).click();
  await pinpad.getByRole('button', { name: 'OK' }).click();
  await expect.poll(() => operator.getByRole('status').textContent()).toContain('PIN set.');
  await shoot(operator, 'operator-done');

  for (const path of shots) expect(statSync(path).size).toBeGreaterThan(5_000);
});
