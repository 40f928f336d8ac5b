/**
 * Every processor fault the sandbox can inject, end to end: what the operator
 * sees, what the audit trail says, and whether anything was resent. The
 * console table this prints is the one in the issue note.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, expect, it } from 'vitest';
import type { SandboxFault } from '../../sandbox/processor';
import { enterAndConfirm, startCard, statusText } from '../harness/journeys';
import { launchStation } from '../harness/launch-station';
import type { LaunchedStation } from '../harness/launch-station';

let station: LaunchedStation | null = null;
afterEach(async () => {
  await station?.close();
  station = null;
});
const table: string[] = [];
afterAll(() => console.log(['fault | operator sees | audit | requests received', ...table].join('\n')));

interface Case {
  readonly name: string;
  readonly faults: readonly SandboxFault[];
  readonly code: string | null;
  readonly says: string;
  readonly audit: string;
  /** How many set_pin requests must reach the sandbox: 1 means never resent. */
  readonly attempts: number;
}

const cases: Case[] = [
  { name: 'latency 300 ms', faults: [{ kind: 'latency', ms: 300 }], code: null, says: 'PIN set.', audit: 'pin-set', attempts: 1 },
  {
    name: 'reset before the body',
    faults: [{ kind: 'reset-before-body' }],
    code: 'OUTCOME_UNKNOWN',
    says: 'outcome is unknown',
    audit: 'outcome-unknown',
    attempts: 1,
  },
  {
    name: 'reset after the body',
    faults: [{ kind: 'reset-after-body' }],
    code: 'OUTCOME_UNKNOWN',
    says: 'Check with the processor before trying again',
    audit: 'outcome-unknown',
    attempts: 1,
  },
  {
    name: 'no answer until the client times out',
    faults: [{ kind: 'hang' }],
    code: 'OUTCOME_UNKNOWN',
    says: 'outcome is unknown',
    audit: 'outcome-unknown',
    attempts: 1,
  },
  {
    name: 'HTTP 401',
    faults: [{ kind: 'http', status: 401 }],
    code: 'PROCESSOR_HTTP_ERROR',
    says: 'refused the request. (HTTP 401)',
    audit: 'failed',
    attempts: 1,
  },
  { name: 'HTTP 503', faults: [{ kind: 'http', status: 503 }], code: 'OUTCOME_UNKNOWN', says: '(HTTP 503)', audit: 'outcome-unknown', attempts: 1 },
  { name: 'non-JSON body', faults: [{ kind: 'non-json' }], code: 'PROCESSOR_BAD_RESPONSE', says: 'could not be read', audit: 'outcome-unknown', attempts: 1 },
  {
    name: 'JSON of the wrong shape',
    faults: [{ kind: 'wrong-shape' }],
    code: 'PROCESSOR_BAD_RESPONSE',
    says: 'could not be read',
    audit: 'outcome-unknown',
    attempts: 1,
  },
  {
    name: 'status "error"',
    faults: [{ kind: 'status-error', requestStatus: 'card_blocked' }],
    code: 'PROCESSOR_REJECTED',
    says: 'card_blocked',
    audit: 'rejected',
    attempts: 1,
  },
  { name: 'invalid dt', faults: [{ kind: 'invalid-dt' }], code: 'PROCESSOR_BAD_RESPONSE', says: 'could not be read', audit: 'outcome-unknown', attempts: 1 },
];

for (const c of cases) {
  it(`${c.name}: ${c.code ?? 'success'}, audited as ${c.audit}, sent ${c.attempts} time(s)`, async () => {
    station = await launchStation({ config: { sandbox: { faults: [...c.faults] }, processor: { totalTimeoutMs: 1_500 } } });
    const { operator, pinpad, sandbox } = station;
    await startCard(operator, 'FAULT-1', 'Customer chooses PIN');
    await enterAndConfirm(pinpad, '4826');
    const heading = c.code === null ? 'PIN set.' : c.audit === 'outcome-unknown' ? 'Outcome unknown.' : 'PIN not set.';
    await expect.poll(() => statusText(operator)).toContain(heading);
    const text = (await statusText(operator)) ?? '';
    expect(text).toContain(c.says);
    if (c.code) expect(text).toContain(`Error code: ${c.code}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sandbox?.attempts).toBe(c.attempts);
    const audit = readFileSync(station.auditPath, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((record) => record.type === undefined);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ outcome: c.audit, errorCode: c.code });
    table.push(`${c.name} | ${c.code ?? 'PIN set'}: ${text.replace(/\s+/g, ' ').slice(0, 110)} | ${c.audit} | ${sandbox?.attempts}`);
  });
}

it('connection refused: retried while nothing can have been sent, then reported; audited as failed', async () => {
  // Dual control off: a processor-generated PIN needs a supervisor by default, and this is about the retries.
  station = await launchStation({ processorUrl: 'http://127.0.0.1:9', config: { processor: { retries: 2 }, approval: { require: [] } } });
  await startCard(station.operator, 'FAULT-2', 'Processor generates PIN');
  await expect.poll(() => statusText(station?.operator as LaunchedStation['operator'])).toContain('Nothing was sent');
  const audit = readFileSync(station.auditPath, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.type === undefined);
  expect(audit).toMatchObject([{ outcome: 'failed', errorCode: 'PROCESSOR_UNREACHABLE' }]);
  table.push(`connection refused | PROCESSOR_UNREACHABLE: could not be reached. Nothing was sent. | failed | 0 (retried 2x before giving up)`);
});

it('a second OK or a new Start while a request is in flight sends nothing', async () => {
  // The answer comes late enough for the pad's end-of-entry reload to finish under load while the request is out.
  station = await launchStation({ config: { sandbox: { faults: [{ kind: 'latency', ms: 6_000 }] } } });
  const { operator, pinpad, sandbox, core } = station;
  await startCard(operator, 'FAULT-3', 'Customer chooses PIN');
  await enterAndConfirm(pinpad, '4826');
  await expect.poll(() => core.station.operatorView().phase).toBe('sending');
  // The entry's end reloads the pad's page, as the app does: its second OK comes from the fresh page.
  await expect.poll(() => station?.padReloads()).toBe(1);
  expect(core.station.operatorView().phase).toBe('sending');
  // The pad's OK again, and a new session from the operator, both while the request is out.
  const again = await pinpad.evaluate(() => (window as unknown as { pinpad: { submit(): Promise<unknown> } }).pinpad.submit());
  const restart = await operator.evaluate(() =>
    (window as unknown as { station: { start(r: unknown): Promise<unknown> } }).station.start({ cardId: 'FAULT-4', mode: 'customer' }),
  );
  expect(again).toMatchObject({ ok: false, error: { code: 'NO_SESSION' } });
  expect(restart).toMatchObject({ ok: false, error: { code: 'SESSION_BUSY' } });
  await expect.poll(() => statusText(operator)).toContain('PIN set.');
  expect(sandbox?.attempts).toBe(1);
  expect(sandbox?.isPinSet('FAULT-3', '4826')).toBe(true);
});

it('after "outcome unknown", the next attempt for the card needs a supervisor\'s approval and a reason; its record names the unknown one', async () => {
  station = await launchStation({
    staff: [
      { username: 'anna.k', password: 'river-lantern-4417', roles: ['operator'] },
      { username: 'boris.s', password: 'quiet-harbour-9023', roles: ['supervisor'] },
    ],
    config: { approval: {}, sandbox: { faults: [{ kind: 'reset-after-body' }] } },
  });
  const { operator, pinpad, sandbox } = station;
  const cardRecords = () =>
    readFileSync(station?.auditPath ?? '', 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((record) => record.type === undefined && record.cardId === 'FAULT-5');
  await startCard(operator, 'FAULT-5', 'Customer chooses PIN');
  await enterAndConfirm(pinpad, '4826');
  await expect.poll(() => statusText(operator)).toContain('Outcome unknown.');
  const unknown = cardRecords()[0];
  expect(unknown).toMatchObject({ outcome: 'outcome-unknown' });
  await operator.getByRole('button', { name: 'Next card' }).click();
  const attemptsBefore = sandbox?.attempts ?? 0;

  await startCard(operator, 'FAULT-5', 'Customer chooses PIN');
  const dialog = operator.getByRole('dialog', { name: 'Supervisor approval' });
  await dialog.waitFor();
  expect(await dialog.textContent()).toContain('ended with its outcome unknown');
  expect(await pinpad.getByRole('heading').textContent()).toBe('Please wait');
  expect(sandbox?.attempts).toBe(attemptsBefore);
  await dialog.getByRole('textbox', { name: 'Supervisor user name' }).fill('boris.s');
  await dialog.getByLabel('Supervisor password', { exact: true }).fill('quiet-harbour-9023');
  await dialog.getByRole('textbox', { name: 'Supervisor authentication code' }).fill(await station.authCode('boris.s'));
  await dialog.getByRole('button', { name: 'Approve', exact: true }).click();
  await expect.poll(() => dialog.getByRole('alert').textContent()).toBe('Give a reason for this approval.');
  await dialog.getByLabel('Supervisor password', { exact: true }).fill('quiet-harbour-9023');
  await dialog.getByRole('textbox', { name: 'Reason' }).fill('Processor confirmed nothing was applied');
  await dialog.getByRole('textbox', { name: 'Supervisor authentication code' }).fill(await station.authCode('boris.s'));
  await dialog.getByRole('button', { name: 'Approve', exact: true }).click();
  await enterAndConfirm(pinpad, '5937');
  await expect.poll(() => statusText(operator)).toContain('PIN set.');
  expect(sandbox?.attempts).toBe(attemptsBefore + 1);
  expect(cardRecords()[1]).toMatchObject({
    outcome: 'pin-set',
    approver: 'boris.s',
    approvalRule: 'after-outcome-unknown',
    approvalReason: 'Processor confirmed nothing was applied',
    previousAttempt: unknown?.seq,
  });
  table.push(
    `retry after outcome unknown | supervisor approval with a reason, then PIN set | pin-set, previousAttempt ${String(unknown?.seq)} | ${sandbox?.attempts}`,
  );
});
