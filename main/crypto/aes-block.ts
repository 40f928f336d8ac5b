/**
 * node-forge's AES block primitive driven with 32-bit word arrays and
 * Uint8Arrays, so PIN-bearing data never passes through a binary string
 * (docs/architecture.md, "PIN secrecy", rule 3). forge.aes._expandKey/_updateBlock are the
 * block-level functions node-forge exports for this purpose; they are not in
 * its type definitions, hence the narrow interface below.
 */
import forge from 'node-forge';
import { StationError } from '../../common/errors';

interface ForgeAesBlock {
  _expandKey(key: number[], decrypt: boolean): number[];
  _updateBlock(schedule: number[], input: number[], output: number[], decrypt: boolean): void;
}

const forgeAes = (forge as unknown as { aes: ForgeAesBlock }).aes;

export const AES_BLOCK_BYTES = 16;

export function assertAesKey(key: Uint8Array): void {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new StationError('CRYPTO_FAILED', 'An AES key is 16, 24 or 32 bytes.');
  }
}

function readWords(bytes: Uint8Array, offset: number, count: number, out: number[]): void {
  for (let i = 0; i < count; i++) {
    const o = offset + 4 * i;
    out[i] = (((bytes[o] as number) << 24) | ((bytes[o + 1] as number) << 16) | ((bytes[o + 2] as number) << 8) | (bytes[o + 3] as number)) >>> 0;
  }
}

function writeWords(words: number[], out: Uint8Array, offset: number): void {
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as number;
    out[offset + 4 * i] = (w >>> 24) & 0xff;
    out[offset + 4 * i + 1] = (w >>> 16) & 0xff;
    out[offset + 4 * i + 2] = (w >>> 8) & 0xff;
    out[offset + 4 * i + 3] = w & 0xff;
  }
}

/** One AES key schedule. Call destroy() when done: it zeroes the schedules. */
export class AesBlockCipher {
  private encryptSchedule: number[];
  private decryptSchedule: number[] | null = null;
  private readonly keyWords: number[];
  // Scratch words reused for every block, zeroed by destroy().
  private readonly inWords = [0, 0, 0, 0];
  private readonly outWords = [0, 0, 0, 0];

  constructor(key: Uint8Array) {
    assertAesKey(key);
    this.keyWords = new Array<number>(key.length / 4).fill(0);
    readWords(key, 0, key.length / 4, this.keyWords);
    this.encryptSchedule = forgeAes._expandKey(this.keyWords, false);
  }

  encryptBlock(input: Uint8Array, output: Uint8Array): void {
    this.run(this.encryptSchedule, input, output, false);
  }

  decryptBlock(input: Uint8Array, output: Uint8Array): void {
    this.decryptSchedule ??= forgeAes._expandKey(this.keyWords, true);
    this.run(this.decryptSchedule, input, output, true);
  }

  destroy(): void {
    this.encryptSchedule.fill(0);
    this.decryptSchedule?.fill(0);
    this.keyWords.fill(0);
    this.inWords.fill(0);
    this.outWords.fill(0);
  }

  private run(schedule: number[], input: Uint8Array, output: Uint8Array, decrypt: boolean): void {
    if (input.length !== AES_BLOCK_BYTES || output.length !== AES_BLOCK_BYTES) {
      throw new StationError('CRYPTO_FAILED', 'An AES block is 16 bytes.');
    }
    readWords(input, 0, 4, this.inWords);
    forgeAes._updateBlock(schedule, this.inWords, this.outWords, decrypt);
    writeWords(this.outWords, output, 0);
  }
}

/** Runs `use` with a cipher for `key` and always destroys the schedule afterwards. */
export function withAes<T>(key: Uint8Array, use: (cipher: AesBlockCipher) => T): T {
  const cipher = new AesBlockCipher(key);
  try {
    return use(cipher);
  } finally {
    cipher.destroy();
  }
}

export function xorInto(target: Uint8Array, other: Uint8Array): void {
  for (let i = 0; i < target.length; i++) target[i] = (target[i] as number) ^ (other[i] ?? 0);
}

/** Constant-time comparison of two byte arrays. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
