/** The pad window's rules (main/core/pad-window.ts), against a model of the two windows' focus. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PinpadView } from '../../common/ipc';
import { OUTCOME_CUE_TIMEOUT_MS, PadWindowRules } from '../../main/core/pad-window';
import { parseConfig } from '../../main/core/config';
import type { State } from '../../main/core/station-state';
import { pinpadView } from '../../main/core/station-view';

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
  audio: { on: false, outputDevice: null, outcome: null, language: null },
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

describe("an audio entry's end: the reload waits for the outcome's cue, bounded", () => {
  type Outcome = PinpadView['audio']['outcome'];
  /** A view after an audio entry: still the card's (audio on) with how it ended, or the next card's idle pad. */
  const ended = (outcome: Outcome, on = true): PinpadView => ({
    ...view(false),
    audio: { on, outputDevice: 'Pad headset', outcome, language: on ? 'ru' : null },
  });
  const audioEntry = (): PinpadView => ({ ...view(true), audio: { on: true, outputDevice: 'Pad headset', outcome: null, language: 'ru' } });

  function audioDesk(): { desk: Desk; rules: PadWindowRules } {
    const desk = new Desk();
    const rules = desk.rules(false, 1_000, true);
    rules.onPinpadView(audioEntry());
    return { desk, rules };
  }

  it('no reload while "sent" and then "set" are spoken; the pad saying it spoke the outcome reloads it at once', () => {
    const { desk, rules } = audioDesk();
    rules.onPinpadView(ended('sent'));
    expect(desk).toMatchObject({ reloads: 0, focused: 'operator' });
    // A report before the final outcome (the page cannot know one yet) changes nothing.
    rules.outcomeCuePlayed();
    expect(desk.reloads).toBe(0);
    rules.onPinpadView(ended('set'));
    vi.advanceTimersByTime(2_000);
    expect(desk.reloads).toBe(0);
    rules.outcomeCuePlayed();
    expect(desk).toMatchObject({ reloads: 1, padOnTop: false });
    // Later views of the same card (a republish) and late reports reload nothing more.
    rules.onPinpadView(ended('set'));
    rules.outcomeCuePlayed();
    vi.advanceTimersByTime(60_000);
    expect(desk.reloads).toBe(1);
  });

  it('a pad that never says it spoke the outcome is reloaded once the bound has passed after the final outcome', () => {
    const { desk, rules } = audioDesk();
    rules.onPinpadView(ended('cancelled'));
    vi.advanceTimersByTime(OUTCOME_CUE_TIMEOUT_MS - 1);
    expect(desk.reloads).toBe(0);
    vi.advanceTimersByTime(1);
    expect(desk.reloads).toBe(1);
    vi.advanceTimersByTime(60_000);
    expect(desk.reloads).toBe(1);
  });

  it('a processor slower than the bound: the page reloads while it waits, and again once the outcome came and was spoken', () => {
    const { desk, rules } = audioDesk();
    rules.onPinpadView(ended('sent'));
    vi.advanceTimersByTime(OUTCOME_CUE_TIMEOUT_MS);
    expect(desk.reloads).toBe(1);
    vi.advanceTimersByTime(60_000);
    expect(desk.reloads).toBe(1);
    rules.onPinpadView(ended('failed'));
    rules.outcomeCuePlayed();
    expect(desk.reloads).toBe(2);
  });

  it('a Start while the reload still waits reloads first, and the new entry is not sent to the old page', () => {
    const { desk, rules } = audioDesk();
    rules.onPinpadView(ended('set'));
    expect(rules.reloadsBefore(audioEntry())).toBe(true);
    rules.onPinpadView(audioEntry());
    expect(desk).toMatchObject({ reloads: 1, padOnTop: true });
    expect(rules.reloadsBefore(audioEntry())).toBe(false);
    // The old card's bound does not reload the new entry's page.
    vi.advanceTimersByTime(60_000);
    expect(desk.reloads).toBe(1);
  });

  it('the card gone before its outcome was spoken (the session ended): the pad reloads at once', () => {
    const { desk, rules } = audioDesk();
    rules.onPinpadView(ended('sent'));
    rules.onPinpadView(ended(null, false));
    expect(desk.reloads).toBe(1);
  });

  it('an entry without audio guidance reloads exactly as before: at its end', () => {
    const desk = new Desk();
    const rules = desk.rules(false, 1_000, true);
    rules.onPinpadView(view(true));
    rules.onPinpadView(view(false));
    expect(desk).toMatchObject({ reloads: 1, padOnTop: false, focused: 'operator' });
    expect(rules.reloadsBefore(view(true))).toBe(false);
  });
});

describe('the pad view marks a final outcome no pad page has spoken yet', () => {
  const config = parseConfig({ pad: { audio: { outputDevice: 'USB Handset' } } });
  const card = { cardId: 'C1', mode: 'customer' as const, operator: 'op', approval: null, audio: true };
  const done: State = { kind: 'done', card, outcome: { status: 'ok', requestStatus: 'done', dt: '2026-01-01T00:00:00Z' }, auditError: null };

  it('asks a fresh page to speak it only while no page has reported it spoken', () => {
    expect(pinpadView(done, config, 5, 'kk', true).audio).toMatchObject({ on: true, outcome: 'set', language: 'kk', speakOutcome: true });
    expect(pinpadView(done, config, 5, 'kk', false).audio.speakOutcome).toBe(false);
  });

  it('never for "sent" (the answer is still to come) nor for a card without audio guidance', () => {
    const sending: State = { kind: 'sending', card };
    expect(pinpadView(sending, config, 5, null, true).audio).toMatchObject({ outcome: 'sent', speakOutcome: false });
    expect(pinpadView({ ...done, card: { ...card, audio: false } }, config, 5, null, true).audio.speakOutcome).toBe(false);
  });
});
