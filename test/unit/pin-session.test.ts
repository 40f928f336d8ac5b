import { thrownStationError } from '../helpers/station-error';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../common/errors';
import { FIXED_LAYOUT, PinSession, shuffledLayout } from '../../main/core/pin-session';
import type { PinPolicy, RandomSource, SubmitResult } from '../../main/core/pin-session';

// Weak-PIN rules are off here (they have their own tests below), so any digits make a PIN.
const POLICY: PinPolicy = { minLength: 4, maxLength: 6, rejectRepeated: false, rejectSequences: false };

/** The session's private digit buffers, reached through a cast to prove they are wiped. */
interface Internals {
  readonly entry: Uint8Array;
  readonly confirmation: Uint8Array;
}
const internals = (session: PinSession): Internals => session as unknown as Internals;

/** Hands out the queued bytes one by one, then `fallback` forever. */
function queueRandom(bytes: readonly number[], fallback = 0): RandomSource & { readonly used: () => number } {
  let index = 0;
  const source = (length: number): Uint8Array => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = index < bytes.length ? (bytes[index++] as number) : fallback;
    return out;
  };
  return Object.assign(source, { used: () => index });
}

/** A small deterministic PRNG (mulberry32) as a RandomSource. */
function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
    }
    return out;
  };
}

const codeOf = (action: () => unknown): ErrorCode => thrownStationError(action).code;

function positionOf(layout: ArrayLike<number>, digit: number): number {
  const position = Array.from(layout).indexOf(digit);
  if (position < 0) throw new Error(`digit ${digit} is not in the layout`);
  return position;
}

/** Presses the keys that show `digits` on the session's layout. */
function type(session: PinSession, digits: readonly number[]): void {
  for (const digit of digits) session.press(positionOf(session.layout, digit));
}

function complete(result: SubmitResult): Uint8Array {
  if (result.kind !== 'complete') throw new Error(`expected a complete submit, got ${result.kind}`);
  return result.digits;
}

function enterAndConfirm(session: PinSession, digits: readonly number[]): Uint8Array {
  type(session, digits);
  expect(session.submit()).toEqual({ kind: 'confirm' });
  type(session, digits);
  return complete(session.submit());
}

const allZero = (bytes: Uint8Array): boolean => bytes.every((b) => b === 0);

describe('shuffledLayout', () => {
  it('with a source that always gives 0, rotates the fixed layout by one (hand-computed Fisher-Yates)', () => {
    expect(Array.from(shuffledLayout(() => new Uint8Array(1)))).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  });

  it('with j = i at every step, leaves the fixed layout unchanged', () => {
    const random = queueRandom([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(Array.from(shuffledLayout(random))).toEqual([...FIXED_LAYOUT]);
    expect(random.used()).toBe(9);
  });

  it('rejects bytes at or above the largest multiple of the bound (no modulo bias)', () => {
    // For the first step the bound is 10, so 250..255 must be rejected; 255 % 10 would otherwise pick j = 5.
    const random = queueRandom([255, 250, 0]);
    expect(Array.from(shuffledLayout(random))).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(random.used()).toBe(3);
  });

  it('is always a permutation of the digits 0-9', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const layout = shuffledLayout(seededRandom(seed));
      expect(layout).toHaveLength(10);
      expect(Array.from(layout).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
  });

  it('differs for different random inputs and is repeatable for the same input', () => {
    const a = Array.from(shuffledLayout(seededRandom(1)));
    const b = Array.from(shuffledLayout(seededRandom(2)));
    expect(a).not.toEqual(b);
    expect(Array.from(shuffledLayout(seededRandom(1)))).toEqual(a);
    expect(a).not.toEqual([...FIXED_LAYOUT]);

    const distinct = new Set<string>();
    for (let seed = 1; seed <= 50; seed++) distinct.add(Array.from(shuffledLayout(seededRandom(seed))).join(''));
    expect(distinct.size).toBeGreaterThan(45);
  });

  it('uses crypto randomness by default and still gives a permutation', () => {
    const layout = shuffledLayout();
    expect(Array.from(layout).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('PinSession layout', () => {
  it('uses the fixed phone layout when shuffle is off, and maps positions through it', () => {
    const session = new PinSession(POLICY);
    expect(Array.from(session.layout)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
    // Positions 0, 9, 4, 8 show 1, 0, 5, 9 on the fixed layout.
    for (const position of [0, 9, 4, 8]) session.press(position);
    expect(Array.from(internals(session).entry.subarray(0, 4))).toEqual([1, 0, 5, 9]);
    session.submit();
    for (const position of [0, 9, 4, 8]) session.press(position);
    expect(Array.from(complete(session.submit()))).toEqual([1, 0, 5, 9]);
  });

  it('maps positions through a shuffled layout from a deterministic RandomSource', () => {
    const session = new PinSession(POLICY, { shuffle: true, random: () => new Uint8Array(1) });
    expect(Array.from(session.layout)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    for (const position of [0, 9, 4, 8]) session.press(position);
    session.submit();
    for (const position of [0, 9, 4, 8]) session.press(position);
    expect(Array.from(complete(session.submit()))).toEqual([2, 1, 6, 0]);
  });

  it('ignores the random source when shuffle is off', () => {
    let calls = 0;
    const session = new PinSession(POLICY, {
      shuffle: false,
      random: (length) => {
        calls++;
        return new Uint8Array(length);
      },
    });
    expect(Array.from(session.layout)).toEqual([...FIXED_LAYOUT]);
    expect(calls).toBe(0);
  });

  it.each([-1, 10, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses position %s with INVALID_REQUEST and records nothing', (position) => {
    const session = new PinSession(POLICY);
    session.press(0);
    expect(codeOf(() => session.press(position))).toBe('INVALID_REQUEST');
    expect(session.count).toBe(1);
    expect(Array.from(internals(session).entry)).toEqual([1, 0, 0, 0, 0, 0]);
  });
});

describe('PinSession entry', () => {
  it('counts presses, erases the last digit and clears the step, zeroing the removed bytes', () => {
    const session = new PinSession(POLICY);
    type(session, [3, 1, 4]);
    expect(session.count).toBe(3);
    expect(Array.from(internals(session).entry)).toEqual([3, 1, 4, 0, 0, 0]);

    session.erase();
    expect(session.count).toBe(2);
    expect(Array.from(internals(session).entry)).toEqual([3, 1, 0, 0, 0, 0]);

    type(session, [5, 9]);
    expect(Array.from(internals(session).entry)).toEqual([3, 1, 5, 9, 0, 0]);

    session.clear();
    expect(session.count).toBe(0);
    expect(allZero(internals(session).entry)).toBe(true);

    // Erase on an empty step is harmless.
    session.erase();
    expect(session.count).toBe(0);
  });

  it('erase and clear in the confirm step touch only the confirmation', () => {
    const session = new PinSession(POLICY);
    type(session, [2, 5, 8, 0]);
    session.submit();
    type(session, [2, 5, 8]);
    session.erase();
    expect(session.count).toBe(2);
    expect(Array.from(internals(session).confirmation)).toEqual([2, 5, 0, 0, 0, 0]);
    session.clear();
    expect(session.count).toBe(0);
    expect(allZero(internals(session).confirmation)).toBe(true);
    expect(Array.from(internals(session).entry)).toEqual([2, 5, 8, 0, 0, 0]);
    expect(session.step).toBe('confirm');

    type(session, [2, 5, 8, 0]);
    expect(Array.from(complete(session.submit()))).toEqual([2, 5, 8, 0]);
  });

  it('refuses to submit under minLength with PIN_TOO_SHORT and keeps the entry', () => {
    const session = new PinSession(POLICY);
    expect(codeOf(() => session.submit())).toBe('PIN_TOO_SHORT');
    type(session, [1, 2, 3]);
    expect(codeOf(() => session.submit())).toBe('PIN_TOO_SHORT');
    expect(session.step).toBe('enter');
    expect(session.count).toBe(3);
  });

  it('PIN_TOO_SHORT also applies to a short confirmation', () => {
    const session = new PinSession(POLICY);
    type(session, [1, 2, 3, 4]);
    session.submit();
    type(session, [1, 2, 3]);
    expect(codeOf(() => session.submit())).toBe('PIN_TOO_SHORT');
    expect(session.step).toBe('confirm');
    expect(session.count).toBe(3);
  });

  it('refuses a digit beyond maxLength with PIN_TOO_LONG and keeps what was entered', () => {
    const session = new PinSession(POLICY);
    type(session, [1, 2, 3, 4, 5, 6]);
    expect(codeOf(() => session.press(0))).toBe('PIN_TOO_LONG');
    expect(session.count).toBe(6);
    expect(Array.from(internals(session).entry)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('accepts a PIN of exactly minLength and of exactly maxLength', () => {
    expect(Array.from(enterAndConfirm(new PinSession(POLICY), [9, 9, 0, 1]))).toEqual([9, 9, 0, 1]);
    expect(Array.from(enterAndConfirm(new PinSession(POLICY), [6, 5, 4, 3, 2, 1]))).toEqual([6, 5, 4, 3, 2, 1]);
  });
});

describe('PinSession submit and confirmation', () => {
  it('the first submit moves from enter to confirm with a fresh count', () => {
    const session = new PinSession(POLICY);
    expect(session.step).toBe('enter');
    type(session, [7, 7, 3, 1]);
    expect(session.submit()).toEqual({ kind: 'confirm' });
    expect(session.step).toBe('confirm');
    expect(session.count).toBe(0);
    expect(session.isClosed).toBe(false);
  });

  it('a matching confirmation returns the digits, wipes both buffers and closes the session', () => {
    const session = new PinSession(POLICY);
    type(session, [4, 8, 2, 6, 0]);
    session.submit();
    type(session, [4, 8, 2, 6, 0]);
    expect(Array.from(internals(session).confirmation)).toEqual([4, 8, 2, 6, 0, 0]);

    const digits = complete(session.submit());
    expect(digits).toBeInstanceOf(Uint8Array);
    expect(Array.from(digits)).toEqual([4, 8, 2, 6, 0]);

    expect(session.isClosed).toBe(true);
    expect(allZero(internals(session).entry)).toBe(true);
    expect(allZero(internals(session).confirmation)).toBe(true);
    expect(session.count).toBe(0);
  });

  it.each([
    ['press', (s: PinSession) => s.press(0)],
    ['erase', (s: PinSession) => s.erase()],
    ['clear', (s: PinSession) => s.clear()],
    ['submit', (s: PinSession) => s.submit()],
  ] as const)('after completion, %s throws NO_SESSION', (_name, action) => {
    const session = new PinSession(POLICY);
    enterAndConfirm(session, [1, 2, 3, 4]);
    expect(codeOf(() => action(session))).toBe('NO_SESSION');
    expect(allZero(internals(session).entry)).toBe(true);
  });

  it('the returned digits are a copy: separate memory that outlives the wipe and can be wiped alone', () => {
    const session = new PinSession(POLICY);
    const digits = enterAndConfirm(session, [5, 1, 7, 3]);
    const { entry, confirmation } = internals(session);
    expect(digits.buffer).not.toBe(entry.buffer);
    expect(digits.buffer).not.toBe(confirmation.buffer);

    // Wiping the session again does not touch the caller's copy.
    session.wipe();
    expect(Array.from(digits)).toEqual([5, 1, 7, 3]);

    // Wiping the caller's copy changes nothing in the session.
    digits.fill(0);
    expect(Array.from(digits)).toEqual([0, 0, 0, 0]);
    expect(entry).toHaveLength(POLICY.maxLength);
    expect(confirmation).toHaveLength(POLICY.maxLength);
    expect(allZero(entry) && allZero(confirmation)).toBe(true);
  });

  it('two sessions completing the same PIN return independent arrays', () => {
    const a = enterAndConfirm(new PinSession(POLICY), [1, 1, 2, 2]);
    const b = enterAndConfirm(new PinSession(POLICY), [1, 1, 2, 2]);
    a.fill(0);
    expect(Array.from(b)).toEqual([1, 1, 2, 2]);
  });

  it('a mismatched confirmation throws PIN_MISMATCH and clears only the confirmation', () => {
    const session = new PinSession(POLICY);
    type(session, [1, 3, 5, 7]);
    session.submit();
    type(session, [1, 3, 5, 8]);
    expect(codeOf(() => session.submit())).toBe('PIN_MISMATCH');

    expect(session.step).toBe('confirm');
    expect(session.count).toBe(0);
    expect(session.mismatches).toBe(1);
    expect(session.isClosed).toBe(false);
    expect(allZero(internals(session).confirmation)).toBe(true);
    expect(allZero(internals(session).entry)).toBe(false);

    // Confirming again with the right digits completes.
    type(session, [1, 3, 5, 7]);
    const done = session.submit();
    expect(done.kind === 'complete' ? Array.from(done.digits) : null).toEqual([1, 3, 5, 7]);
  });

  it('the third mismatch wipes both entries, restarts at the first step and counts a restart', () => {
    const session = new PinSession(POLICY);
    type(session, [1, 3, 5, 7]);
    session.submit();
    for (const attempt of [1, 2]) {
      type(session, [2, 4, 6, 8]);
      expect(codeOf(() => session.submit())).toBe('PIN_MISMATCH');
      expect(session.mismatches).toBe(attempt);
    }
    type(session, [2, 4, 6, 8]);
    expect(codeOf(() => session.submit())).toBe('PIN_MISMATCH_LIMIT');
    expect(session.step).toBe('enter');
    expect(session.count).toBe(0);
    expect(session.mismatches).toBe(0);
    expect(session.restarts).toBe(1);
    expect(allZero(internals(session).entry)).toBe(true);
    expect(allZero(internals(session).confirmation)).toBe(true);
    expect(Array.from(enterAndConfirm(session, [2, 4, 6, 8]))).toEqual([2, 4, 6, 8]);
  });

  it('maxMismatches is configurable', () => {
    const session = new PinSession({ ...POLICY, maxMismatches: 1 });
    type(session, [1, 3, 5, 7]);
    session.submit();
    type(session, [1, 3, 5, 8]);
    expect(codeOf(() => session.submit())).toBe('PIN_MISMATCH_LIMIT');
    expect(session.step).toBe('enter');
  });

  it('a confirmation that is a longer version of the entry is a mismatch', () => {
    const session = new PinSession(POLICY);
    type(session, [1, 2, 3, 4]);
    session.submit();
    type(session, [1, 2, 3, 4, 0]);
    expect(codeOf(() => session.submit())).toBe('PIN_MISMATCH');
    expect(session.step).toBe('confirm');
    expect(allZero(internals(session).confirmation)).toBe(true);
  });

  it('a confirmation that is a shorter prefix of the entry is a mismatch', () => {
    const session = new PinSession(POLICY);
    type(session, [1, 2, 3, 4, 5]);
    session.submit();
    type(session, [1, 2, 3, 4]);
    expect(codeOf(() => session.submit())).toBe('PIN_MISMATCH');
    expect(session.step).toBe('confirm');
  });
});

describe('PinSession weak-PIN policy (on by default)', () => {
  const STRICT: PinPolicy = { minLength: 4, maxLength: 12, denyList: ['1212', '200012'] };
  const rejected: [readonly number[], ErrorCode][] = [
    [[1, 1, 1, 1], 'PIN_REPEATED'],
    [[0, 0, 0, 0, 0, 0], 'PIN_REPEATED'],
    [[1, 2, 3, 4], 'PIN_SEQUENCE'],
    [[0, 1, 2, 3], 'PIN_SEQUENCE'],
    [[9, 8, 7, 6], 'PIN_SEQUENCE'],
    [[5, 4, 3, 2, 1, 0], 'PIN_SEQUENCE'],
    [[1, 2, 1, 2], 'PIN_DENIED'],
    [[2, 0, 0, 0, 1, 2], 'PIN_DENIED'],
  ];
  for (const [digits, code] of rejected) {
    it(`refuses ${digits.length} digits as ${code}, clears the entry and stays at the first step`, () => {
      const session = new PinSession(STRICT);
      type(session, digits);
      expect(codeOf(() => session.submit())).toBe(code);
      expect(session.step).toBe('enter');
      expect(session.count).toBe(0);
      expect(allZero(internals(session).entry)).toBe(true);
    });
  }
  it('accepts near misses: runs with a break, wrap-around, a deny-list entry of another length', () => {
    for (const digits of [
      [1, 2, 3, 5],
      [7, 8, 9, 0],
      [1, 2, 1, 2, 1],
      [2, 0, 0, 0],
      [1, 1, 1, 2],
    ]) {
      const session = new PinSession(STRICT);
      type(session, digits);
      expect(session.submit().kind).toBe('confirm');
    }
  });
  it('each rule can be switched off', () => {
    const lax = new PinSession({ minLength: 4, maxLength: 4, rejectRepeated: false, rejectSequences: false });
    type(lax, [1, 2, 3, 4]);
    expect(lax.submit().kind).toBe('confirm');
  });
  it('error messages name the rule, never the digits', () => {
    const session = new PinSession(STRICT);
    type(session, [9, 8, 7, 6]);
    try {
      session.submit();
    } catch (error) {
      expect(String((error as Error).message)).not.toMatch(/9876|9, 8|9,8/);
    }
  });
});

describe('PinSession wipe', () => {
  it('zeroes both buffers mid-confirmation and closes the session', () => {
    const session = new PinSession(POLICY);
    type(session, [9, 8, 7, 6, 5]);
    session.submit();
    type(session, [9, 8, 7]);
    expect(allZero(internals(session).entry)).toBe(false);
    expect(allZero(internals(session).confirmation)).toBe(false);

    session.wipe();
    expect(allZero(internals(session).entry)).toBe(true);
    expect(allZero(internals(session).confirmation)).toBe(true);
    expect(session.isClosed).toBe(true);
    expect(session.count).toBe(0);
    expect(codeOf(() => session.press(0))).toBe('NO_SESSION');
  });

  it('is safe to call more than once and on a fresh session', () => {
    const session = new PinSession(POLICY);
    session.wipe();
    session.wipe();
    expect(session.isClosed).toBe(true);
    expect(allZero(internals(session).entry)).toBe(true);
    expect(codeOf(() => session.submit())).toBe('NO_SESSION');
  });

  it('buffers are sized by maxLength', () => {
    const session = new PinSession({ minLength: 4, maxLength: 12 });
    expect(internals(session).entry).toHaveLength(12);
    expect(internals(session).confirmation).toHaveLength(12);
  });
});
