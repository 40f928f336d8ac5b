/** The iso4 and rsa-oaep profiles end to end: the sandbox decrypts with node:crypto, independently of the station. */
import { constants, privateDecrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decipherIso4, decryptGcm, decryptRsaOaep, parseAes256KeyHex } from '../../main/crypto';
import { enterAndConfirm, startCard, statusText } from '../harness/journeys';
import { useStation } from '../harness/launch-station';
import type { LaunchedStation } from '../harness/launch-station';

const launch = useStation();
const sentBody = (s: LaunchedStation, index = 0): Record<string, unknown> =>
  JSON.parse(s.sandbox?.requests[index]?.bodyText ?? '{}') as Record<string, unknown>;

describe('profile iso4 (PAN-bound format 4 PIN block)', () => {
  const PAN = '4000001234567899';

  it('the operator enters the PAN; the wire carries 32 hex chars that open only with that PAN', async () => {
    const s = await launch({ config: { profile: 'iso4' } });
    s.sandbox?.registerCard('CARD-ISO-1', PAN);
    await startCard(s.operator, 'CARD-ISO-1', 'Customer chooses PIN', PAN);
    // Masked after entry, and gone from the form once Start was pressed.
    await enterAndConfirm(s.pinpad, '7391');
    await expect.poll(() => statusText(s.operator)).toContain('PIN set.');
    expect(s.sandbox?.isPinSet('CARD-ISO-1', '7391')).toBe(true);
    expect(await s.operator.getByLabel('Card number (PAN)').inputValue()).toBe('');
    expect(await s.operator.getByLabel('Card number (PAN)').getAttribute('type')).toBe('password');

    const body = sentBody(s);
    expect(Object.keys(body).sort()).toEqual(['card_id', 'pin']);
    expect(body.pin).toMatch(/^[0-9A-F]{32}$/);
    expect(JSON.stringify(body)).not.toContain(PAN);
    const key = parseAes256KeyHex(s.keys.pinKeyHex ?? '', 'pin-key');
    expect(Array.from(decipherIso4(key, Buffer.from(String(body.pin), 'hex'), PAN))).toEqual([7, 3, 9, 1]);
    let other: number[] | null;
    try {
      other = Array.from(decipherIso4(key, Buffer.from(String(body.pin), 'hex'), '4111111111111111'));
    } catch {
      other = null;
    }
    expect(other).not.toEqual([7, 3, 9, 1]);
  });

  it('a PAN failing the Luhn check is refused next to the field and in main; nothing is sent', async () => {
    const s = await launch({ config: { profile: 'iso4' } });
    await startCard(s.operator, 'CARD-ISO-2', 'Customer chooses PIN', '4000001234567890');
    await expect.poll(() => s.operator.getByRole('alert').textContent()).toContain('valid check digit');
    const direct = await s.operator.evaluate(() =>
      (window as unknown as { station: { start(r: unknown): Promise<unknown> } }).station.start({ cardId: 'CARD-ISO-2', mode: 'customer', pan: '12' }),
    );
    expect(direct).toMatchObject({ ok: false, error: { code: 'PAN_INVALID' } });
    expect(s.sandbox?.requests).toHaveLength(0);
    expect(await s.pinpad.getByRole('heading').textContent()).toBe('Please wait');
  });

  it('processor-generated PINs need no PAN', async () => {
    // Dual control off: by default a processor-generated PIN waits for a supervisor (test/e2e/approval.test.ts).
    const s = await launch({ config: { profile: 'iso4', approval: { require: [] } } });
    await s.operator.getByRole('radio', { name: 'Processor generates PIN' }).check();
    expect(await s.operator.getByLabel('Card number (PAN)').count()).toBe(0);
    await startCard(s.operator, 'CARD-ISO-3', 'Processor generates PIN');
    await expect.poll(() => statusText(s.operator)).toContain('pin_generated');
    expect(sentBody(s)).toEqual({ card_id: 'CARD-ISO-3' });
  });
});

describe('profile rsa-oaep (hybrid under the processor public key)', () => {
  it('sets a 12-digit PIN; only the private key together with the card ID opens it', async () => {
    const s = await launch({ config: { profile: 'rsa-oaep', pin: { minLength: 4, maxLength: 12 } } });
    await startCard(s.operator, 'CARD-RSA-1', 'Customer chooses PIN');
    await enterAndConfirm(s.pinpad, '902716354811');
    await expect.poll(() => statusText(s.operator)).toContain('PIN set.');
    expect(s.sandbox?.isPinSet('CARD-RSA-1', '902716354811')).toBe(true);

    const pin = String(sentBody(s).pin);
    const sealed = Buffer.from(pin, 'base64');
    expect(sealed.length).toBe(256 + 12 + 16 + 16);
    const privateKey = s.keys.privateKeyPem ?? '';
    expect(privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, sealed.subarray(0, 256))).toHaveLength(32);
    expect(Array.from(decryptRsaOaep(privateKey, pin, 'CARD-RSA-1')).join('')).toBe('902716354811');
    expect(() => decryptRsaOaep(privateKey, pin, 'CARD-RSA-2')).toThrow(/authentication/);
  });

  it('a missing pin-public-key: the station cannot start, and says which entry', async () => {
    const s = await launch({ config: { profile: 'rsa-oaep' }, keys: { pinKeyHex: 'AB'.repeat(32), apiToken: 'token-present-1234' } });
    await expect.poll(() => statusText(s.operator)).toContain('PIN Station cannot start.');
    expect(await statusText(s.operator)).toContain('Entry "pin-public-key" was not found.');
    expect(s.sandbox?.requests).toHaveLength(0);
  });

  it('a malformed pin-public-key is named, not used', async () => {
    const s = await launch({ config: { profile: 'rsa-oaep' }, keys: { apiToken: 'token-present-1234', pinPublicKeyPem: 'not a key' } });
    await expect.poll(() => statusText(s.operator)).toContain('Entry "pin-public-key" must be a PEM certificate or PEM RSA public key');
    expect(s.sandbox?.requests).toHaveLength(0);
  });
});

describe('profile gcm with a 12-digit PIN', () => {
  it('round-trips through the sandbox', async () => {
    const s = await launch({ config: { profile: 'gcm', pin: { minLength: 12, maxLength: 12 } } });
    await startCard(s.operator, 'CARD-GCM-12', 'Customer chooses PIN');
    await enterAndConfirm(s.pinpad, '560918273645');
    await expect.poll(() => statusText(s.operator)).toContain('PIN set.');
    expect(s.sandbox?.isPinSet('CARD-GCM-12', '560918273645')).toBe(true);
    const key = parseAes256KeyHex(s.keys.pinKeyHex ?? '', 'pin-key');
    expect(Array.from(decryptGcm(key, String(sentBody(s).pin), 'CARD-GCM-12')).join('')).toBe('560918273645');
  });
});
