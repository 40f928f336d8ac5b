/** Key check values, so a key custodian can confirm a key without revealing it. */
import { StationError } from '../../common/errors';
import { AES_BLOCK_BYTES, withAes } from './aes-block';

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out.toUpperCase();
}

/** Doubling in GF(2^128) for CMAC subkeys (RFC 4493, section 2.3). */
function double(block: Uint8Array): Uint8Array {
  const out = new Uint8Array(AES_BLOCK_BYTES);
  for (let i = 0; i < AES_BLOCK_BYTES; i++) {
    out[i] = (((block[i] as number) << 1) | ((block[i + 1] ?? 0) >>> 7)) & 0xff;
  }
  if ((block[0] as number) & 0x80) out[AES_BLOCK_BYTES - 1] = (out[AES_BLOCK_BYTES - 1] as number) ^ 0x87;
  return out;
}

/** AES-CMAC (NIST SP 800-38B, RFC 4493) with node-forge's AES block primitive. */
export function aesCmac(key: Uint8Array, message: Uint8Array): Uint8Array {
  return withAes(key, (aes) => {
    const l = new Uint8Array(AES_BLOCK_BYTES);
    aes.encryptBlock(new Uint8Array(AES_BLOCK_BYTES), l);
    const k1 = double(l);
    const k2 = double(k1);
    const blocks = Math.max(1, Math.ceil(message.length / AES_BLOCK_BYTES));
    const complete = message.length > 0 && message.length % AES_BLOCK_BYTES === 0;
    const x = new Uint8Array(AES_BLOCK_BYTES);
    const y = new Uint8Array(AES_BLOCK_BYTES);
    for (let b = 0; b < blocks; b++) {
      const start = b * AES_BLOCK_BYTES;
      for (let i = 0; i < AES_BLOCK_BYTES; i++) {
        let m = message[start + i] ?? 0;
        if (b === blocks - 1) {
          if (!complete && start + i === message.length) m = 0x80;
          m ^= complete ? (k1[i] as number) : (k2[i] as number);
        }
        y[i] = (x[i] as number) ^ m;
      }
      aes.encryptBlock(y, x);
    }
    l.fill(0);
    k1.fill(0);
    k2.fill(0);
    y.fill(0);
    return x;
  });
}

export interface KeyCheckValues {
  /** AES-CMAC of a zero block, first 5 bytes, uppercase hex. */
  readonly cmac: string;
  /** AES-ECB of a zero block, first 3 bytes, uppercase hex (the legacy convention). */
  readonly legacy: string;
}

export function kcv(key: Uint8Array): KeyCheckValues {
  const zero = new Uint8Array(AES_BLOCK_BYTES);
  const mac = aesCmac(key, zero);
  const ecb = withAes(key, (aes) => {
    const out = new Uint8Array(AES_BLOCK_BYTES);
    aes.encryptBlock(zero, out);
    return out;
  });
  return { cmac: hex(mac.subarray(0, 5)), legacy: hex(ecb.subarray(0, 3)) };
}

/** An AES key's KCV as typed (any case, spaces anywhere), uppercase without spaces; null unless 10 hex (CMAC) or 6 (legacy). */
export function normalizeAesKcv(given: string): string | null {
  const normalized = given.replace(/\s+/g, '').toUpperCase();
  return /^[0-9A-F]{6}$|^[0-9A-F]{10}$/.test(normalized) ? normalized : null;
}

/** True when `given` (either convention, any case, optional spaces) matches the key. */
export function kcvMatches(key: Uint8Array, given: string): boolean {
  const normalized = normalizeAesKcv(given);
  if (normalized === null) {
    throw new StationError('CRYPTO_FAILED', 'A KCV is 6 hex characters (legacy) or 10 (CMAC).');
  }
  const values = kcv(key);
  return normalized === values.cmac || normalized === values.legacy;
}
