/** Which Starts need a supervisor's approval, and what a grant may be used for (main/core/approvals.ts). */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../main/core/config';
import type { StationConfigInput } from '../../main/core/config';
import { ApprovalDesk } from '../../main/core/approvals';
import { CardHistory } from '../../main/core/card-history';
import type { AuditApprovalEntry } from '../../main/core/audit';
import { MemoryKeyStore } from '../../main/core/keystore';
import type { KeyStore } from '../../main/core/keystore';
import { resolveSettings } from '../../main/core/policy/resolve';
import type { PolicySource } from '../../main/core/policy/sources';
import type { SettingTree } from '../../main/core/policy/tree';
import { createStationCore } from '../../main/core/station-core';
import { TEST_PASSWORD, tempAccountStore } from '../helpers/staff';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-29T10:00:00.000Z');

async function desk(approval: NonNullable<StationConfigInput>['approval'] = {}, now = () => T0) {
  const accounts = tempAccountStore();
  await accounts.add({ username: 'anna', roles: ['operator'], password: TEST_PASSWORD });
  await accounts.add({ username: 'boris', roles: ['supervisor'], password: `${TEST_PASSWORD}-b` });
  const history = new CardHistory();
  const records: AuditApprovalEntry[] = [];
  const approvals = new ApprovalDesk({
    // Password only: the approver's second factor is covered by test/e2e/mfa.test.ts.
    config: parseConfig({ approval, auth: { mfa: 'off' } }),
    history,
    accounts,
    audit: { append: async (entry) => void (entry.type === 'approval' && records.push(entry)) },
    now,
  });
  const anna = { username: 'anna', displayName: null, roles: ['operator'] as const };
  return { approvals, history, records, anna };
}

describe('approval rules', () => {
  it('the default rules: processor-generated, a repeat within 24 hours, after an outcome unknown; most specific first', async () => {
    const { approvals, history } = await desk();
    expect(approvals.requirement('C1', 'customer')).toBeNull();
    expect(approvals.requirement('C1', 'processor')).toEqual({ rule: 'processor-generated', reasonRequired: false, previousAttempt: null });
    history.note('C1', 7, T0 - 23 * HOUR, 'pin-set');
    expect(approvals.requirement('C1', 'customer')).toEqual({ rule: 'repeat', reasonRequired: true, previousAttempt: 7 });
    history.note('C2', 8, T0 - 25 * HOUR, 'pin-set');
    expect(approvals.requirement('C2', 'customer')).toBeNull();
    history.note('C2', 9, T0 - 30 * HOUR, 'outcome-unknown');
    expect(approvals.requirement('C2', 'processor')).toEqual({ rule: 'after-outcome-unknown', reasonRequired: true, previousAttempt: 9 });
    // A refusal is an answer that set nothing; cancelled, timed-out and failed-before-delivery attempts reached no processor.
    history.note('C3', 10, T0 - HOUR, 'rejected');
    history.note('C3', 11, T0 - HOUR, 'cancelled');
    expect(approvals.requirement('C3', 'customer')).toBeNull();
    history.note('C4', 12, T0 - 30 * HOUR, 'outcome-unknown');
    history.note('C4', 13, T0 - HOUR, 'failed');
    expect(approvals.requirement('C4', 'customer')).toMatchObject({ rule: 'after-outcome-unknown', previousAttempt: 12 });
  });

  it('every-set, and no rules at all', async () => {
    expect((await desk({ require: ['every-set'] })).approvals.requirement('C1', 'customer')).toMatchObject({ rule: 'every-set' });
    expect((await desk({ require: [] })).approvals.requirement('C1', 'processor')).toBeNull();
  });

  it('the history is read back from the trail: card records only', () => {
    const history = new CardHistory([
      {
        seq: 1,
        time: '2026-11-29T09:00:00.000Z',
        type: 'staff',
        stationId: 's',
        event: 'sign-in',
        username: 'anna',
        provider: 'local',
        reason: null,
        prev: '',
        mac: '',
      },
      {
        seq: 2,
        time: '2026-11-29T09:30:00.000Z',
        stationId: 's',
        operator: 'anna',
        cardId: 'C9',
        mode: 'customer',
        profile: 'gcm',
        outcome: 'outcome-unknown',
        requestStatus: null,
        errorCode: 'OUTCOME_UNKNOWN',
        prev: '',
        mac: '',
      },
    ]);
    expect(history.last('C9')).toEqual({ seq: 2, time: Date.parse('2026-11-29T09:30:00.000Z'), outcome: 'outcome-unknown' });
  });
});

describe('grants', () => {
  it('are bound to card, action and operator, used once, and expire', async () => {
    let now = T0;
    const { approvals, records, anna } = await desk({ validitySeconds: 60 }, () => now);
    const id = await approvals.approveWithPassword({ cardId: 'C1', mode: 'processor', operator: anna, reason: '' }, 'boris', `${TEST_PASSWORD}-b`);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(() => approvals.take(id, 'C2', 'processor', 'anna')).toThrow(expect.objectContaining({ code: 'APPROVAL_INVALID' }));
    expect(() => approvals.take(id, 'C1', 'customer', 'anna')).toThrow(expect.objectContaining({ code: 'APPROVAL_INVALID' }));
    expect(() => approvals.take(id, 'C1', 'processor', 'boris')).toThrow(expect.objectContaining({ code: 'APPROVAL_INVALID' }));
    const grant = approvals.take(id, 'C1', 'processor', 'anna');
    expect(grant).toMatchObject({ approver: 'boris', rule: 'processor-generated', method: 'password' });
    // Taken: a second Start with the same ID is refused at once, even before the first has sent anything.
    expect(() => approvals.take(id, 'C1', 'processor', 'anna')).toThrow(expect.objectContaining({ code: 'APPROVAL_INVALID' }));
    // A Start that did not go ahead gives it back; one that sends uses it up, once.
    approvals.putBack(grant);
    const again = approvals.take(id, 'C1', 'processor', 'anna');
    approvals.confirmAtSend(again, 'C1', 'processor', 'anna');
    expect(() => approvals.confirmAtSend(again, 'C1', 'processor', 'anna')).toThrow(expect.objectContaining({ code: 'APPROVAL_INVALID' }));
    expect(() => approvals.take(id, 'C1', 'processor', 'anna')).toThrow(expect.objectContaining({ code: 'APPROVAL_INVALID' }));

    const late = await approvals.approveWithPassword({ cardId: 'C1', mode: 'processor', operator: anna, reason: '' }, 'boris', `${TEST_PASSWORD}-b`);
    now += 60_001;
    expect(() => approvals.take(late, 'C1', 'processor', 'anna')).toThrow(expect.objectContaining({ code: 'APPROVAL_EXPIRED' }));
    await expect.poll(() => records.map((record) => record.event)).toEqual(['granted', 'granted', 'expired']);
    approvals.dispose();
  });

  it('refuse self-approval before any password check, an unknown approver, and a missing reason', async () => {
    const { approvals, history, records, anna } = await desk();
    const request = { cardId: 'C1', mode: 'processor' as const, operator: anna, reason: '' };
    await expect(approvals.approveWithPassword(request, ' ANNA ', 'anything at all')).rejects.toMatchObject({ code: 'APPROVAL_SELF' });
    await expect(approvals.approveWithPassword(request, 'anna.not', TEST_PASSWORD)).rejects.toMatchObject({ code: 'SIGN_IN_FAILED' });
    history.note('C1', 3, T0 - HOUR, 'pin-generated');
    await expect(approvals.approveWithPassword(request, 'boris', `${TEST_PASSWORD}-b`)).rejects.toMatchObject({ code: 'APPROVAL_REASON_REQUIRED' });
    expect(records.map((record) => `${record.event}:${record.approver}:${String(record.errorCode)}`)).toEqual([
      'refused:anna:APPROVAL_SELF',
      'refused:(unknown user name):SIGN_IN_FAILED',
    ]);
  });
});

describe('grants against a changing card', () => {
  it('a grant given for one rule does not start a card that now falls under another', async () => {
    const { approvals, history, anna } = await desk();
    const id = await approvals.approveWithPassword({ cardId: 'C1', mode: 'processor', operator: anna, reason: '' }, 'boris', `${TEST_PASSWORD}-b`);
    history.note('C1', 12, T0 - HOUR, 'pin-generated');
    expect(() => approvals.take(id, 'C1', 'processor', 'anna')).toThrow(expect.objectContaining({ code: 'APPROVAL_INVALID' }));
  });

  it('a grant dropped at quit is not confirmed at send time', async () => {
    const { approvals, anna } = await desk();
    const id = await approvals.approveWithPassword({ cardId: 'C1', mode: 'processor', operator: anna, reason: '' }, 'boris', `${TEST_PASSWORD}-b`);
    const grant = approvals.take(id, 'C1', 'processor', 'anna');
    approvals.dispose();
    expect(() => approvals.confirmAtSend(grant, 'C1', 'processor', 'anna')).toThrow(expect.objectContaining({ code: 'APPROVAL_INVALID' }));
  });

  it('single sign-on: the operator is recognised by subject, even under another user name', async () => {
    const history = new CardHistory();
    const records: AuditApprovalEntry[] = [];
    const approvals = new ApprovalDesk({
      config: parseConfig({ auth: { mfa: 'off' } }),
      history,
      sso: { signIn: async () => ({ username: 'a.kowalska', displayName: null, roles: ['supervisor'], subject: 'sub-anna' }), cancel: () => undefined },
      audit: { append: async (entry) => void records.push(entry as AuditApprovalEntry) },
      now: () => T0,
    });
    const operator = { username: 'anna.k', displayName: null, roles: ['operator', 'supervisor'] as const, subject: 'sub-anna' };
    await expect(approvals.approveWithSso({ cardId: 'C1', mode: 'processor', operator, reason: '' })).rejects.toMatchObject({ code: 'APPROVAL_SELF' });
    expect(records.map((record) => record.event)).toEqual(['refused']);
  });

  it('a reason with invisible or direction-changing characters is refused', async () => {
    const { approvals, history, anna } = await desk();
    history.note('C1', 3, T0 - HOUR, 'pin-set');
    for (const reason of ['ok\u202Egnp.exe', 'zero\u200Bwidth', 'line\u2028break']) {
      await expect(
        approvals.approveWithPassword({ cardId: 'C1', mode: 'customer', operator: anna, reason }, 'boris', `${TEST_PASSWORD}-b`),
      ).rejects.toMatchObject({
        code: 'INVALID_REQUEST',
      });
    }
  });
});

describe('a policy change waiting for the station', () => {
  it('applies before the approval rules judge the next Start, so a rule it adds cannot be skipped', async () => {
    const accounts = tempAccountStore();
    await accounts.add({ username: 'anna', roles: ['operator'], password: TEST_PASSWORD });
    let tree: SettingTree | null = { approval: { require: [] } };
    let reads = 0;
    const source: PolicySource = {
      location: '/etc/pin-station/policy.json',
      read: async () => {
        reads++;
        return tree;
      },
    };
    const configText = JSON.stringify({ pad: { shuffle: false }, auth: { mfa: 'off' } });
    const settings = resolveSettings(configText, tree, source.location);
    // The keychain answers the first Start's read only when the test says so, and then without the token.
    let answer: (value: string | null) => void = () => undefined;
    const keys = new MemoryKeyStore({ 'pin-key': '00'.repeat(32) });
    let held = true;
    const keyStore: KeyStore = {
      get: (account) => (held && account === 'api-token' ? new Promise<string | null>((resolve) => (answer = resolve)) : keys.get(account)),
      set: (account, value) => keys.set(account, value),
      delete: (account) => keys.delete(account),
    };
    const core = createStationCore({
      config: settings.config,
      keyStore,
      processorBaseUrl: 'http://127.0.0.1:9',
      views: { operator: () => undefined, pinpad: () => undefined },
      staff: { accounts },
      managedSettings: settings.managed,
      policy: { source, configText, settings, intervalMs: 10 },
    });
    try {
      await core.staff.signIn('anna', TEST_PASSWORD);
      const first = core.router.handle('operator', 'station:start', { cardId: 'C1', mode: 'customer' });
      // While that Start waits on the keychain, the policy starts to require an approval for every set.
      tree = { approval: { require: ['every-set'] } };
      const seen = reads;
      while (reads < seen + 2) await new Promise((resolve) => setTimeout(resolve, 10));
      held = false;
      answer(null);
      expect(await first).toMatchObject({ ok: false, error: { code: 'KEYCHAIN_ENTRY_MISSING' } });
      await keys.set('api-token', 'test-api-token');
      // The next Start is judged by the policy now in force: it needs a supervisor's approval.
      const second = await core.router.handle('operator', 'station:start', { cardId: 'C2', mode: 'customer' });
      expect(second).toEqual({ ok: true, value: { started: false, approvalRequired: { rule: 'every-set', reasonRequired: false } } });
      expect(core.station.operatorView().phase).toBe('idle');
    } finally {
      await core.close();
    }
  });
});
