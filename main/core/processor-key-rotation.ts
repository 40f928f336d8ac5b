/**
 * Rotation of the processor's key without downtime: `keys import pin-public-key --next` stages the new
 * certificate in pin-public-key-next; it becomes pin-public-key on its notBefore (checked by the station at
 * start-up and at every Start) or when an administrator runs `keys promote`. Each switch is an audit record.
 */
import { StationError } from '../../common/errors';
import type { AuditProcessorKeyEntry } from './audit';
import { parseProcessorKey } from '../crypto/processor-key';
import type { ProcessorKey } from '../crypto/processor-key';
import { NEXT_PROCESSOR_KEY_ACCOUNT } from './keystore';
import type { KeyStore } from './keystore';

export type PromotionCause = AuditProcessorKeyEntry['cause'];

/** The staged key, or null when none is staged; KEYCHAIN_ENTRY_MALFORMED when it cannot be read. */
export async function readNextProcessorKey(store: KeyStore): Promise<{ readonly text: string; readonly key: ProcessorKey } | null> {
  const text = await store.get(NEXT_PROCESSOR_KEY_ACCOUNT);
  if (text === null || text.length === 0) return null;
  try {
    return { text, key: parseProcessorKey(text) };
  } catch {
    throw new StationError(
      'KEYCHAIN_ENTRY_MALFORMED',
      `Entry "${NEXT_PROCESSOR_KEY_ACCOUNT}" must be a PEM certificate or RSA public key. Fix: npm run keys -- import pin-public-key --next --replace`,
    );
  }
}

/**
 * Makes the staged key current: the record is written first, so a switch is never without one (a keychain
 * failure after it leaves the staged key in place, and the next try records again). Returns the record written,
 * or null when nothing was staged or (cause "not-before") its notBefore has not come.
 */
export async function promoteNextProcessorKey(
  store: KeyStore,
  cause: PromotionCause,
  now: Date,
  record: (entry: Omit<AuditProcessorKeyEntry, 'stationId' | 'processor'>) => Promise<unknown>,
): Promise<Omit<AuditProcessorKeyEntry, 'stationId' | 'processor'> | null> {
  const next = await readNextProcessorKey(store);
  if (next === null) return null;
  // A bare key has no date of its own: only `keys promote` makes it current.
  if (cause === 'not-before' && (next.key.notBefore === null || next.key.notBefore.getTime() > now.getTime())) return null;
  const currentText = await store.get('pin-public-key');
  let oldKcv: string | null = null;
  if (currentText !== null) {
    try {
      oldKcv = parseProcessorKey(currentText).kcv;
    } catch {
      oldKcv = null;
    }
  }
  const entry = {
    type: 'processor-key' as const,
    event: 'promoted' as const,
    cause,
    oldKcv,
    newKcv: next.key.kcv,
    notAfter: next.key.notAfter?.toISOString() ?? null,
  };
  await record(entry);
  await store.set('pin-public-key', next.text);
  await store.delete(NEXT_PROCESSOR_KEY_ACCOUNT);
  return entry;
}
