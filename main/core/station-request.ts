/**
 * One request to the processor for a card: the approval's last check, the write-ahead attempt record, the PIN
 * encrypted under the profile, and the processor's answer. Never throws: a failure is an outcome too, and the
 * attempt record's own fate decides what the caller records next.
 */
import { StationError, toErrorInfo } from '../../common/errors';
import type { StationErrorInfo } from '../../common/errors';
import type { PinMode } from '../../common/domain';
import type { ProcessorOutcome } from '../../common/ipc';
import { encryptPin } from '../crypto/profiles';
import type { Grant } from './approvals';
import type { CardApi } from './card-api-client';
import type { StationConfig } from './config';
import type { KeyStore } from './keystore';
import { requireEntry } from './keystore';
import type { Logger } from './log';
import type { StationKeys } from './station-keys';
import type { StationRecords } from './station-records';
import type { Card } from './station-state';

export interface RequestDeps {
  readonly config: StationConfig;
  readonly keyStore: KeyStore;
  readonly cardApi: CardApi;
  /** The approval desk's last check before a request goes out. */
  readonly approvals?: { confirmAtSend(grant: Grant, cardId: string, mode: PinMode, operator: string): void };
}

export interface RequestResult {
  readonly outcome: ProcessorOutcome | null;
  readonly failure: StationErrorInfo | null;
  /** The attempt record's ID; undefined without a trail; null when it could not be written (nothing was sent). */
  readonly attemptId: string | null | undefined;
}

/** `digits` (wiped here, whatever happens) is null when the processor chooses the PIN; `pan` only for iso4. */
export async function sendRequest(
  parts: { readonly deps: RequestDeps; readonly log: Logger; readonly records: StationRecords; readonly keys: StationKeys },
  card: Card,
  digits: Uint8Array | null,
  pan: string | null,
): Promise<RequestResult> {
  const { deps, log, records, keys } = parts;
  let outcome: ProcessorOutcome | null = null;
  let failure: StationErrorInfo | null = null;
  let attemptId: string | null | undefined;
  let attemptWrite: Promise<string | undefined> | null = null;
  // The processor's key Start checked for this card (public-key profile), taken now whatever happens.
  const startKey = keys.takeStartKey();
  try {
    // The approval is checked again at the last moment before anything is written: it must be this card's, this
    // action's and this operator's.
    if (card.approval) {
      if (!deps.approvals) throw new StationError('APPROVAL_INVALID', 'Nothing was sent.');
      deps.approvals.confirmAtSend(card.approval, card.cardId, card.mode, card.operator);
    }
    // Only secrets are read here (api-token, and pin-key for gcm/iso4), at once: each read is a D-Bus round trip,
    // the largest cost between OK and the request on the wire (npm run bench). The processor's public key is
    // the one Start checked.
    const tokenRead = requireEntry(deps.keyStore, 'api-token');
    tokenRead.catch(() => undefined);
    // Write-ahead, begun now so its disk write overlaps the keychain reads and the encryption; it is awaited
    // below, before the first byte leaves. If anything fails after it landed, the outcome record closes it.
    attemptWrite = records.attempt(card);
    attemptWrite.catch(() => undefined);
    let pin: string | undefined;
    if (digits) pin = await encryptPin(deps.config.profile, keys.readKey, digits, { cardId: card.cardId, pan }, keys.rules(), startKey);
    digits?.fill(0);
    pan = null;
    const token = await tokenRead;
    // Write-ahead: the attempt is on disk before the first byte leaves; if it cannot be written, nothing is sent.
    attemptId = await attemptWrite;
    log.info('request.send', { cardId: card.cardId, mode: card.mode, withPin: pin !== undefined });
    outcome = await deps.cardApi.setPin(pin === undefined ? { cardId: card.cardId, token } : { cardId: card.cardId, pin, token });
    log.info('request.outcome', { cardId: card.cardId, status: outcome.status, requestStatus: outcome.requestStatus });
    if (outcome.status !== 'ok') failure = new StationError('PROCESSOR_REJECTED', `Request status: ${outcome.requestStatus}.`).toInfo();
  } catch (error) {
    failure = toErrorInfo(error);
    // Whatever failed, the attempt record's own fate decides what is recorded: its outcome, or nothing.
    if (attemptWrite && attemptId === undefined) {
      attemptId = await attemptWrite.then(
        (id) => id,
        () => null,
      );
    }
    if ((error as { attemptNotRecorded?: boolean }).attemptNotRecorded) attemptId = null;
    log.warn('request.failed', { cardId: card.cardId, code: failure.code });
  } finally {
    digits?.fill(0);
    pan = null;
  }
  return { outcome, failure, attemptId };
}
