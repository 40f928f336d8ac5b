/**
 * Encryption per profile: the product functions (main/crypto, node-forge's AES
 * block primitive and RSA) against the same construction on node:crypto
 * (OpenSSL). Informational: the station encrypts one PIN per card, so what
 * matters is the per-operation cost next to the pipeline's, not throughput.
 * Each side produces the same wire format, checked once by decrypting both
 * with the product's decrypt functions.
 */
import { PROFILE_NAMES } from '../../common/domain';
import type { ProfileName } from '../../common/domain';
import { constants, createCipheriv, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import { decryptGcm, encryptGcm } from '../../main/crypto/gcm';
import { decryptIso4Hex, encodePanField, encryptIso4Hex } from '../../main/crypto/iso4';
import { encodePinField } from '../../main/crypto/pin-field';
import { decryptRsaOaep, encryptRsaOaep } from '../../main/crypto/rsa-oaep';
import { median, spreadOf } from './stats';
import type { Spread } from './stats';

export type { ProfileName } from '../../common/domain';
export const PROFILES = PROFILE_NAMES;

export interface CryptoOptions {
  /** Length of one timed round per implementation. */
  readonly roundMs: number;
  /** Rounds, alternating which implementation goes first. */
  readonly rounds: number;
}

export interface CryptoProfileResult {
  readonly forgeOpsPerSec: number;
  readonly nodeOpsPerSec: number;
  /** node:crypto ops/s ÷ node-forge ops/s, per round. */
  readonly ratio: Spread;
  /** Mean time of one product (node-forge) encryption, from the median round. */
  readonly forgeMsPerOp: number;
  readonly nodeMsPerOp: number;
}

export interface CryptoResult {
  readonly roundMs: number;
  readonly rounds: number;
  readonly profiles: Readonly<Record<ProfileName, CryptoProfileResult>>;
}

const CARD_ID = 'BENCH-C-000001';
const PAN = '4000001234567899';

function nodeSealPinField(key: Buffer, digits: Uint8Array, cardId: string): Buffer {
  const nonce = randomBytes(12);
  const random8 = randomBytes(8);
  const field = encodePinField(digits, random8);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(cardId, 'utf8'));
  const sealed = Buffer.concat([nonce, cipher.update(field), cipher.final(), cipher.getAuthTag()]);
  field.fill(0);
  random8.fill(0);
  return sealed;
}

function nodeIso4Hex(key: Buffer, digits: Uint8Array, pan: string): string {
  const random8 = randomBytes(8);
  const field = encodePinField(digits, random8);
  const ecb = (block: Uint8Array): Buffer => {
    const cipher = createCipheriv('aes-256-ecb', key, null);
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(block), cipher.final()]);
  };
  const intermediate = ecb(field);
  const panField = encodePanField(pan);
  for (let i = 0; i < 16; i++) intermediate[i] = (intermediate[i] as number) ^ (panField[i] as number);
  const block = ecb(intermediate);
  field.fill(0);
  intermediate.fill(0);
  return block.toString('hex').toUpperCase();
}

function nodeRsaOaep(publicKeyPem: string, digits: Uint8Array, cardId: string): string {
  const sessionKey = randomBytes(32);
  const sealed = nodeSealPinField(sessionKey, digits, cardId);
  // The PEM is parsed per operation, as the product does (it reads the key from the keychain each time).
  const wrapped = publicEncrypt({ key: publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, sessionKey);
  sessionKey.fill(0);
  return Buffer.concat([wrapped, sealed]).toString('base64');
}

/** Ops per second of `fn` over about `ms` milliseconds. */
function opsPerSecond(fn: () => unknown, ms: number): number {
  let ops = 0;
  const start = performance.now();
  let now = start;
  do {
    fn();
    ops++;
    now = performance.now();
  } while (now - start < ms);
  return (ops * 1000) / (now - start);
}

export async function runCryptoBench(options: CryptoOptions): Promise<CryptoResult> {
  const keyBytes = randomBytes(32);
  const key = new Uint8Array(keyBytes);
  const digits = Uint8Array.from([1, 3, 5, 7]);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });

  const impls: Record<ProfileName, { forge: () => string; node: () => string; check: (wire: string) => number[] }> = {
    gcm: {
      forge: () => encryptGcm(key, digits, CARD_ID),
      node: () => nodeSealPinField(keyBytes, digits, CARD_ID).toString('base64'),
      check: (wire) => Array.from(decryptGcm(key, wire, CARD_ID)),
    },
    iso4: {
      forge: () => encryptIso4Hex(key, digits, PAN),
      node: () => nodeIso4Hex(keyBytes, digits, PAN),
      check: (wire) => Array.from(decryptIso4Hex(key, wire, PAN)),
    },
    'public-key': {
      forge: () => encryptRsaOaep(publicKey, digits, CARD_ID),
      node: () => nodeRsaOaep(publicKey, digits, CARD_ID),
      check: (wire) => Array.from(decryptRsaOaep(privateKey, wire, CARD_ID)),
    },
  };

  const profiles = {} as Record<ProfileName, CryptoProfileResult>;
  for (const profile of PROFILES) {
    const impl = impls[profile];
    // Both sides must produce the same wire format, or the comparison means nothing.
    for (const side of ['forge', 'node'] as const) {
      const opened = impl.check(impl[side]());
      if (opened.join(',') !== Array.from(digits).join(',')) throw new Error(`crypto ${profile}/${side}: output does not decrypt to the PIN`);
    }
    // Warm up both (JIT, OpenSSL contexts) before timing.
    opsPerSecond(impl.forge, Math.min(100, options.roundMs));
    opsPerSecond(impl.node, Math.min(100, options.roundMs));
    const forgeRates: number[] = [];
    const nodeRates: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      if (round % 2 === 0) {
        forgeRates.push(opsPerSecond(impl.forge, options.roundMs));
        nodeRates.push(opsPerSecond(impl.node, options.roundMs));
      } else {
        nodeRates.push(opsPerSecond(impl.node, options.roundMs));
        forgeRates.push(opsPerSecond(impl.forge, options.roundMs));
      }
      // Let timers and I/O run between rounds.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const forgeOpsPerSec = median(forgeRates);
    const nodeOpsPerSec = median(nodeRates);
    profiles[profile] = {
      forgeOpsPerSec,
      nodeOpsPerSec,
      ratio: spreadOf(nodeRates.map((rate, i) => rate / (forgeRates[i] as number))),
      forgeMsPerOp: 1000 / forgeOpsPerSec,
      nodeMsPerOp: 1000 / nodeOpsPerSec,
    };
  }
  key.fill(0);
  keyBytes.fill(0);
  return { roundMs: options.roundMs, rounds: options.rounds, profiles };
}
