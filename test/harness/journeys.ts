/** Steps shared by the e2e journeys, driven only through accessible names (as the acceptance tests do). */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export type ModeLabel = 'Customer chooses PIN' | 'Processor generates PIN';

export async function startCard(operator: Page, cardId: string, mode: ModeLabel, pan?: string): Promise<void> {
  await operator.getByRole('textbox', { name: 'Card ID' }).fill(cardId);
  await operator.getByRole('radio', { name: mode }).check();
  if (pan !== undefined) await operator.getByLabel('Card number (PAN)').fill(pan);
  await operator.getByRole('button', { name: 'Start' }).click();
}

/** Presses one key per digit; `digits` may be a string or numbers so callers can avoid building the PIN as a string. */
export async function typeDigits(pinpad: Page, digits: string | readonly number[]): Promise<void> {
  for (const digit of digits) await pinpad.getByRole('button', { name: String(digit), exact: true }).click();
}

export async function waitForCount(pinpad: Page, count: number): Promise<void> {
  await pinpad.getByRole('img', { name: `${count} ${count === 1 ? 'digit' : 'digits'} entered` }).waitFor();
}

export const heading = (page: Page): Promise<string | null> => page.getByRole('heading').textContent();
export const statusText = (page: Page): Promise<string | null> => page.getByRole('status').textContent();

export async function enterAndConfirm(pinpad: Page, pin: string | readonly number[], confirmation: string | readonly number[] = pin): Promise<void> {
  await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
  await typeDigits(pinpad, pin);
  await waitForCount(pinpad, pin.length);
  await pinpad.getByRole('button', { name: 'OK' }).click();
  await expect.poll(() => heading(pinpad)).toBe('Enter the same PIN again');
  await typeDigits(pinpad, confirmation);
  await waitForCount(pinpad, confirmation.length);
  await pinpad.getByRole('button', { name: 'OK' }).click();
}
