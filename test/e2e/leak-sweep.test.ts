/**
 * Leak sweep (docs/architecture.md, "PIN secrecy", rule 1): run the journeys with the most
 * verbose logging, then search everything the station wrote or showed — log
 * file, in-memory log, both pages' console output and final DOM, every file
 * in its data directory, the config, the audit trail and the staff accounts
 * file — for the PINs, PANs, key material and staff passwords used (right
 * and wrong ones). Nothing may match.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { StationConfigInput } from '../../main/core/config';
import { enterAndConfirm, settledContent, startCard, statusText, typeDigits, waitForCount } from '../harness/journeys';
import { launchStation } from '../harness/launch-station';
import type { LaunchedStation, LaunchStationOptions } from '../harness/launch-station';

const dataDir = mkdtempSync(join(tmpdir(), 'pin-station-leak-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const secrets = new Set<string>();
const artefacts: { name: string; text: string }[] = [];

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

async function journey(name: string, options: LaunchStationOptions, run: (s: LaunchedStation) => Promise<void>): Promise<void> {
  // Long PINs throughout, so no needle can match a timestamp or a port number by chance.
  const config: StationConfigInput = { ...options.config, pin: { minLength: 4, maxLength: 12, ...options.config?.pin }, log: { level: 'debug' } };
  writeFileSync(join(dataDir, `${name}.config.json`), JSON.stringify(config));
  const s = await launchStation({ ...options, config, logFile: join(dataDir, 'logs', 'station.log') });
  try {
    for (const value of [s.keys.pinKeyHex, s.keys.apiToken, s.keys.privateKeyPem?.split('\n')[5]]) if (value) secrets.add(value);
    for (const account of s.staff) {
      secrets.add(account.password);
      // A second-factor secret never leaves the accounts file sealed; the sweep checks that too.
      secrets.add(account.totpSecret);
    }
    await run(s);
    artefacts.push({ name: `${name}: operator DOM`, text: await settledContent(s.operator) });
    artefacts.push({ name: `${name}: pinpad DOM`, text: await settledContent(s.pinpad) });
    artefacts.push({ name: `${name}: audit trail`, text: readFileSync(s.auditPath, 'utf8') });
    artefacts.push({ name: `${name}: staff accounts`, text: readFileSync(s.accountsPath, 'utf8') });
  } finally {
    await s.close();
    artefacts.push({ name: `${name}: log lines`, text: s.logLines.join('\n') });
    artefacts.push({ name: `${name}: console`, text: s.consoleLines.join('\n') });
  }
}

function pin(value: string): string {
  secrets.add(value);
  return value;
}

/** A staff password used in a journey (right or wrong): a secret like a PIN. */
const password = pin;

it('no PIN, PAN or key appears in any log, console, page or file after every kind of journey', async () => {
  await journey('gcm', { config: { profile: 'gcm' } }, async ({ operator, pinpad }) => {
    await startCard(operator, 'LEAK-1', 'Customer chooses PIN');
    await enterAndConfirm(pinpad, pin('830571926403'), pin('830571926404'));
    // A mismatch asks for the confirmation again.
    await expect.poll(() => pinpad.getByRole('alert').textContent()).toContain('did not match');
    await typeDigits(pinpad, '830571926403');
    await waitForCount(pinpad, 12);
    await pinpad.getByRole('button', { name: 'OK' }).click();
    await expect.poll(() => statusText(operator)).toContain('PIN set.');
  });
  await journey('short-and-cancel', { config: { pin: { minLength: 12, maxLength: 12 } } }, async ({ operator, pinpad }) => {
    await startCard(operator, 'LEAK-2', 'Customer chooses PIN');
    await typeDigits(pinpad, pin('947218305'));
    await waitForCount(pinpad, 9);
    await pinpad.getByRole('button', { name: 'OK' }).click();
    await expect.poll(() => pinpad.getByRole('alert').textContent()).toContain('too short');
    await pinpad.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => statusText(operator)).toContain('cancelled');
  });
  // Long enough that a busy machine's slow clicks do not end the entry before all nine digits are in.
  await journey('timeout', { config: { pin: { inactivityTimeoutMs: 5_000 } } }, async ({ operator, pinpad }) => {
    await startCard(operator, 'LEAK-3', 'Customer chooses PIN');
    await typeDigits(pinpad, pin('610283746'));
    await expect.poll(() => statusText(operator)).toContain('timed out');
  });
  const pan = '4000001234567899';
  secrets.add(pan);
  await journey('iso4', { config: { profile: 'iso4' } }, async ({ operator, pinpad, sandbox }) => {
    sandbox?.registerCard('LEAK-4', pan);
    await startCard(operator, 'LEAK-4', 'Customer chooses PIN', pan);
    await enterAndConfirm(pinpad, pin('720194836251'));
    await expect.poll(() => statusText(operator)).toContain('PIN set.');
  });
  // The default profile (public-key): the config names none.
  await journey('public-key', {}, async ({ operator, pinpad }) => {
    await startCard(operator, 'LEAK-5', 'Customer chooses PIN');
    await enterAndConfirm(pinpad, pin('512873940615'));
    await expect.poll(() => statusText(operator)).toContain('PIN set.');
  });
  await journey('unreachable', { processorUrl: 'http://127.0.0.1:9' }, async ({ operator, pinpad }) => {
    await startCard(operator, 'LEAK-6', 'Customer chooses PIN');
    await enterAndConfirm(pinpad, pin('307152846190'));
    await expect.poll(() => statusText(operator)).toContain('could not be reached');
  });

  const anna = { username: 'anna.k', password: password('harbour7lantern2quiet'), roles: ['operator'] as const };
  const boris = { username: 'boris.s', password: password('meadow4granite9silver'), roles: ['supervisor'] as const };
  await journey('approval', { staff: [anna, boris], signIn: 'anna.k', config: { approval: {} } }, async (s) => {
    const { operator } = s;
    await startCard(operator, 'LEAK-8', 'Processor generates PIN');
    const dialog = operator.getByRole('dialog', { name: 'Supervisor approval' });
    await dialog.getByRole('textbox', { name: 'Supervisor user name' }).fill('boris.s');
    await dialog.getByLabel('Supervisor password', { exact: true }).fill(password('meadow4granite9silvey'));
    await dialog.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent()).toContain('wrong');
    await dialog.getByLabel('Supervisor password', { exact: true }).fill(boris.password);
    await dialog.getByRole('textbox', { name: 'Supervisor authentication code' }).fill(await s.authCode('boris.s'));
    await dialog.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => statusText(operator)).toContain('generated');
  });
  // Dual control off here: this journey's processor-generated PIN is about the sign-in records; 'approval' above has the rules.
  await journey('staff', { staff: [anna, boris], signIn: false, config: { approval: { require: [] } } }, async (s) => {
    const { operator } = s;
    const attempt = async (username: string, secret: string, button: 'Sign in' | 'Unlock', events: number): Promise<void> => {
      await operator.getByRole('textbox', { name: 'User name' }).fill(username);
      await operator.getByLabel('Password', { exact: true }).fill(secret);
      const known = s.staff.find((account) => account.username === username && account.password === secret);
      await operator.getByRole('textbox', { name: 'Authentication code' }).fill(known ? await s.authCode(username) : '');
      await operator.getByRole('button', { name: button, exact: true }).click();
      await expect.poll(() => readFileSync(s.auditPath, 'utf8').split('\n').filter(Boolean).length).toBe(events);
    };
    await attempt('anna.k', password('harbour7lantern2quiez'), 'Sign in', 1);
    // A password typed into the user name field by mistake.
    await attempt(anna.password, password('wrong9field3password'), 'Sign in', 2);
    await attempt('anna.k', anna.password, 'Sign in', 3);
    await operator.getByRole('button', { name: 'Lock' }).click();
    await attempt('anna.k', password('meadow4granite9silvex'), 'Unlock', 5);
    await attempt('boris.s', boris.password, 'Unlock', 7);
    await startCard(operator, 'LEAK-7', 'Processor generates PIN');
    await expect.poll(() => statusText(operator)).toContain('generated');
    await operator.getByRole('button', { name: 'Sign out' }).click();
    await operator.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  });

  for (const file of listFiles(dataDir)) artefacts.push({ name: file, text: readFileSync(file, 'utf8') });
  // The sweep looked at real output: the debug log recorded every journey.
  const log = readFileSync(join(dataDir, 'logs', 'station.log'), 'utf8');
  for (const id of ['LEAK-1', 'LEAK-2', 'LEAK-3', 'LEAK-4', 'LEAK-5', 'LEAK-6', 'LEAK-7', 'LEAK-8']) expect(log).toContain(id);
  expect(log).toContain('"event":"staff.sign-in-failed"');
  expect(log).toContain('"event":"pad.progress"');

  const hits: string[] = [];
  for (const secret of secrets) {
    const forms = new Set([secret, secret.toLowerCase(), secret.toUpperCase(), secret.split('').join(',')]);
    for (const artefact of artefacts) {
      for (const form of forms) if (artefact.text.includes(form)) hits.push(`${artefact.name} contains a secret (${secret.length} chars)`);
    }
  }
  expect(secrets.size).toBeGreaterThan(10);
  expect(hits).toEqual([]);
}, 900_000);
