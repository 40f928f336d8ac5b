/** Stable crypto API of the station (profiles: docs/architecture.md, "The PIN's path"). Digits are Uint8Arrays of 0..9. */
export { encodePinField, decodePinField, PIN_MIN_LENGTH, PIN_MAX_LENGTH } from './pin-field';
export { encodePanField, encipherIso4, decipherIso4, encryptIso4Hex, decryptIso4Hex } from './iso4';
export { encryptGcm, decryptGcm, GCM_NONCE_BYTES, GCM_TAG_BYTES } from './gcm';
export type { GcmOptions } from './gcm';
export { encryptRsaOaep, decryptRsaOaep, parseRsaPublicKey, RSA_MIN_BITS } from './rsa-oaep';
export type { RsaOaepOptions } from './rsa-oaep';
export { kcv, kcvMatches, aesCmac, normalizeAesKcv } from './kcv';
export { AES256_KEY_BYTES, combineComponents, isAllZero } from './key-components';
export type { KeyCheckValues } from './kcv';
export { parseAes256KeyHex, bytesToHex } from './keys';
export { assertProcessorKeyUsable, daysToExpiry, matchesPin, parseProcessorKey, processorKeyEntry } from './processor-key';
export type { ProcessorKey } from './processor-key';
