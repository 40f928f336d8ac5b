/**
 * Key components (PCI PIN Security Requirements' split knowledge): an AES-256 key is the XOR of 2 or 3 components,
 * each held by a different custodian. The bytes here are the caller's to wipe.
 */
import { StationError } from '../../common/errors';

export const AES256_KEY_BYTES = 32;

/** Whether every byte is zero; looks at every byte, whatever it finds. */
export function isAllZero(bytes: Uint8Array): boolean {
  let any = 0;
  for (const byte of bytes) any |= byte;
  return any === 0;
}

/** The key the components make: their XOR, in a new buffer the caller wipes. */
export function combineComponents(components: readonly Uint8Array[]): Uint8Array {
  if (components.length < 2) throw new StationError('CRYPTO_FAILED', 'A key is made of at least 2 components.');
  if (components.some((component) => component.length !== AES256_KEY_BYTES)) {
    throw new StationError('CRYPTO_FAILED', `Each component is ${AES256_KEY_BYTES} bytes (AES-256).`);
  }
  const key = new Uint8Array(AES256_KEY_BYTES);
  for (const component of components) for (let i = 0; i < key.length; i++) key[i] = (key[i] as number) ^ (component[i] as number);
  return key;
}
