/**
 * The station's UX through the real pages: scanner input, the PIN policy,
 * the mismatch limit, both timeouts, keyboard-only use of both windows,
 * language switching on the pad and the shuffled layout. Driven through
 * accessible names only (English is the default language).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_MESSAGES } from '../../common/errors';
import { PINPAD_STATE_EVENT } from '../../common/ipc';
import { CATALOGUES } from '../helpers/catalogues';
import { launchStation } from '../harness/launch-station';
import type { LaunchedStation, LaunchStationOptions } from '../harness/launch-station';
import { enterAndConfirm, heading, isFocused, padExposedText, padLayout, startCard, statusText, typeDigits, waitForCount } from '../harness/journeys';
import type { Page } from 'playwright-core';

let station: LaunchedStation | null = null;
afterEach(async () => {
  await station?.close();
  station = null;
});

async function launch(options?: LaunchStationOptions): Promise<LaunchedStation> {
  station = await launchStation(options);
  return station;
}

const alertText = (page: Page): Promise<string | null> => page.getByRole('alert').textContent();
const cardIdField = (operator: Page) => operator.getByRole('textbox', { name: 'Card ID' });
const { en, ru, kk } = CATALOGUES;

describe('operator window', () => {
  it('takes a barcode scanner (keyboard wedge): the characters then Enter in Card ID start the session', async () => {
    const { operator, pinpad, sandbox } = await launch();
    // The field has the focus on load, so a scan needs no click first.
    await expect.poll(() => isFocused(cardIdField(operator))).toBe(true);
    await operator.keyboard.type('CARD-0042');
    await operator.keyboard.press('Enter');
    await expect.poll(() => statusText(operator)).toContain('Waiting for the cardholder to enter the PIN');
    await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
    expect(station?.core.station.operatorView()).toMatchObject({ phase: 'awaiting-pin', cardId: 'CARD-0042', mode: 'customer' });
    await enterAndConfirm(pinpad, '5860');
    await expect.poll(() => statusText(operator)).toContain('PIN set.');
    expect(sandbox?.isPinSet('CARD-0042', '5860')).toBe(true);

    // The outcome focuses "Next card": Enter there, and the next scan goes straight into an empty Card ID.
    await expect.poll(() => isFocused(operator.getByRole('button', { name: 'Next card' }))).toBe(true);
    await operator.keyboard.press('Enter');
    await expect.poll(() => isFocused(cardIdField(operator))).toBe(true);
    expect(await cardIdField(operator).inputValue()).toBe('');
    // Scanners may add spaces around the code; they are trimmed.
    await operator.keyboard.type(' CARD-0043 ');
    await operator.keyboard.press('Enter');
    await expect.poll(() => station?.core.station.operatorView().cardId).toBe('CARD-0043');
    await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
  });

  it('works with the keyboard only: typing, Tab, arrow keys, Enter, Space and Escape', async () => {
    // Dual control off: the keyboard journey ends with a processor-generated PIN, which by default waits for a supervisor.
    const { operator, pinpad, sandbox } = await launch({ config: { approval: { require: [] } } });
    const focused = (name: string, role: 'button' | 'radio' = 'button') => isFocused(operator.getByRole(role, { name, exact: true }));
    await expect.poll(() => isFocused(cardIdField(operator))).toBe(true);

    // Enter on an empty field: the error is announced and the focus stays for the correction.
    await operator.keyboard.press('Enter');
    await expect.poll(() => alertText(operator)).toBe('Enter or scan the card ID.');
    expect(await isFocused(cardIdField(operator))).toBe(true);

    await operator.keyboard.type('CARD-0500');
    await operator.keyboard.press('Tab');
    expect(await focused('Customer chooses PIN', 'radio')).toBe(true);
    await operator.keyboard.press('ArrowDown');
    expect(await operator.getByRole('radio', { name: 'Processor generates PIN' }).isChecked()).toBe(true);
    await operator.keyboard.press('ArrowUp');
    expect(await operator.getByRole('radio', { name: 'Customer chooses PIN' }).isChecked()).toBe(true);
    await operator.keyboard.press('Tab');
    expect(await focused('Start')).toBe(true);
    await operator.keyboard.press('Enter');
    await expect.poll(() => statusText(operator)).toContain('Waiting for the cardholder');
    await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');

    // Escape cancels the entry; the focus lands on "Next card".
    await operator.keyboard.press('Escape');
    await expect.poll(() => statusText(operator)).toContain('PIN entry was cancelled.');
    await expect.poll(() => focused('Next card')).toBe(true);
    await expect.poll(() => heading(pinpad)).toBe('Please wait');
    await operator.keyboard.press('Enter');
    await expect.poll(() => isFocused(cardIdField(operator))).toBe(true);

    // "Cancel PIN entry" is reachable with Tab while the cardholder types.
    await operator.keyboard.type('CARD-0501');
    await operator.keyboard.press('Enter');
    await expect.poll(() => statusText(operator)).toContain('Waiting for the cardholder');
    for (let i = 0; i < 6 && !(await focused('Cancel PIN entry')); i++) await operator.keyboard.press('Tab');
    expect(await focused('Cancel PIN entry')).toBe(true);
    await operator.keyboard.press('Space');
    await expect.poll(() => statusText(operator)).toContain('PIN entry was cancelled.');
    await expect.poll(() => focused('Next card')).toBe(true);
    await operator.keyboard.press('Space');
    await expect.poll(() => isFocused(cardIdField(operator))).toBe(true);

    // Processor-generated PIN, chosen with the arrow keys, started with Space on Start.
    await operator.keyboard.type('CARD-0502');
    await operator.keyboard.press('Tab');
    await operator.keyboard.press('ArrowDown');
    await operator.keyboard.press('Tab');
    expect(await focused('Start')).toBe(true);
    await operator.keyboard.press('Space');
    await expect.poll(() => statusText(operator)).toContain('The processor generated the PIN.');
    expect(sandbox?.wasGenerated('CARD-0502')).toBe(true);
    expect(sandbox?.requests).toHaveLength(1);
  });
});

describe('PIN pad', () => {
  it('refuses each weak PIN with its own message, never showing the digits, then accepts a good one', async () => {
    const { operator, pinpad, sandbox } = await launch();
    await startCard(operator, 'CARD-0600', 'Customer chooses PIN');
    const cases = [
      ['1111', 'PIN_REPEATED'],
      ['1234', 'PIN_SEQUENCE'],
      ['9876', 'PIN_SEQUENCE'],
      ['1212', 'PIN_DENIED'],
    ] as const;
    for (const [pin, code] of cases) {
      await typeDigits(pinpad, pin);
      await waitForCount(pinpad, 4);
      await pinpad.getByRole('button', { name: 'OK' }).click();
      await expect.poll(() => alertText(pinpad), { message: code }).toBe(ERROR_MESSAGES[code]);
      // The entry is cleared and stays at the first step; the message names a rule, not a digit.
      await waitForCount(pinpad, 0);
      expect(await heading(pinpad)).toBe('Enter your new PIN');
      expect(await alertText(pinpad)).not.toMatch(/\d/);
      const exposed = await padExposedText(pinpad);
      expect(exposed.speech).not.toContain(pin);
      expect(exposed.dom).not.toContain(pin);
      expect(await statusText(operator)).not.toContain(pin);
      expect(await statusText(operator)).toContain('0 digits entered');
    }
    expect(sandbox?.requests).toHaveLength(0);
    // With 30 s of inactivity allowed there is no countdown yet: it shows in the last 10 s only.
    expect(await pinpad.getByRole('timer').textContent()).toBe('');
    // Any key press clears the notice.
    await typeDigits(pinpad, '5');
    await expect.poll(() => alertText(pinpad)).toBe('');
    await pinpad.getByRole('button', { name: 'Erase' }).click();
    await enterAndConfirm(pinpad, '5860');
    await expect.poll(() => statusText(operator)).toContain('PIN set.');
    expect(sandbox?.isPinSet('CARD-0600', '5860')).toBe(true);
    expect(sandbox?.requests).toHaveLength(1);
  });

  it('after three wrong confirmations starts entry again, and the operator is told', async () => {
    const { operator, pinpad, sandbox } = await launch();
    await startCard(operator, 'CARD-0700', 'Customer chooses PIN');
    await typeDigits(pinpad, '2580');
    await waitForCount(pinpad, 4);
    await pinpad.getByRole('button', { name: 'OK' }).click();
    for (let attempt = 1; attempt <= 3; attempt++) {
      await expect.poll(() => heading(pinpad)).toBe('Enter the same PIN again');
      await typeDigits(pinpad, '2581');
      await waitForCount(pinpad, 4);
      await pinpad.getByRole('button', { name: 'OK' }).click();
      if (attempt < 3) {
        await expect.poll(() => alertText(pinpad)).toBe(ERROR_MESSAGES.PIN_MISMATCH);
        expect(await statusText(operator)).not.toContain(en.operator.restarted);
      }
    }
    await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
    expect(await alertText(pinpad)).toBe(ERROR_MESSAGES.PIN_MISMATCH_LIMIT);
    await waitForCount(pinpad, 0);
    await expect.poll(() => statusText(operator)).toContain(en.operator.restarted);
    expect(await statusText(operator)).toContain('Waiting for the cardholder to enter the PIN: 0 digits entered');
    expect(sandbox?.requests).toHaveLength(0);

    // The first PIN was wiped: a new one goes through.
    await enterAndConfirm(pinpad, '1357');
    await expect.poll(() => statusText(operator)).toContain('PIN set.');
    expect(sandbox?.isPinSet('CARD-0700', '1357')).toBe(true);
    expect(sandbox?.isPinSet('CARD-0700', '2580')).toBe(false);
  });

  it('without pad.keyboardInput (the default) the pad takes no keys at all, not even on a focused control', async () => {
    const { operator, pinpad, sandbox } = await launch();
    await startCard(operator, 'CARD-0810', 'Customer chooses PIN');
    await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
    const cancel = pinpad.getByRole('button', { name: 'Cancel' });
    await cancel.focus();
    for (const key of ['4', '8', 'Numpad2', 'Backspace', 'Delete', 'Enter', 'NumpadEnter', 'Space', 'Tab', 'Escape']) await pinpad.keyboard.press(key);
    // One round trip to main after the keys, so any IPC they caused has arrived.
    await pinpad.evaluate(() => (window as unknown as { pinpad: { getState(): Promise<unknown> } }).pinpad.getState());
    expect(station?.core.station.pinpadView()).toMatchObject({ active: true, step: 'enter', count: 0 });
    expect(await isFocused(cancel)).toBe(true);
    // Touch and mouse work as always.
    await enterAndConfirm(pinpad, '4826');
    await expect.poll(() => statusText(operator)).toContain('PIN set.');
    expect(sandbox?.isPinSet('CARD-0810', '4826')).toBe(true);
  });

  it('with pad.keyboardInput, works with a physical keyboard only, through the shuffled layout: digits, Backspace, Delete, Enter, Escape', async () => {
    const { operator, pinpad, sandbox } = await launch({ config: { pad: { keyboardInput: true } } });
    const keypad = await pinpad.context().newCDPSession(pinpad);
    // Playwright models the numeric keypad with NumLock off (Numpad3 is PageDown), so its digits are sent
    // as Chromium receives them with NumLock on: key "3", code "Numpad3", on the numpad.
    const numpad = async (digit: number) => {
      const event = { key: String(digit), code: `Numpad${digit}`, text: String(digit), windowsVirtualKeyCode: 96 + digit, location: 3 };
      await keypad.send('Input.dispatchKeyEvent', { type: 'keyDown', ...event });
      await keypad.send('Input.dispatchKeyEvent', { type: 'keyUp', ...event });
    };
    const press = async (...keys: Array<string | number>) => {
      for (const key of keys) await (typeof key === 'number' ? numpad(key) : pinpad.keyboard.press(key));
    };
    await startCard(operator, 'CARD-0800', 'Customer chooses PIN');
    await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');

    await press('7', 3);
    await waitForCount(pinpad, 2);
    await press('Backspace');
    await waitForCount(pinpad, 1);
    await press('Delete');
    await waitForCount(pinpad, 0);
    await press('4', '2', 'Enter');
    await expect.poll(() => alertText(pinpad)).toContain(ERROR_MESSAGES.PIN_TOO_SHORT);
    await press('Escape');
    await expect.poll(() => statusText(operator)).toContain('PIN entry was cancelled.');
    await expect.poll(() => heading(pinpad)).toBe('Please wait');
    // Keys do nothing while no entry is active.
    await press('5', 'Enter');
    expect(station?.core.station.pinpadView()).toMatchObject({ active: false, count: 0 });

    await operator.getByRole('button', { name: 'Next card' }).click();
    await startCard(operator, 'CARD-0801', 'Customer chooses PIN');
    await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
    // The language buttons are reached with Tab and pressed with Space.
    await press('Tab', 'Tab');
    expect(await isFocused(pinpad.getByRole('button', { name: 'Русский' }))).toBe(true);
    await press('Space');
    await expect.poll(() => heading(pinpad)).toBe(ru.pad.enterTitle);
    await press('Shift+Tab', 'Space');
    await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
    const layout = await padLayout(pinpad);
    expect(layout).toEqual(station?.core.station.pinpadView().layout);
    await press(9, '4', 0, '1', '9', 'Backspace', 6);
    await waitForCount(pinpad, 4);
    // Enter activates the control reached with the keyboard (the English button), like any button: no OK.
    await press('Enter');
    await pinpad.evaluate(() => (window as unknown as { pinpad: { getState(): Promise<unknown> } }).pinpad.getState());
    expect(station?.core.station.pinpadView()).toMatchObject({ step: 'enter', count: 4 });
    // A key touched on the screen keeps the focus, but was not reached with the keyboard: Enter still means OK.
    await pinpad.getByRole('button', { name: 'Clear' }).click();
    await press(9, '4', 0, '6');
    await waitForCount(pinpad, 4);
    await press('Enter');
    await expect.poll(() => heading(pinpad)).toBe('Enter the same PIN again');
    await press('9', '4', '0', '6', 'NumpadEnter');
    await expect.poll(() => statusText(operator)).toContain('PIN set.');
    // Whatever the keys showed, the digits typed are the PIN set.
    expect(sandbox?.isPinSet('CARD-0801', '9406')).toBe(true);
  });

  it('switches language from its own buttons; names change, the indicator stays count-only, and the choice resets after the session', async () => {
    const { operator, pinpad } = await launch();
    const button = (name: string) => pinpad.getByRole('button', { name, exact: true });
    await startCard(operator, 'CARD-0900', 'Customer chooses PIN');
    await typeDigits(pinpad, '58');
    await waitForCount(pinpad, 2);

    await button('Русский').click();
    await expect.poll(() => heading(pinpad)).toBe(ru.pad.enterTitle);
    expect(await pinpad.evaluate(() => document.documentElement.lang)).toBe('ru');
    for (const name of [ru.pad.erase, ru.pad.clear, ru.pad.ok, ru.pad.cancel]) expect(await button(name).count(), name).toBe(1);
    for (const name of ['Erase', 'Clear', 'OK', 'Cancel']) expect(await button(name).count(), name).toBe(0);
    for (let digit = 0; digit <= 9; digit++) expect(await button(String(digit)).count()).toBe(1);
    expect(await pinpad.getByRole('img').getAttribute('aria-label')).toBe('Введено 2 цифры');
    expect(await pinpad.getByRole('navigation').getAttribute('aria-label')).toBe(ru.pad.language);
    expect(await button('Русский').getAttribute('aria-pressed')).toBe('true');
    expect(await pinpad.getByText('4 цифры').count()).toBe(1);

    await button('Қазақша').click();
    await expect.poll(() => heading(pinpad)).toBe(kk.pad.enterTitle);
    for (const name of [kk.pad.erase, kk.pad.clear, kk.pad.cancel]) expect(await button(name).count(), name).toBe(1);
    expect(await pinpad.getByRole('img').getAttribute('aria-label')).toBe('2 цифр енгізілді');
    await typeDigits(pinpad, '58');
    await pinpad.getByRole('img', { name: '4 цифр енгізілді' }).waitFor();
    await button(kk.pad.ok).click();
    await expect.poll(() => heading(pinpad)).toBe(kk.pad.confirmTitle);
    await typeDigits(pinpad, '5');
    await pinpad.getByRole('img', { name: '1 цифр енгізілді' }).waitFor();

    await button('Русский').click();
    await pinpad.getByRole('img', { name: 'Введена 1 цифра' }).waitFor();
    await button(ru.pad.erase).click();
    await typeDigits(pinpad, '1111');
    await button(ru.pad.ok).click();
    // Feedback comes in the chosen language too.
    await expect.poll(() => alertText(pinpad)).toBe(ru.errors.PIN_MISMATCH);
    expect(await heading(pinpad)).toBe(ru.pad.confirmTitle);
    await pinpad.getByRole('img', { name: 'Введено 0 цифр' }).waitFor();
    // In every language the indicator's name carries the count and nothing else.
    const exposed = await padExposedText(pinpad);
    for (const pin of ['5858', '1111']) expect(exposed.speech + exposed.dom).not.toContain(pin);

    await button('English').click();
    await expect.poll(() => heading(pinpad)).toBe('Enter the same PIN again');
    await waitForCount(pinpad, 0);
    await button('Қазақша').click();
    await expect.poll(() => heading(pinpad)).toBe(kk.pad.confirmTitle);

    // The operator window keeps its own language.
    expect(await statusText(operator)).toContain('Waiting for the cardholder to confirm the PIN');
    // The session ends (the cardholder cancels): the pad is back in the default language for the next person.
    await button(kk.pad.cancel).click();
    await expect.poll(() => heading(pinpad)).toBe('Please wait');
    // Polled: the entry's end reloads the pad's page, which a single evaluate could meet mid-navigation.
    await expect.poll(() => pinpad.evaluate(() => document.documentElement.lang)).toBe('en');
    expect(await button('English').getAttribute('aria-pressed')).toBe('true');
    await operator.getByRole('button', { name: 'Next card' }).click();
    await startCard(operator, 'CARD-0901', 'Customer chooses PIN');
    await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
    await waitForCount(pinpad, 0);
  });

  it('shows the reply to a key at once, and never rolls back to an older view that arrives late', async () => {
    const { operator, pinpad } = await launch();
    await startCard(operator, 'CARD-0950', 'Customer chooses PIN');
    await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
    const stale = station?.core.station.pinpadView();
    await typeDigits(pinpad, '58');
    await waitForCount(pinpad, 2);
    // An event from before the two presses, delivered now as a slow push would be.
    await pinpad.evaluate(
      ([channel, view]) => (window as unknown as { __pinStationDeliver: (c: string, v: unknown) => void }).__pinStationDeliver(channel, view),
      [PINPAD_STATE_EVENT, stale] as const,
    );
    await pinpad.evaluate(() => (window as unknown as { pinpad: { getState(): Promise<unknown> } }).pinpad.getState());
    expect(await pinpad.getByRole('img').getAttribute('aria-label')).toBe('2 digits entered');
  });

  /**
   * Reloads the pad with main's answers to its get-state asks decided per ask (1 = the preload's early ask):
   * 'answer', 'refuse' (as for a sender main does not know) or, for every later ask, held back; pushed states are
   * held back too (the countdown pushes one a second), so only the answers chosen can enable the keypad.
   */
  async function reloadPadWithStateAsks(launched: LaunchedStation, first: 'answer' | 'refuse', second: 'answer' | 'hold') {
    const { pinpad } = launched;
    const router = launched.core.router;
    const handle = router.handle.bind(router);
    const evaluate = pinpad.evaluate.bind(pinpad);
    const held: (() => void)[] = [];
    const holdBack = (): Promise<void> => new Promise<void>((release) => held.push(release));
    let stateAsks = 0;
    let heldAsks = 0;
    router.handle = (role, channel, arg) => {
      if (role !== 'pinpad' || channel !== 'pinpad:get-state') return handle(role, channel, arg);
      stateAsks++;
      if (stateAsks === 1) return handle(first === 'answer' ? role : null, channel, arg);
      if (stateAsks === 2 && second === 'answer') return handle(role, channel, arg);
      heldAsks++;
      return holdBack().then(() => handle(role, channel, arg));
    };
    const pushesHeld = (pageFunction: unknown, arg?: unknown): Promise<unknown> =>
      String(pageFunction).includes('__pinStationDeliver')
        ? holdBack().then(() => evaluate(pageFunction as string, arg))
        : evaluate(pageFunction as string, arg);
    pinpad.evaluate = pushesHeld as typeof pinpad.evaluate;
    const restore = (): void => {
      router.handle = handle;
      pinpad.evaluate = evaluate;
      for (const release of held) release();
    };
    try {
      await pinpad.reload();
    } catch (error) {
      restore();
      throw error;
    }
    return { stateAsks: () => stateAsks, heldAsks: () => heldAsks, restore };
  }

  it('a pad page loaded mid-entry shows a usable keypad from the state its preload asked for, without waiting for another answer from main', async () => {
    const launched = await launch();
    const { operator, pinpad } = launched;
    await startCard(operator, 'CARD-0951', 'Customer chooses PIN');
    await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
    const asks = await reloadPadWithStateAsks(launched, 'answer', 'hold');
    try {
      await expect.poll(() => pinpad.getByRole('button', { name: '5', exact: true }).isEnabled(), { timeout: 15_000 }).toBe(true);
      // The page's own ask at mount went out and is still unanswered: the keypad came from the preload's.
      await expect.poll(() => asks.heldAsks()).toBeGreaterThanOrEqual(1);
      expect(asks.stateAsks()).toBe(2);
      await typeDigits(pinpad, '58');
      await waitForCount(pinpad, 2);
    } finally {
      asks.restore();
    }
  });

  it('a pad page whose early ask main refuses asks again itself and shows a usable keypad', async () => {
    const launched = await launch();
    const { operator, pinpad } = launched;
    await startCard(operator, 'CARD-0952', 'Customer chooses PIN');
    await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
    const asks = await reloadPadWithStateAsks(launched, 'refuse', 'answer');
    try {
      await expect.poll(() => pinpad.getByRole('button', { name: '5', exact: true }).isEnabled(), { timeout: 15_000 }).toBe(true);
      expect(asks.stateAsks()).toBeGreaterThanOrEqual(2);
      await typeDigits(pinpad, '58');
      await waitForCount(pinpad, 2);
    } finally {
      asks.restore();
    }
  });

  it('shuffles the keys for every entry, and the PINs still verify at the sandbox', async () => {
    const { operator, pinpad, sandbox } = await launch();
    const layouts: number[][] = [];
    const pins = ['5860', '3917', '0482'];
    for (const [i, pin] of pins.entries()) {
      const cardId = `CARD-100${i}`;
      if (i > 0) await operator.getByRole('button', { name: 'Next card' }).click();
      await startCard(operator, cardId, 'Customer chooses PIN');
      await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
      const layout = await padLayout(pinpad);
      // What the keys show is main's layout, a permutation of the ten digits.
      expect(layout).toEqual(station?.core.station.pinpadView().layout);
      expect([...layout].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      layouts.push(layout);
      await typeDigits(pinpad, pin);
      await waitForCount(pinpad, 4);
      await pinpad.getByRole('button', { name: 'OK' }).click();
      await expect.poll(() => heading(pinpad)).toBe('Enter the same PIN again');
      // The layout stays the same between the entry and its confirmation.
      expect(await padLayout(pinpad)).toEqual(layout);
      await typeDigits(pinpad, pin);
      await waitForCount(pinpad, 4);
      await pinpad.getByRole('button', { name: 'OK' }).click();
      await expect.poll(() => statusText(operator)).toContain('PIN set.');
      expect(sandbox?.isPinSet(cardId, pin)).toBe(true);
    }
    // Equal layouts by chance: 1 in 10! per pair.
    expect(new Set(layouts.map((layout) => layout.join(''))).size).toBe(3);
    expect(layouts.some((layout) => layout.join('') !== '1234567890')).toBe(true);
    // Between sessions the idle pad shows the fixed layout (disabled).
    await expect.poll(() => padLayout(pinpad)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
  });
});

describe('timeouts (inactivity 2 s, session 3 s)', () => {
  let timed: LaunchedStation;
  beforeAll(async () => {
    timed = await launchStation({ config: { pin: { inactivityTimeoutMs: 2_000, sessionTimeoutMs: 3_000 }, pad: { keyboardInput: true } } });
  });
  afterAll(async () => timed?.close());

  /** Waits for the timeout's effects on both windows; returns when the pad went idle. */
  async function expectTimedOut(): Promise<number> {
    const { operator, pinpad, sandbox } = timed;
    await expect.poll(() => heading(pinpad)).toBe('Please wait');
    const idleAt = Date.now();
    await expect.poll(() => statusText(operator)).toContain('PIN entry timed out. Nothing was sent.');
    expect(await statusText(operator)).toContain('PIN_TIMEOUT');
    expect(timed.core.station.pinpadView()).toMatchObject({ active: false, count: 0, secondsLeft: null });
    expect(await pinpad.getByRole('timer').count()).toBe(0);
    // Control is back with the operator: the form is enabled and "Next card" has the focus.
    expect(await cardIdField(operator).isEnabled()).toBe(true);
    await expect.poll(() => isFocused(operator.getByRole('button', { name: 'Next card' }))).toBe(true);
    expect(sandbox?.requests).toHaveLength(0);
    return idleAt;
  }

  it('inactivity wipes the entry and returns control to the operator; the pad counts down', async () => {
    const { operator, pinpad } = timed;
    await startCard(operator, 'CARD-1100', 'Customer chooses PIN');
    await typeDigits(pinpad, '58');
    await waitForCount(pinpad, 2);
    const lastKey = Date.now();
    await expect.poll(() => pinpad.getByRole('timer').textContent()).toMatch(/^[12] s left$/);
    expect(await statusText(operator)).toMatch(/2 digits entered · [0-3] s left/);
    const elapsed = (await expectTimedOut()) - lastKey;
    expect(elapsed).toBeGreaterThan(1_500);
    expect(elapsed).toBeLessThan(2_900);
  });

  it('the total session limit ends entry even while keys keep being pressed', async () => {
    const { operator, pinpad } = timed;
    await operator.getByRole('button', { name: 'Next card' }).click();
    const started = Date.now();
    await startCard(operator, 'CARD-1101', 'Customer chooses PIN');
    await expect.poll(() => heading(pinpad)).toBe('Enter your new PIN');
    let lastKey = Date.now();
    // A key every ~0.5 s keeps the 2 s inactivity limit from ever firing.
    while (timed.core.station.pinpadView().active) {
      await pinpad.keyboard.press('5').catch(() => undefined);
      await pinpad.keyboard.press('Backspace').catch(() => undefined);
      if (timed.core.station.pinpadView().active) lastKey = Date.now();
      await pinpad.waitForTimeout(500);
      expect(Date.now() - started).toBeLessThan(6_000);
    }
    const ended = Date.now();
    expect(ended - started).toBeGreaterThan(2_700);
    expect(ended - lastKey).toBeLessThan(1_900);
    await expectTimedOut();
  });
});
