/** The pad window's rules (main/core/pad-window.ts), against a model of the two windows' focus. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PinpadView } from '../../common/ipc';
import { PadWindowRules } from '../../main/core/pad-window';

/** Main marks an entry as taking keys when the station has its keypad (here: always) or the card has audio guidance. */
const view = (active: boolean, keyboardInput = true): PinpadView => ({
  active,
  step: 'enter',
  count: 0,
  minLength: 4,
  maxLength: 4,
  layout: [1, 2, 3, 4, 5, 6, 7, 8, 9, 0],
  notice: null,
  secondsLeft: active ? 30 : null,
  language: 'en',
  keyboardInput,
  audio: { on: false, outputDevice: null, outcome: null },
  revision: 1,
});

/** Two windows and which one has the keyboard; the pad may refuse focus (a window manager that says no). */
class Desk {
  focused: 'operator' | 'pad' | null = 'operator';
  padOnTop = false;
  padVisible = false;
  reloads = 0;
  padRefusesFocus = false;
  lost = 0;

  rules(keyboardInput: boolean, blurTimeoutMs = 1_000, audioGuidance = false): PadWindowRules {
    return new PadWindowRules({
      keyboardInput,
      audioGuidance,
      blurTimeoutMs,
      onFocusLost: () => void this.lost++,
      controls: {
        raisePad: (focus) => {
          this.padOnTop = true;
          this.padVisible = true;
          if (focus && !this.padRefusesFocus) this.focused = 'pad';
        },
        releasePad: () => {
          this.padOnTop = false;
          this.reloads++;
        },
        focusOperator: () => void (this.focused = 'operator'),
        padHasFocus: () => this.focused === 'pad',
      },
    });
  }
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** A desk whose pad has just started an entry. */
function entryStarted(keyboardInput: boolean): { desk: Desk; rules: PadWindowRules } {
  const desk = new Desk();
  const rules = desk.rules(keyboardInput);
  rules.onPinpadView(view(true));
  return { desk, rules };
}

it.each([false, true])('the pad window may take keyboard focus only with pad.keyboardInput (%s)', (keyboardInput) => {
  expect(new Desk().rules(keyboardInput).padFocusable).toBe(keyboardInput);
});

describe('pad.keyboardInput false (default): touch and mouse only', () => {
  it('entry shows the pad on top but the keyboard stays with the operator window, before, during and after', () => {
    const { desk, rules } = entryStarted(false);
    expect(desk).toMatchObject({ padVisible: true, padOnTop: true, focused: 'operator' });
    rules.onPinpadView(view(true));
    expect(desk.focused).toBe('operator');
    rules.onPinpadView(view(false));
    expect(desk).toMatchObject({ padOnTop: false, reloads: 1, focused: 'operator' });
  });

  it('the focus-loss rule is not used: a pad that never has focus does not wipe entry', () => {
    const desk = new Desk();
    const rules = desk.rules(false);
    rules.onPinpadView(view(true));
    rules.padBlurred();
    vi.advanceTimersByTime(60_000);
    expect(desk.lost).toBe(0);
  });
});

describe('pad.keyboardInput true: a pad display with its own keypad', () => {
  it('entry focuses the pad; when entry ends the keyboard goes back to the operator window', () => {
    const { desk, rules } = entryStarted(true);
    expect(desk.focused).toBe('pad');
    rules.onPinpadView(view(false));
    expect(desk).toMatchObject({ focused: 'operator', reloads: 1, padOnTop: false });
  });

  it('out of focus for blurTimeoutMs during entry wipes it; focus back in time does not', () => {
    const desk = new Desk();
    const rules = desk.rules(true, 1_000);
    rules.onPinpadView(view(true));
    rules.padBlurred();
    vi.advanceTimersByTime(900);
    rules.padFocused();
    vi.advanceTimersByTime(5_000);
    expect(desk.lost).toBe(0);
    rules.padBlurred();
    vi.advanceTimersByTime(1_000);
    expect(desk.lost).toBe(1);
  });

  it('a pad that could not be focused at the start of entry counts as out of focus from that moment', () => {
    const desk = new Desk();
    desk.padRefusesFocus = true;
    const rules = desk.rules(true, 1_000);
    rules.onPinpadView(view(true));
    expect(desk.focused).toBe('operator');
    vi.advanceTimersByTime(999);
    expect(desk.lost).toBe(0);
    vi.advanceTimersByTime(1);
    expect(desk.lost).toBe(1);
  });

  it('no wipe once entry has ended, and none after dispose', () => {
    const desk = new Desk();
    const rules = desk.rules(true, 1_000);
    rules.onPinpadView(view(true));
    rules.padBlurred();
    rules.onPinpadView(view(false));
    vi.advanceTimersByTime(5_000);
    rules.onPinpadView(view(true));
    rules.padBlurred();
    rules.dispose();
    vi.advanceTimersByTime(5_000);
    expect(desk.lost).toBe(0);
  });
});

describe('audio guidance offered (an output device configured), no keypad of its own', () => {
  it('the window is focusable, but only an entry with audio guidance takes the focus; any other entry leaves it with the operator', () => {
    const desk = new Desk();
    const rules = desk.rules(false, 1_000, true);
    expect(rules.padFocusable).toBe(true);
    rules.onPinpadView(view(true, false));
    expect(desk.focused).toBe('operator');
    // A touch on the pad gives it focus: the keyboard goes straight back to the operator window.
    desk.focused = 'pad';
    rules.padFocused();
    expect(desk.focused).toBe('operator');
    rules.padBlurred();
    vi.advanceTimersByTime(5_000);
    expect(desk.lost).toBe(0);
    rules.onPinpadView(view(false, false));
    rules.onPinpadView(view(true, true));
    expect(desk.focused).toBe('pad');
    rules.padFocused();
    expect(desk.focused).toBe('pad');
    rules.padBlurred();
    vi.advanceTimersByTime(1_000);
    expect(desk.lost).toBe(1);
  });
});
