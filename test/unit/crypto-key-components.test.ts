/**
 * Key components and KCVs (main/crypto/key-components.ts, kcv.ts): the key is the XOR of its components, and its
 * KCVs are those of that key. Expected values were computed outside this code (Python's XOR, `openssl enc
 * -aes-256-ecb` and `openssl mac ... CMAC` over a zero block).
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, combineComponents, isAllZero, kcv, kcvMatches, normalizeAesKcv } from '../../main/crypto';

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));
const C1 = '0123456789ABCDEFFEDCBA98765432100F1E2D3C4B5A69788796A5B4C3D2E1F0';
const C2 = '1111111111111111222222222222222233333333333333334444444444444444';
const C3 = 'A5A5A5A5A5A5A5A55A5A5A5A5A5A5A5AFFFFFFFFFFFFFFFF0000000000000000';

describe('combineComponents', () => {
  it('two components: their XOR', () => {
    expect(bytesToHex(combineComponents([hex(C1), hex(C2)]))).toBe('1032547698BADCFEDCFE98BA547610323C2D1E0F78695A4BC3D2E1F08796A5B4');
  });

  it('three components: their XOR, whose KCVs are the whole key`s (openssl)', () => {
    const key = combineComponents([hex(C1), hex(C2), hex(C3)]);
    expect(bytesToHex(key)).toBe('B597F1D33D1F795B86A4C2E00E2C4A68C3D2E1F08796A5B4C3D2E1F08796A5B4');
    expect(kcv(key)).toEqual({ cmac: '190E81FAA8', legacy: 'DC0D1C' });
    expect(kcvMatches(key, '190e81 faa8')).toBe(true);
    expect(kcvMatches(key, 'DC0D1C')).toBe(true);
  });

  it('does not change the components, and the order does not matter', () => {
    const a = hex(C1);
    const b = hex(C2);
    const c = hex(C3);
    expect(bytesToHex(combineComponents([c, a, b]))).toBe(bytesToHex(combineComponents([a, b, c])));
    expect(bytesToHex(a)).toBe(C1);
  });

  it('refuses one component, or a component that is not 32 bytes', () => {
    expect(() => combineComponents([hex(C1)])).toThrow(/at least 2 components/);
    expect(() => combineComponents([hex(C1), hex(C2).subarray(0, 16)])).toThrow(/32 bytes/);
  });

  it('two equal components make an all-zero key', () => {
    const key = combineComponents([hex(C1), hex(C1)]);
    expect(isAllZero(key)).toBe(true);
    expect(isAllZero(hex(C1))).toBe(false);
    expect(isAllZero(hex('00'.repeat(31) + '01'))).toBe(false);
  });
});

describe('normalizeAesKcv', () => {
  it('takes 10 or 6 hex characters in any case, with spaces', () => {
    expect(normalizeAesKcv('19 0e 81 fa a8')).toBe('190E81FAA8');
    expect(normalizeAesKcv('dc0d1c')).toBe('DC0D1C');
  });
  it('refuses any other length or a non-hex character', () => {
    for (const given of ['', 'DC0D1', 'DC0D1C0', '190E81FAA8A', 'DC0D1G']) expect(normalizeAesKcv(given)).toBeNull();
  });
});
