/**
 * How the accounts file keeps a TOTP secret: AES-256-GCM with the user name in the AAD. The known answer was
 * computed independently (Python `cryptography`, AESGCM) for key 00..1f, IV 00..0b, AAD
 * "pin-station-staff-totp-v1\nanna.k" and RFC 6238's SHA-1 test key in base32.
 */
import { describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../../main/core/keystore';
import { matchSealedTotp, openSecret, sealSecret, sealTotp } from '../../main/core/staff/totp-seal';
import { currentTotp, totpStep } from '../../main/core/staff/totp';
import { TEST_TOTP_SECRET } from '../helpers/staff';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const KNOWN = {
  iv: '000102030405060708090a0b',
  data: '00478c5f82ab804dca18a4dfe0a6323cc493dd70b7351d2a7f3ed6d14c264ae3',
  tag: '51f351b9cd7da3c7749dfbfb3b710731',
};

describe('TOTP secret sealing', () => {
  it('opens the known answer, and only for the account it was sealed for, unedited', () => {
    expect(openSecret(KEY, 'anna.k', KNOWN)).toBe(TEST_TOTP_SECRET);
    expect(() => openSecret(KEY, 'boris.s', KNOWN)).toThrow(expect.objectContaining({ code: 'STAFF_STORE_INVALID' }));
    expect(() => openSecret(KEY, 'anna.k', { ...KNOWN, tag: `${KNOWN.tag.slice(0, -1)}0` })).toThrow(expect.objectContaining({ code: 'STAFF_STORE_INVALID' }));
  });

  it('seals with a fresh IV each time, and what it seals opens again', () => {
    const a = sealSecret(KEY, 'anna.k', TEST_TOTP_SECRET);
    const b = sealSecret(KEY, 'anna.k', TEST_TOTP_SECRET);
    expect(a.iv).not.toBe(b.iv);
    expect(a.data).not.toContain(Buffer.from(TEST_TOTP_SECRET).toString('hex'));
    expect(openSecret(KEY, 'anna.k', b)).toBe(TEST_TOTP_SECRET);
  });

  it('makes its keychain entry on the first enrolment; a missing or malformed entry is a typed refusal', async () => {
    const keyStore = new MemoryKeyStore();
    const now = new Date();
    const sealed = await sealTotp(keyStore, 'anna.k', TEST_TOTP_SECRET, null);
    expect(await keyStore.get('staff-mfa-key')).toMatch(/^[0-9A-F]{64}$/);
    expect(await matchSealedTotp(keyStore, 'anna.k', sealed, currentTotp(TEST_TOTP_SECRET, now), now)).toBe(totpStep(now));
    await keyStore.set('staff-mfa-key', '');
    await expect(matchSealedTotp(keyStore, 'anna.k', sealed, '000000', now)).rejects.toMatchObject({ code: 'STAFF_STORE_INVALID' });
    await keyStore.set('staff-mfa-key', 'not-hex');
    await expect(matchSealedTotp(keyStore, 'anna.k', sealed, '000000', now)).rejects.toMatchObject({ code: 'KEYCHAIN_ENTRY_MALFORMED' });
  });
});
