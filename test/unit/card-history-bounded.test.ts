/**
 * Start-up's card history (main/core/card-history.ts, CardHistory) keeps only what the approval rules can ask for, so
 * years of trail cost no more memory, and no bigger snapshot, than the last 30 days: a possible set inside the
 * longest repeat window (720 hours), and a card's last attempt while its outcome is unknown, however old.
 */
import { describe, expect, it } from 'vitest';
import { CardHistory } from '../../main/core/card-history';
import { parseConfig } from '../../main/core/config';
import { ApprovalDesk } from '../../main/core/approvals';

const HOUR = 3_600_000;
// A busy branch: about 200,000 records a year.
const SPACING = Math.round((365.25 * 24 * HOUR) / 200_000);
const NOW = Date.parse('2026-11-29T10:00:00.000Z');

function yearsOfCards(history: CardHistory, count: number): void {
  const first = NOW - count * SPACING;
  for (let i = 1; i <= count; i++) history.note(`CARD-${i}`, i, first + i * SPACING, i === 7 ? 'outcome-unknown' : 'pin-set');
}

// 300,000 notes: generous for a busy machine.
describe('the card history, bounded', { timeout: 60_000 }, () => {
  it('a year and a half of cards keeps about 30 days of possible sets; an old unknown outcome still needs its approval', () => {
    const history = new CardHistory();
    yearsOfCards(history, 300_000);
    const { attempts, sets } = history.snapshot();
    // 720 h at one record every ~158 s is ~16,400 cards (plus at most one sweep's worth not yet swept).
    expect(sets.length).toBeGreaterThan(16_000);
    expect(sets.length).toBeLessThan(16_500 + 4096);
    expect(attempts).toEqual([['CARD-7', 7, NOW - (300_000 - 7) * SPACING, 'outcome-unknown']]);

    const desk = new ApprovalDesk({
      config: parseConfig({ approval: { repeatWindowHours: 720 }, auth: { mfa: 'off' } }),
      history,
      audit: { append: async () => undefined },
      now: () => NOW,
    });
    expect(desk.requirement('CARD-7', 'customer')).toMatchObject({ rule: 'after-outcome-unknown', previousAttempt: 7 });
    // Set 29 days ago: a repeat under the longest window; set 31 days ago: forgotten, as no window reaches it.
    const at = (daysAgo: number): string => `CARD-${300_000 - Math.round((daysAgo * 24 * HOUR) / SPACING)}`;
    expect(desk.requirement(at(29), 'customer')).toMatchObject({ rule: 'repeat' });
    expect(desk.requirement(at(31), 'customer')).toBeNull();
  });

  it('a later answer clears an unknown outcome; restoring a snapshot keeps the same bounds', () => {
    const history = new CardHistory();
    history.note('C1', 1, NOW - 40 * 24 * HOUR, 'outcome-unknown');
    history.note('C2', 2, NOW - 40 * 24 * HOUR, 'pin-set');
    history.note('C3', 3, NOW - HOUR, 'pin-set');
    history.note('C4', 4, NOW - HOUR, 'outcome-unknown');
    history.note('C4', 5, NOW, 'rejected');
    expect(history.last('C1')?.seq).toBe(1);
    expect(history.last('C4')).toBeUndefined();
    const restored = new CardHistory();
    expect(restored.restore(history.snapshot())).toBe(true);
    expect(restored.last('C1')?.seq).toBe(1);
    // C2's set is older than any repeat window: not kept after a restore.
    expect(restored.lastPossibleSet('C2')).toBeUndefined();
    expect(restored.lastPossibleSet('C3')?.seq).toBe(3);
  });
});
