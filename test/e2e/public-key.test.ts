/**
 * The default profile, public-key, held against our own processor: the station keeps only the processor's
 * public key (or its certificate), the key is pinned by its SPKI SHA-256, refused once its certificate has
 * expired, and replaced by a staged next key on that key's notBefore, on record.
 */
import { constants, createHash, createPublicKey, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decryptRsaOaep } from '../../main/crypto';
import { issueProcessorCertificate } from '../../sandbox/certificate';
import { enterAndConfirm, startCard, statusText } from '../harness/journeys';
import { useStation } from '../harness/launch-station';
import type { LaunchedStation } from '../harness/launch-station';

const launch = useStation();
const DAY = 86_400_000;
/** Dual control is not what these tests are about. */
const NO_APPROVAL = { approval: { require: [] } };

function rsaPair(): { publicKey: string; privateKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

function certificateFor(pair: { publicKey: string; privateKey: string }, notBefore: Date, notAfter: Date): string {
  return issueProcessorCertificate({ publicKeyPem: pair.publicKey, signingKeyPem: pair.privateKey, notBefore, notAfter });
}

function spkiSha256(publicKeyPem: string): string {
  return createHash('sha256')
    .update(createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

const sentPin = (s: LaunchedStation, index: number): string =>
  String((JSON.parse(s.sandbox?.requests[index]?.bodyText ?? '{}') as { pin?: unknown }).pin ?? '');

function trail(s: LaunchedStation): Record<string, unknown>[] {
  return readFileSync(s.auditPath, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function opens(privateKeyPem: string, pin: string, cardId: string): string | null {
  try {
    return Array.from(decryptRsaOaep(privateKeyPem, pin, cardId)).join('');
  } catch {
    return null;
  }
}

describe('the default profile', () => {
  it("a station with no profile configured sends a pin only the processor's private key opens, and holds no pin-key", async () => {
    const s = await launch({ config: NO_APPROVAL });
    expect(s.core.station.operatorView().processorKey).toMatchObject({ notAfter: null, daysLeft: null });
    // What the keychain holds: the processor's public key and the token, nothing that could open a PIN.
    expect(await s.keyStore.get('pin-key')).toBeNull();
    expect(await s.keyStore.get('pin-public-key')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    // A bare key: its expiry is unknown, and the operator window says so.
    await expect.poll(() => s.operator.getByText("Processor's key: no expiry known.").count()).toBe(1);

    await startCard(s.operator, 'CARD-PK-1', 'Customer chooses PIN');
    await enterAndConfirm(s.pinpad, '4719');
    await expect.poll(() => statusText(s.operator)).toContain('PIN set.');
    expect(s.sandbox?.isPinSet('CARD-PK-1', '4719')).toBe(true);

    const pin = sentPin(s, 0);
    const sealed = Buffer.from(pin, 'base64');
    // The wire format: base64(wrappedKey(256) || nonce(12) || ciphertext(16) || tag(16)).
    expect(sealed).toHaveLength(256 + 12 + 16 + 16);
    const privateKey = s.keys.privateKeyPem ?? '';
    expect(privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, sealed.subarray(0, 256))).toHaveLength(32);
    expect(opens(privateKey, pin, 'CARD-PK-1')).toBe('4719');
    // Another private key does not open it.
    expect(opens(rsaPair().privateKey, pin, 'CARD-PK-1')).toBeNull();
    expect(trail(s).find((record) => record.cardId === 'CARD-PK-1' && record.outcome === 'pin-set')).toMatchObject({ profile: 'public-key' });
  });

  it('a station set up under the old default (no profile named, only a pin-key) cannot start, and is told the change and both ways out', async () => {
    const s = await launch({ config: NO_APPROVAL, keys: { pinKeyHex: 'AB'.repeat(32), apiToken: 'token-present-1234' } });
    await expect.poll(() => statusText(s.operator)).toContain('PIN Station cannot start.');
    const text = (await statusText(s.operator)) ?? '';
    expect(text).toContain('The default encryption profile is now public-key');
    expect(text).toContain('npm run keys -- import pin-public-key');
    expect(text).toContain('"profile": "gcm"');
    expect(text).toContain('PROFILE_DEFAULT_CHANGED');
    expect(text).not.toContain('AB'.repeat(32));
    expect(s.sandbox?.requests).toHaveLength(0);
  });

  it('the same keychain with "profile": "gcm" named explicitly starts and sets PINs', async () => {
    const s = await launch({ config: { ...NO_APPROVAL, profile: 'gcm' }, keys: { pinKeyHex: 'AB'.repeat(32), apiToken: 'token-present-1234' } });
    await startCard(s.operator, 'CARD-PK-GCM', 'Customer chooses PIN');
    await enterAndConfirm(s.pinpad, '4719');
    await expect.poll(() => statusText(s.operator)).toContain('PIN set.');
  });
});

describe("the processor's key as a certificate", () => {
  it('a certificate is stored as given; the operator window shows the days to expiry, and warns within 30 days', async () => {
    const pair = rsaPair();
    const now = Date.now();
    const certificate = certificateFor(pair, new Date(now - DAY), new Date(now + 10 * DAY + 3_600_000));
    const s = await launch({ config: NO_APPROVAL, keys: { apiToken: 'token-present-1234', pinPublicKeyPem: certificate, privateKeyPem: pair.privateKey } });
    expect(await s.keyStore.get('pin-public-key')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    await expect.poll(() => s.operator.getByRole('alert').textContent()).toContain("Processor's key expires in 10 days.");
    expect(await s.operator.getByRole('alert').textContent()).toContain('import its new certificate');
    await startCard(s.operator, 'CARD-CERT-1', 'Customer chooses PIN');
    await enterAndConfirm(s.pinpad, '5820');
    await expect.poll(() => statusText(s.operator)).toContain('PIN set.');
    expect(opens(pair.privateKey, sentPin(s, 0), 'CARD-CERT-1')).toBe('5820');
  });

  it('a certificate far from expiry is shown without a warning', async () => {
    const pair = rsaPair();
    const now = Date.now();
    const s = await launch({
      config: NO_APPROVAL,
      keys: {
        apiToken: 'token-present-1234',
        pinPublicKeyPem: certificateFor(pair, new Date(now - DAY), new Date(now + 200 * DAY + 3_600_000)),
        privateKeyPem: pair.privateKey,
      },
    });
    await expect.poll(() => s.operator.getByText("Processor's key expires in 200 days.").count()).toBe(1);
    expect(await s.operator.getByRole('alert').count()).toBe(0);
  });

  it('an expired certificate: the window says so, and Start is refused with PROCESSOR_KEY_EXPIRED; nothing is sent', async () => {
    const pair = rsaPair();
    const now = Date.now();
    const s = await launch({
      config: NO_APPROVAL,
      keys: {
        apiToken: 'token-present-1234',
        pinPublicKeyPem: certificateFor(pair, new Date(now - 400 * DAY), new Date(now - DAY)),
        privateKeyPem: pair.privateKey,
      },
    });
    await expect.poll(() => s.operator.getByRole('alert').textContent()).toContain("The processor's key has expired");
    for (const mode of ['Customer chooses PIN', 'Processor generates PIN'] as const) {
      await startCard(s.operator, 'CARD-EXP-1', mode);
      await expect.poll(() => statusText(s.operator)).toContain('has expired, or its certificate is not valid yet');
      expect(await s.pinpad.getByRole('heading').textContent()).toBe('Please wait');
    }
    const direct = await s.operator.evaluate(() =>
      (window as unknown as { station: { start(r: unknown): Promise<unknown> } }).station.start({ cardId: 'CARD-EXP-2', mode: 'processor' }),
    );
    expect(direct).toMatchObject({ ok: false, error: { code: 'PROCESSOR_KEY_EXPIRED' } });
    expect(s.sandbox?.requests).toHaveLength(0);
    expect(s.sandbox?.attempts).toBe(0);
  });
});

describe('the key pinned by processor.publicKeySha256', () => {
  it('the pinned key works; a key swapped into the keychain afterwards is refused with PROCESSOR_KEY_MISMATCH and nothing is sent', async () => {
    const pair = rsaPair();
    const s = await launch({
      config: { ...NO_APPROVAL, processor: { publicKeySha256: spkiSha256(pair.publicKey) } },
      keys: { apiToken: 'token-present-1234', pinPublicKeyPem: pair.publicKey, privateKeyPem: pair.privateKey },
    });
    await startCard(s.operator, 'CARD-PIN-1', 'Customer chooses PIN');
    await enterAndConfirm(s.pinpad, '3094');
    await expect.poll(() => statusText(s.operator)).toContain('PIN set.');
    expect(s.sandbox?.requests).toHaveLength(1);

    // Someone with keychain access puts in a key of their own.
    const attacker = rsaPair();
    await s.keyStore.set('pin-public-key', attacker.publicKey);
    await s.operator.getByRole('button', { name: 'Next card' }).click();
    await startCard(s.operator, 'CARD-PIN-2', 'Customer chooses PIN');
    await expect.poll(() => statusText(s.operator)).toContain('not the one pinned by processor.publicKeySha256');
    expect(await s.pinpad.getByRole('heading').textContent()).toBe('Please wait');
    const direct = await s.operator.evaluate(() =>
      (window as unknown as { station: { start(r: unknown): Promise<unknown> } }).station.start({ cardId: 'CARD-PIN-3', mode: 'processor' }),
    );
    expect(direct).toMatchObject({ ok: false, error: { code: 'PROCESSOR_KEY_MISMATCH' } });
    expect(s.sandbox?.requests).toHaveLength(1);
    expect(s.sandbox?.attempts).toBe(1);
  });

  it('a key swapped between Start and OK is never used: the card goes under the key its Start checked, the next Start is refused', async () => {
    const pair = rsaPair();
    const s = await launch({
      config: { ...NO_APPROVAL, processor: { publicKeySha256: spkiSha256(pair.publicKey) } },
      keys: { apiToken: 'token-present-1234', pinPublicKeyPem: pair.publicKey, privateKeyPem: pair.privateKey },
    });
    await startCard(s.operator, 'CARD-PIN-4', 'Customer chooses PIN');
    await expect.poll(() => s.pinpad.getByRole('heading').textContent()).toBe('Enter your new PIN');
    await s.keyStore.set('pin-public-key', rsaPair().publicKey);
    await enterAndConfirm(s.pinpad, '3094');
    // The sandbox holds only the pinned key's private half: it opened this PIN, so the swapped key was not used.
    await expect.poll(() => statusText(s.operator)).toContain('PIN set.');
    expect(s.sandbox?.requests).toHaveLength(1);
    await s.operator.getByRole('button', { name: 'Next card' }).click();
    await startCard(s.operator, 'CARD-PIN-5', 'Customer chooses PIN');
    await expect.poll(() => statusText(s.operator)).toContain('not the one pinned by processor.publicKeySha256');
    expect(s.sandbox?.attempts).toBe(1);
  });

  it('a station started with a key other than the pinned one cannot start', async () => {
    const s = await launch({ config: { ...NO_APPROVAL, processor: { publicKeySha256: 'ab'.repeat(32) } } });
    await expect.poll(() => statusText(s.operator)).toContain('PIN Station cannot start.');
    expect(await statusText(s.operator)).toContain('PROCESSOR_KEY_MISMATCH');
    expect(s.sandbox?.requests).toHaveLength(0);
  });
});

describe('rotation', () => {
  it('a staged next key takes over on its notBefore, and the switch is on record', { timeout: 120_000 }, async () => {
    const current = rsaPair();
    const next = rsaPair();
    const now = Date.now();
    const s = await launch({
      config: NO_APPROVAL,
      keys: {
        apiToken: 'token-present-1234',
        pinPublicKeyPem: certificateFor(current, new Date(now - DAY), new Date(now + 100 * DAY)),
        privateKeyPem: current.privateKey,
      },
    });
    // Staged as `keys import pin-public-key --next` stores it; valid from a few seconds from now.
    const takesOverAt = Date.now() + 8_000;
    await s.keyStore.set('pin-public-key-next', certificateFor(next, new Date(takesOverAt), new Date(takesOverAt + 365 * DAY)));

    await startCard(s.operator, 'CARD-ROT-1', 'Customer chooses PIN');
    await enterAndConfirm(s.pinpad, '6142');
    await expect.poll(() => statusText(s.operator)).toContain('PIN set.');
    expect(opens(current.privateKey, sentPin(s, 0), 'CARD-ROT-1')).toBe('6142');
    expect(trail(s).some((record) => record.type === 'processor-key')).toBe(false);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, takesOverAt + 1_500 - Date.now())));
    await s.operator.getByRole('button', { name: 'Next card' }).click();
    await startCard(s.operator, 'CARD-ROT-2', 'Customer chooses PIN');
    await enterAndConfirm(s.pinpad, '6142');
    // This sandbox holds only the old private key, so it cannot open the new pin: the wire shows which key was used.
    await expect.poll(() => statusText(s.operator)).toContain('invalid_pin_block');
    const second = sentPin(s, 1);
    expect(opens(next.privateKey, second, 'CARD-ROT-2')).toBe('6142');
    expect(opens(current.privateKey, second, 'CARD-ROT-2')).toBeNull();

    expect(await s.keyStore.get('pin-public-key-next')).toBeNull();
    expect(await s.keyStore.get('pin-public-key')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const switches = trail(s).filter((record) => record.type === 'processor-key');
    expect(switches).toHaveLength(1);
    expect(switches[0]).toMatchObject({
      event: 'promoted',
      cause: 'not-before',
      oldKcv: spkiSha256(current.publicKey).slice(0, 10).toUpperCase(),
      newKcv: spkiSha256(next.publicKey).slice(0, 10).toUpperCase(),
      processor: 'sandbox',
    });
    // The switch came before the attempt it was made for.
    const records = trail(s);
    const switchIndex = records.findIndex((record) => record.type === 'processor-key');
    const attemptIndex = records.findIndex((record) => record.type === 'attempt' && record.cardId === 'CARD-ROT-2');
    expect(switchIndex).toBeGreaterThan(-1);
    expect(switchIndex).toBeLessThan(attemptIndex);
  });
});
