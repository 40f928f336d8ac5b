/** A station that cannot start shows why and how to fix it: no crash, no stack trace, nothing sent. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { AuditLog, readAuditRecords } from '../../main/core/audit';
import { MemoryKeyStore } from '../../main/core/keystore';
import { statusText } from '../harness/journeys';
import { launchStation } from '../harness/launch-station';
import type { LaunchedStation, LaunchStationOptions } from '../harness/launch-station';

let station: LaunchedStation | null = null;
afterEach(async () => {
  await station?.close();
  station = null;
});

async function screenFor(options: LaunchStationOptions): Promise<string> {
  station = await launchStation(options);
  await expect.poll(() => statusText(station?.operator as LaunchedStation['operator'])).toContain('PIN Station cannot start.');
  const text = (await statusText(station.operator)) ?? '';
  expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/);
  expect(await station.operator.getByRole('button', { name: 'Start' }).isDisabled()).toBe(true);
  expect(station.sandbox?.requests ?? []).toHaveLength(0);
  return text;
}

it('a config file that is not JSON', async () => {
  expect(await screenFor({ configText: '{ "pin": { "minLength": 4, ' })).toContain('The config file is not valid JSON.');
});

it('a config field that breaks its rule names the field and the rule', async () => {
  const text = await screenFor({ configText: JSON.stringify({ pin: { minLength: 3 }, processor: { retries: 'many' } }) });
  expect(text).toContain('CONFIG_INVALID');
  expect(text).toContain('pin.minLength');
  expect(text).toContain('processor.retries');
});

it('an unknown config field is named', async () => {
  expect(await screenFor({ configText: JSON.stringify({ pad: { shufle: false } }) })).toMatch(/pad.*shufle/);
});

it('a plain-HTTP processor that is not on this computer', async () => {
  // The harness now starts through the app's own start-up, so this is the cannot-start screen, as in the app.
  const text = await screenFor({ processorUrl: 'http://processor.example.com' });
  expect(text).toContain('PROCESSOR_URL_INSECURE');
  expect(text).toContain('must use HTTPS');
});

it('a malformed pin-key names the entry and the expected format', async () => {
  const text = await screenFor({ config: { profile: 'gcm' }, keys: { pinKeyHex: 'not-hex', apiToken: 'token-present-1234' } });
  expect(text).toContain('Entry "pin-key" must be 64 hexadecimal characters');
  expect(text).not.toContain('not-hex');
});

it('a missing api-token', async () => {
  expect(await screenFor({ config: { profile: 'gcm' }, keys: { pinKeyHex: 'AB'.repeat(32) } })).toContain('Entry "api-token" was not found.');
});

it('an audit.ship.caFile that cannot be read as a certificate is named, and nothing is shipped or sent', async () => {
  const text = await screenFor({ config: { audit: { ship: { host: '127.0.0.1', caFile: '/nonexistent/collector-ca.pem' } } } });
  expect(text).toContain('CONFIG_INVALID');
  expect(text).toContain('audit.ship.caFile could not be read as a PEM certificate.');
});

it("the last run's interrupted request is recorded as outcome unknown even when a key check then refuses start-up", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pin-station-startup-'));
  try {
    const trail = join(dir, 'audit.jsonl');
    const keyStore = new MemoryKeyStore({ 'audit-key': 'AB'.repeat(32) });
    // The last run wrote its attempt record and stopped before the outcome.
    const attemptId = '0b8f6a52-3c1d-4e7f-9a2b-5c6d7e8f9a0b';
    await new AuditLog(trail, keyStore).append({
      type: 'attempt',
      stationId: 'desk-1',
      attemptId,
      operator: 'op.one',
      cardId: 'CUT-1',
      mode: 'customer',
      profile: 'gcm',
    });
    // This start then finds no api-token: it cannot start, but the cut-short request is closed first.
    expect(await screenFor({ keyStore, auditPath: trail, config: { profile: 'gcm' }, keys: { pinKeyHex: 'AB'.repeat(32) } })).toContain(
      'Entry "api-token" was not found.',
    );
    expect(readAuditRecords(trail).at(-1)).toMatchObject({ cardId: 'CUT-1', outcome: 'outcome-unknown', errorCode: 'STATION_STOPPED', attemptId });
  } finally {
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
  }
});
