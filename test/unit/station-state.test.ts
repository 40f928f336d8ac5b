/**
 * The Station's facts stated once: which settings apply per card (the change note and the change itself read one
 * list), the states a Start passes through, and the exhaustive-switch guard.
 */
import { describe, expect, it } from 'vitest';
import { missingCaseError } from '../../common/missing-case';
import { resolveSettings } from '../../main/core/policy/resolve';
import { appliesPerCard, perCardConfig } from '../../main/core/policy/watch';
import { isBetweenCards, isBusy, shownState, withoutAuditError, withShown } from '../../main/core/station-state';
import type { Card, State } from '../../main/core/station-state';

describe('per-card settings', () => {
  it('a policy change takes effect at the next card exactly for the settings the change note calls "next card"', () => {
    const before = resolveSettings('', null, null);
    const changed = {
      pin: { minLength: 5, maxLength: 8 },
      profile: 'gcm',
      pad: { shuffle: false, keyboardInput: true },
      operator: { language: 'kk' },
      approval: { repeatWindowHours: 2 },
      log: { level: 'debug' },
      station: { id: 'BRANCH-7' },
    };
    const after = resolveSettings(JSON.stringify(changed), null, null);
    const merged = resolveSettings(JSON.stringify(perCardConfig(before.config, after.config)), null, null);
    const value = (settings: typeof before, path: string): string => JSON.stringify(settings.settings.find((setting) => setting.path === path)?.value);
    const differing = after.settings.map((setting) => setting.path).filter((path) => value(before, path) !== value(after, path));
    // Every kind of setting is among those changed: per-card leaves, a per-card group, and restart-only ones.
    expect(differing).toEqual(
      expect.arrayContaining(['pin.minLength', 'pin.maxLength', 'profile', 'pad.shuffle', 'pad.keyboardInput', 'operator.language', 'log.level', 'station.id']),
    );
    for (const path of differing) {
      expect(value(merged, path), path).toBe(appliesPerCard(path) ? value(after, path) : value(before, path));
    }
    expect(appliesPerCard('pad.shuffle')).toBe(true);
    expect(appliesPerCard('pad.keyboardInput')).toBe(false);
    expect(appliesPerCard('pinpad')).toBe(false);
  });
});

describe('the Station state', () => {
  const card: Card = { cardId: 'CARD-1', mode: 'processor', operator: 'op', approval: null, audio: false };
  const failed: State = {
    kind: 'failed',
    card,
    outcome: null,
    error: { code: 'PIN_CANCELLED', message: 'x' },
    auditError: { code: 'AUDIT_FAILED', message: 'y' },
  };

  it('a Start under way is neither busy nor between cards, and shows what was there before it', () => {
    const starting: State = { kind: 'starting', shown: failed };
    expect(isBusy(starting)).toBe(false);
    expect(isBetweenCards(starting)).toBe(false);
    expect(shownState(starting)).toBe(failed);
    // The session ends meanwhile: the Start goes on, showing nothing of the last card.
    expect(withShown(starting, { kind: 'idle' })).toEqual({ kind: 'starting', shown: { kind: 'idle' } });
    // The kept outcome lands meanwhile: its warning goes from what is shown.
    expect(withoutAuditError(starting)).toEqual({ kind: 'starting', shown: { ...failed, auditError: null } });
  });

  it('recording an ended entry is busy, whether its outcome is then shown or cleared', () => {
    for (const then of ['show', 'clear'] as const) {
      expect(isBusy({ kind: 'recording', card, error: { code: 'PIN_TIMEOUT', message: 'x' }, then })).toBe(true);
    }
    expect(isBetweenCards(failed)).toBe(true);
  });

  it('a value no case knows is an error, not a silent fall-through', () => {
    expect(() => isBusy({ kind: 'paused' } as unknown as State)).toThrow(/Unhandled switch case: \[object Object\]|Unhandled switch case/);
    expect(missingCaseError('paused' as never).message).toBe('Unhandled switch case: paused');
  });
});
