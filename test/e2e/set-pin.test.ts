import { describe, expect, it } from 'vitest';
import { decryptGcm } from '../../main/crypto/gcm';
import { parseAes256KeyHex } from '../../main/crypto/keys';
import { useStation } from '../harness/launch-station';
import { enterAndConfirm, startCard, statusText, typeDigits as typePin } from '../harness/journeys';

const launch = useStation();

describe('customer chooses PIN', () => {
  it('sets exactly the PIN typed on the pad, and the wire carries only {card_id, pin}', async () => {
    const { operator, pinpad, sandbox, keys } = await launch({ config: { profile: 'gcm' } });
    await startCard(operator, 'CARD-0001', 'Customer chooses PIN');
    await enterAndConfirm(pinpad, '2580');
    await expect.poll(() => statusText(operator)).toContain('PIN set.');
    expect(await statusText(operator)).toContain('pin_set');

    expect(sandbox?.isPinSet('CARD-0001', '2580')).toBe(true);
    expect(sandbox?.isPinSet('CARD-0001', '2581')).toBe(false);
    expect(sandbox?.isPinSet('CARD-0002', '2580')).toBe(false);

    const [request] = sandbox?.requests ?? [];
    expect(request?.contentType).toBe('application/json');
    const body = JSON.parse(request?.bodyText ?? '{}') as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['card_id', 'pin']);
    expect(body.card_id).toBe('CARD-0001');
    // The pin opens with the key only together with the right card_id.
    const key = parseAes256KeyHex(keys.pinKeyHex ?? '', 'pin-key');
    expect(Array.from(decryptGcm(key, String(body.pin), 'CARD-0001'))).toEqual([2, 5, 8, 0]);
    expect(() => decryptGcm(key, String(body.pin), 'CARD-0002')).toThrow(/authentication/);
    // The pad went back to its idle screen and never learnt more than the count.
    await expect.poll(() => pinpad.getByRole('heading').textContent()).toBe('Please wait');
  });

  it('a confirmation mismatch sends nothing and asks for the confirmation again', async () => {
    const { operator, pinpad, sandbox } = await launch();
    await startCard(operator, 'CARD-0003', 'Customer chooses PIN');
    await enterAndConfirm(pinpad, '1357', '1358');
    await expect.poll(() => pinpad.getByRole('alert').textContent()).toContain('did not match');
    await expect.poll(() => pinpad.getByRole('heading').textContent()).toBe('Enter the same PIN again');
    expect(sandbox?.requests).toHaveLength(0);
    await typePin(pinpad, '1357');
    await pinpad.getByRole('img', { name: '4 digits entered' }).waitFor();
    await pinpad.getByRole('button', { name: 'OK' }).click();
    await expect.poll(() => statusText(operator)).toContain('PIN set.');
    expect(sandbox?.isPinSet('CARD-0003', '1357')).toBe(true);
  });

  it('a short PIN is refused on the pad without echoing it', async () => {
    const { operator, pinpad, sandbox } = await launch();
    await startCard(operator, 'CARD-0004', 'Customer chooses PIN');
    await typePin(pinpad, '123');
    await pinpad.getByRole('img', { name: '3 digits entered' }).waitFor();
    await pinpad.getByRole('button', { name: 'OK' }).click();
    await expect.poll(() => pinpad.getByRole('alert').textContent()).toContain('too short');
    // Everything but the keys themselves (whose shuffled labels may spell anything).
    const shown = await pinpad.locator('main > :not(.keys)').allTextContents();
    expect(shown.join(' ')).not.toContain('123');
    expect(await pinpad.getByRole('heading').textContent()).toBe('Enter your new PIN');
    expect(sandbox?.requests).toHaveLength(0);
  });

  it('cancel on the pad wipes the entry and tells the operator', async () => {
    const { operator, pinpad, sandbox } = await launch();
    await startCard(operator, 'CARD-0005', 'Customer chooses PIN');
    await typePin(pinpad, '97');
    await pinpad.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => statusText(operator)).toContain('cancelled');
    await expect.poll(() => pinpad.getByRole('heading').textContent()).toBe('Please wait');
    expect(sandbox?.requests).toHaveLength(0);
  });
});

describe('processor generates PIN', () => {
  it('sends {card_id} only and shows the processor answer', async () => {
    // Dual control off: by default a processor-generated PIN waits for a supervisor (test/e2e/approval.test.ts).
    const { operator, sandbox } = await launch({ config: { approval: { require: [] } } });
    await startCard(operator, 'CARD-0100', 'Processor generates PIN');
    await expect.poll(() => statusText(operator)).toContain('The processor generated the PIN.');
    const text = await statusText(operator);
    expect(text).toContain('pin_generated');
    expect(text).toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00/);
    expect(sandbox?.requests.map((r) => JSON.parse(r.bodyText))).toEqual([{ card_id: 'CARD-0100' }]);
    expect(sandbox?.wasGenerated('CARD-0100')).toBe(true);
  });
});

describe('bad input gets a specific error and nothing is sent', () => {
  it('empty and malformed card IDs', async () => {
    const { operator, sandbox } = await launch();
    await operator.getByRole('button', { name: 'Start' }).click();
    await expect.poll(() => operator.getByRole('alert').textContent()).toContain('Enter or scan the card ID.');
    await startCard(operator, 'CARD 12/<x>', 'Processor generates PIN');
    await expect.poll(() => operator.getByRole('alert').textContent()).toContain('Card ID must be 1 to 64 characters');
    expect(sandbox?.requests).toHaveLength(0);
    // Main checks again whatever the renderer sends.
    const result = await operator.evaluate(() =>
      (window as unknown as { station: { start(r: unknown): Promise<unknown> } }).station.start({ cardId: 'bad id!', mode: 'processor' }),
    );
    expect(result).toEqual({ ok: false, error: { code: 'CARD_ID_INVALID', message: expect.any(String) } });
    expect(sandbox?.requests).toHaveLength(0);
  });

  it('a missing keychain entry at startup: the station cannot start and says which entry and how to fix it', async () => {
    const { operator, pinpad, sandbox } = await launch({ config: { profile: 'gcm' }, keys: { apiToken: 'token-without-key' } });
    await expect.poll(() => statusText(operator)).toContain('PIN Station cannot start.');
    const text = await statusText(operator);
    expect(text).toContain('A required key is missing from the keychain. Entry "pin-key" was not found.');
    expect(text).toContain('npm run keys -- import pin-key');
    expect(await operator.getByRole('button', { name: 'Start' }).isDisabled()).toBe(true);
    expect(await pinpad.getByRole('heading').textContent()).toBe('Please wait');
    expect(sandbox?.requests).toHaveLength(0);
  });

  it('a keychain entry removed while running: Start refuses with the entry named', async () => {
    const { operator, pinpad, sandbox, keyStore } = await launch({ config: { profile: 'gcm' } });
    await keyStore.delete('pin-key');
    await startCard(operator, 'CARD-0201', 'Customer chooses PIN');
    await expect.poll(() => statusText(operator)).toContain('A required key is missing from the keychain. Entry "pin-key" was not found.');
    expect(await pinpad.getByRole('heading').textContent()).toBe('Please wait');
    expect(sandbox?.requests).toHaveLength(0);
  });

  it('an unreachable processor', async () => {
    const { operator, pinpad } = await launch({ processorUrl: 'http://127.0.0.1:9' });
    await startCard(operator, 'CARD-0300', 'Customer chooses PIN');
    await enterAndConfirm(pinpad, '4826');
    // Two retries with back-off come first (about 0.75 s), more on a busy machine: poll past the 1 s default.
    await expect.poll(() => statusText(operator)).toContain('The card processor could not be reached. Nothing was sent.');
    expect(await statusText(operator)).toContain('PROCESSOR_UNREACHABLE');
  });

  it("a window calling the other window's channel is refused", async () => {
    const { operator, pinpad } = await launch();
    expect(await operator.evaluate(() => (window as unknown as Record<string, unknown>).pinpad)).toBeUndefined();
    expect(await pinpad.evaluate(() => (window as unknown as Record<string, unknown>).station)).toBeUndefined();
    const refused = await pinpad.evaluate(() =>
      (window as unknown as { __pinStationInvoke(c: string, a: unknown): Promise<unknown> }).__pinStationInvoke('station:start', {
        cardId: 'CARD-1',
        mode: 'processor',
      }),
    );
    expect(refused).toMatchObject({ ok: false, error: { code: 'WRONG_WINDOW' } });
  });
});
