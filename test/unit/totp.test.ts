/**
 * The TOTP check's edges: the ±1 step window, once-only use, and a clock set back behind the last used step
 * (an NTP correction, a restored VM), which must refuse the code rather than fail the sign-in.
 */
import { describe, expect, it } from 'vitest';
import { currentTotp, matchTotp, newTotpSecret, totpStep } from '../../main/core/staff/totp';

const NOW = new Date('2026-12-07T12:00:10.000Z');
const at = (stepOffset: number): Date => new Date(NOW.getTime() + stepOffset * 30_000);

describe('matchTotp', () => {
  const secret = newTotpSecret();

  it('accepts the current step and one either side, and nothing further', () => {
    expect(matchTotp(secret, currentTotp(secret, NOW), NOW, null)).toBe(totpStep(NOW));
    expect(matchTotp(secret, currentTotp(secret, at(-1)), NOW, null)).toBe(totpStep(NOW) - 1);
    expect(matchTotp(secret, currentTotp(secret, at(1)), NOW, null)).toBe(totpStep(NOW) + 1);
    expect(matchTotp(secret, currentTotp(secret, at(-3)), NOW, null)).toBeNull();
  });

  it('refuses a code of a step already used, or of an earlier one', () => {
    const step = totpStep(NOW);
    expect(matchTotp(secret, currentTotp(secret, NOW), NOW, step)).toBeNull();
    expect(matchTotp(secret, currentTotp(secret, at(-1)), NOW, step)).toBeNull();
    expect(matchTotp(secret, currentTotp(secret, at(1)), NOW, step)).toBe(step + 1);
  });

  it('refuses, without throwing, when the clock went back behind the last used step', () => {
    const usedAhead = totpStep(NOW) + 5;
    expect(() => matchTotp(secret, currentTotp(secret, NOW), NOW, usedAhead)).not.toThrow();
    expect(matchTotp(secret, currentTotp(secret, NOW), NOW, usedAhead)).toBeNull();
    expect(matchTotp(secret, currentTotp(secret, NOW), NOW, totpStep(NOW) + 1)).toBeNull();
  });
});
