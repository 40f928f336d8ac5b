/** Stable crypto API of the station (profiles per DESIGN.md section 5). */
export { encodePinField, decodePinField, PIN_MIN_LENGTH, PIN_MAX_LENGTH } from './pin-field';
export { encryptGcm, decryptGcm, GCM_NONCE_BYTES, GCM_TAG_BYTES } from './gcm';
export type { GcmOptions } from './gcm';
export { parseAes256KeyHex, bytesToHex } from './keys';
