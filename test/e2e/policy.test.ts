/**
 * Managed policy at the station: a policy value beats the station's config and cannot be changed in the
 * operator window (marked "Set by your organisation"); a policy file others could write refuses start-up on
 * the cannot-start screen, naming the file and the fix.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { readAuditRecords } from '../../main/core/audit';
import { policyFileSource } from '../../main/core/policy/sources';
import { enterAndConfirm, startCard, statusText, typeDigits } from '../harness/journeys';
import { launchStation } from '../harness/launch-station';
import type { LaunchedStation } from '../harness/launch-station';

let dir: string;
let station: LaunchedStation | null = null;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pin-station-e2e-policy-'));
  chmodSync(dir, 0o755);
});
afterEach(async () => {
  await station?.close();
  station = null;
  rmSync(dir, { recursive: true, force: true });
});

function policyFile(value: unknown, mode = 0o644): string {
  const file = join(dir, 'policy.json');
  writeFileSync(file, JSON.stringify(value));
  chmodSync(file, mode);
  return file;
}

// The trusted owner is this test's user, up to its own folder: the product's rule is root, up to "/".
const source = (file: string) => policyFileSource(file, { ownerUid: process.getuid?.() ?? 0, upTo: dir });

it('a policy PIN length beats the config; the policy language is marked and cannot be changed in the window', async () => {
  const file = policyFile({ pin: { minLength: 6, maxLength: 6 }, operator: { language: 'en' } });
  station = await launchStation({ config: { pin: { minLength: 4, maxLength: 4 }, operator: { language: 'ru' } }, policy: source(file) });
  const { operator, pinpad, sandbox } = station;
  const language = operator.getByRole('combobox', { name: /Language/ });
  expect(await language.isDisabled()).toBe(true);
  expect(await language.inputValue()).toBe('en');
  expect(await operator.getByText('Set by your organisation').isVisible()).toBe(true);

  await startCard(operator, 'CARD-POLICY-1', 'Customer chooses PIN');
  await typeDigits(pinpad, '2580');
  await pinpad.getByRole('button', { name: 'OK' }).click();
  await expect.poll(() => pinpad.getByRole('alert').textContent()).toContain('too short');
  await pinpad.getByRole('button', { name: 'Clear' }).click();
  await enterAndConfirm(pinpad, '258013');
  await expect.poll(() => statusText(operator)).toContain('PIN set.');
  expect(sandbox?.isPinSet('CARD-POLICY-1', '258013')).toBe(true);
});

it('a group-writable policy file: the station does not start, and the screen names the file and the fix', async () => {
  const file = policyFile({ pin: { minLength: 6, maxLength: 6 } }, 0o664);
  station = await launchStation({ policy: source(file) });
  await expect.poll(() => statusText(station?.operator as LaunchedStation['operator'])).toContain('PIN Station cannot start.');
  const text = (await statusText(station.operator)) ?? '';
  expect(text).toContain('POLICY_INVALID');
  expect(text).toContain(`${file} is writable by its group (mode 664)`);
  expect(text).toContain(`sudo chmod 644 "${file}"`);
  expect(await station.operator.getByRole('button', { name: 'Start' }).isDisabled()).toBe(true);
});

it('a policy change during an entry applies only after that card, and is an audit record; a weakened policy is refused and recorded', async () => {
  const file = policyFile({ pin: { minLength: 4, maxLength: 4 } });
  station = await launchStation({ policy: source(file), policyPollMs: 100 });
  const { operator, pinpad, sandbox, auditPath } = station;
  await startCard(operator, 'CARD-POLICY-2', 'Customer chooses PIN');
  await expect.poll(() => pinpad.getByRole('heading').textContent()).toBe('Enter your new PIN');
  await typeDigits(pinpad, '25');
  // The organisation raises the PIN length while the cardholder is typing.
  writeFileSync(file, JSON.stringify({ pin: { minLength: 6, maxLength: 6 } }));
  await new Promise((done) => setTimeout(done, 600));
  expect(readAuditRecords(auditPath).some((record) => record.type === 'policy')).toBe(false);
  await typeDigits(pinpad, '80');
  await pinpad.getByRole('button', { name: 'OK' }).click();
  await expect.poll(() => pinpad.getByRole('heading').textContent()).toBe('Enter the same PIN again');
  await typeDigits(pinpad, '2580');
  await pinpad.getByRole('button', { name: 'OK' }).click();
  await expect.poll(() => statusText(operator)).toContain('PIN set.');
  expect(sandbox?.isPinSet('CARD-POLICY-2', '2580')).toBe(true);

  // Between cards now: the change is applied and on record, after the card's own record.
  await expect.poll(() => readAuditRecords(auditPath).find((record) => record.type === 'policy')).toBeTruthy();
  const records = readAuditRecords(auditPath);
  const cardAt = records.findIndex((record) => record.type === undefined && record.cardId === 'CARD-POLICY-2');
  const applied = records.findIndex((record) => record.type === 'policy');
  expect(applied).toBeGreaterThan(cardAt);
  expect(records[applied]).toMatchObject({
    event: 'applied',
    location: file,
    changes: ['pin.minLength: 4 -> 6 (next card)', 'pin.maxLength: 4 -> 6 (next card)'],
    reason: null,
  });

  await operator.getByRole('button', { name: 'Next card' }).click();
  await startCard(operator, 'CARD-POLICY-3', 'Customer chooses PIN');
  await typeDigits(pinpad, '2580');
  await pinpad.getByRole('button', { name: 'OK' }).click();
  await expect.poll(() => pinpad.getByRole('alert').textContent()).toContain('too short');
  await operator.getByRole('button', { name: 'Cancel' }).click();

  // Someone makes the policy file writable by its group: refused, recorded once, and the settings stay.
  chmodSync(file, 0o664);
  await expect.poll(() => readAuditRecords(auditPath).filter((record) => record.type === 'policy' && record.event === 'refused').length).toBe(1);
  const refused = readAuditRecords(auditPath).find((record) => record.type === 'policy' && record.event === 'refused');
  expect(refused).toMatchObject({ location: file, reason: 'POLICY_INVALID', changes: [] });
  await new Promise((done) => setTimeout(done, 400));
  expect(readAuditRecords(auditPath).filter((record) => record.type === 'policy' && record.event === 'refused')).toHaveLength(1);
  expect(station.core.station.operatorView().managedSettings).toEqual(expect.arrayContaining(['pin.minLength', 'pin.maxLength']));
});
