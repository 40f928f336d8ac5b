/** The audit trail through real journeys: one verified record per outcome, written before the outcome shows. */
import { appendFileSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { readAuditKey, verifyAuditFile } from '../../main/core/audit';
import { enterAndConfirm, startCard, statusText, typeDigits } from '../harness/journeys';
import { useStation } from '../harness/launch-station';
import type { LaunchedStation } from '../harness/launch-station';

const launch = useStation();
const allRecords = (s: LaunchedStation): Record<string, unknown>[] =>
  readFileSync(s.auditPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
/** The card records; the harness's sign-in is record 1, a staff record. */
const records = (s: LaunchedStation): Record<string, unknown>[] => allRecords(s).filter((record) => record.type === undefined);

it('set, generated, cancelled and timed-out sessions each leave one chained record; verify passes; no secrets', async () => {
  // Dual control off: the records of approvals are checked in test/e2e/approval.test.ts; here, one record per session.
  const s = await launch({ config: { station: { id: 'desk-7' }, pin: { inactivityTimeoutMs: 1_500 }, approval: { require: [] } } });
  await startCard(s.operator, 'AUD-1', 'Customer chooses PIN');
  await enterAndConfirm(s.pinpad, '4826');
  await expect.poll(() => statusText(s.operator)).toContain('PIN set.');
  // Written before the outcome was shown.
  expect(records(s).at(-1)).toMatchObject({ seq: 3, cardId: 'AUD-1', outcome: 'pin-set', requestStatus: 'pin_set', errorCode: null });

  await s.operator.getByRole('button', { name: 'Next card' }).click();
  await startCard(s.operator, 'AUD-2', 'Processor generates PIN');
  await expect.poll(() => statusText(s.operator)).toContain('generated');
  expect(records(s).at(-1)).toMatchObject({ seq: 5, cardId: 'AUD-2', mode: 'processor', outcome: 'pin-generated' });

  await s.operator.getByRole('button', { name: 'Next card' }).click();
  await startCard(s.operator, 'AUD-3', 'Customer chooses PIN');
  await typeDigits(s.pinpad, '93');
  await s.pinpad.getByRole('button', { name: 'Cancel' }).click();
  await expect.poll(() => statusText(s.operator)).toContain('cancelled');
  expect(records(s).at(-1)).toMatchObject({ seq: 6, outcome: 'cancelled', errorCode: 'PIN_CANCELLED' });

  await s.operator.getByRole('button', { name: 'Next card' }).click();
  await startCard(s.operator, 'AUD-4', 'Customer chooses PIN');
  await expect.poll(() => statusText(s.operator)).toContain('timed out');
  expect(records(s).at(-1)).toMatchObject({ seq: 7, outcome: 'timeout', errorCode: 'PIN_TIMEOUT' });

  // A request that was sent closes its write-ahead attempt record (attemptId); an entry that ended on the pad sent nothing.
  const attempts = allRecords(s).filter((record) => record.type === 'attempt');
  expect(attempts.map((record) => record.cardId)).toEqual(['AUD-1', 'AUD-2']);
  expect(records(s).map((record) => record.attemptId ?? null)).toEqual([attempts[0]?.attemptId, attempts[1]?.attemptId, null, null]);
  for (const { attemptId: _attemptId, ...record } of records(s)) {
    expect(Object.keys(record).sort()).toEqual([
      'cardId',
      'errorCode',
      'mac',
      'mode',
      'operator',
      'outcome',
      'prev',
      'processor',
      'profile',
      'requestStatus',
      'seq',
      'stationId',
      'time',
    ]);
    // Practice against the sandbox is marked as such, so it cannot pass for a real record.
    expect(record).toMatchObject({ stationId: 'desk-7', operator: 'operator.test', profile: 'public-key', processor: 'sandbox' });
  }
  // Record 1 is the operator's sign-in, chained with the rest.
  expect(allRecords(s)[0]).toMatchObject({ seq: 1, type: 'staff', event: 'sign-in', username: 'operator.test', stationId: 'desk-7' });
  const text = readFileSync(s.auditPath, 'utf8');
  for (const secret of ['4826', s.keys.apiToken ?? 'x', s.keys.pinPublicKeyPem?.split('\n')[2] ?? 'x', ...s.staff.map((account) => account.password)])
    expect(text).not.toContain(secret);
  const key = await readAuditKey(s.keyStore);
  try {
    expect(verifyAuditFile(s.auditPath, key)).toMatchObject({ ok: true, records: 7 });
  } finally {
    key.fill(0);
  }
});

it('an unreachable processor is recorded as failed with its code', async () => {
  // Dual control off (a processor-generated PIN needs a supervisor by default): this is about the failure's record.
  const s = await launch({ processorUrl: 'http://127.0.0.1:9', config: { processor: { retries: 0 }, approval: { require: [] } } });
  await startCard(s.operator, 'AUD-5', 'Processor generates PIN');
  await expect.poll(() => statusText(s.operator)).toContain('could not be reached');
  expect(records(s)).toMatchObject([{ seq: 3, outcome: 'failed', errorCode: 'PROCESSOR_UNREACHABLE' }]);
  // A configured processor address is not the sandbox: no practice mark.
  expect(records(s)[0]).not.toHaveProperty('processor');
});

it('a damaged audit trail stops Start: no PIN is taken whose outcome could not be recorded', async () => {
  // Dual control off: a processor-generated PIN needs a supervisor by default, and this is about the damaged trail.
  const s = await launch({ config: { approval: { require: [] } } });
  await startCard(s.operator, 'AUD-6', 'Processor generates PIN');
  await expect.poll(() => statusText(s.operator)).toContain('generated');
  appendFileSync(s.auditPath, '{"seq":2,"time":"2026-');
  await s.operator.getByRole('button', { name: 'Next card' }).click();
  await startCard(s.operator, 'AUD-7', 'Customer chooses PIN');
  // The trail's own code and words reach the operator (it used to be AUDIT_FAILED with the code inside the text).
  await expect.poll(() => statusText(s.operator)).toContain('The audit trail ends in an incomplete record');
  expect(await statusText(s.operator)).toContain('AUDIT_TORN_TAIL');
  expect(await s.pinpad.getByRole('heading').textContent()).toBe('Please wait');
  expect(s.sandbox?.requests).toHaveLength(1);
});
