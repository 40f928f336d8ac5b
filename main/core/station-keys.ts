/**
 * The Station's keys: the api-token and the key its profile needs, checked at start-up and at every Start; with
 * the public-key profile, a staged next key promoted (on record) once its notBefore has come, and the processor's
 * key checked against its pin and validity.
 */
import { PRINTABLE_TOKEN } from '../../common/domain';
import type { PinMode } from '../../common/domain';
import { StationError } from '../../common/errors';
import { assertProcessorKeyUsable } from '../crypto/processor-key';
import type { ProcessorKey } from '../crypto/processor-key';
import { checkProfileKey } from '../crypto/profiles';
import type { KeyReader, ProcessorKeyRules } from '../crypto/profiles';
import type { StationConfig } from './config';
import type { KeyStore } from './keystore';
import { requireEntry } from './keystore';
import type { Logger } from './log';
import { promoteNextProcessorKey } from './processor-key-rotation';
import type { StationRecords } from './station-records';

export interface KeysDeps {
  /** Read at each check: a policy may change the profile between cards. */
  readonly config: StationConfig;
  readonly keyStore: KeyStore;
}

export class StationKeys {
  /** The processor's key as last read (public-key profile), for the operator window's expiry line. */
  processorKey: ProcessorKey | null = null;
  /**
   * The processor's key this card's Start read and checked, for its PIN: the submit then reads only the token. It
   * is public (nothing secret is held); a key replaced in the keychain takes effect at the next Start. Start opens
   * one card at a time, between cards, so the key held is always the current card's.
   */
  private startKey: ProcessorKey | null = null;
  readonly readKey: KeyReader;

  constructor(
    private readonly deps: KeysDeps,
    private readonly log: Logger,
    private readonly records: StationRecords,
  ) {
    this.readKey = (account) => requireEntry(deps.keyStore, account);
  }

  /** What the processor's key must satisfy now: the pin from config or policy, and its validity. */
  rules(): ProcessorKeyRules {
    return { pins: this.deps.config.processor.publicKeySha256, now: new Date() };
  }

  /** Startup check: the token and the key the profile needs are present and well-formed. */
  async preflight(): Promise<void> {
    const token = await requireEntry(this.deps.keyStore, 'api-token');
    if (!PRINTABLE_TOKEN.test(token)) {
      throw new StationError(
        'KEYCHAIN_ENTRY_MALFORMED',
        'Entry "api-token" must be printable ASCII without spaces. Fix: npm run keys -- import api-token --replace',
      );
    }
    if (this.deps.config.profile !== 'public-key') {
      await checkProfileKey(this.deps.config.profile, this.readKey);
      return;
    }
    try {
      await this.refreshProcessorKey(this.rules());
    } catch (error) {
      // An expired key still lets the station start: the operator window says so, and every Start is refused.
      if (!(error instanceof StationError && error.code === 'PROCESSOR_KEY_EXPIRED')) throw error;
    }
  }

  /**
   * A Start's check, before anyone types a PIN. The processor's key is checked at every Start (pin and validity),
   * whatever the mode: a swapped key means this station's keychain is not what the bank provisioned. `checked` is
   * told once it was read (the operator window shows its expiry), whether or not it passed.
   */
  async checkAtStart(mode: PinMode, checked: () => void): Promise<void> {
    this.startKey = null;
    // Both entries are asked for together: each is a keychain round trip, and the operator waits for Start.
    const token = requireEntry(this.deps.keyStore, 'api-token');
    let profileKey: Promise<unknown> = Promise.resolve();
    const publicKey = this.deps.config.profile === 'public-key';
    if (publicKey) {
      // A staged key is promoted (a keychain write and a record) only once the token was read: a Start refused
      // for its token changes nothing.
      profileKey = this.refreshProcessorKey(this.rules(), token).finally(checked);
    } else if (mode === 'customer') profileKey = checkProfileKey(this.deps.config.profile, this.readKey);
    // The token's failure is reported first, as when they were read one after the other.
    const [tokenResult, keyResult] = await Promise.allSettled([token, profileKey]);
    if (tokenResult.status === 'rejected') throw tokenResult.reason;
    if (keyResult.status === 'rejected') throw keyResult.reason;
    if (publicKey) this.startKey = this.processorKey;
  }

  /** The key this card's Start checked (null if none), handed over once: its PIN is sent, or the card ends. */
  takeStartKey(): ProcessorKey | null {
    const key = this.startKey;
    this.startKey = null;
    return key;
  }

  /**
   * A staged next key whose notBefore has come becomes current, on record; then the current key is checked.
   * `ready` (the token's read) must succeed before anything is promoted.
   */
  private async refreshProcessorKey(rules: ProcessorKeyRules, ready: Promise<unknown> = Promise.resolve()): Promise<void> {
    if (this.deps.config.profile !== 'public-key') return;
    // The current key is asked for together with the staged one (usually none): one round trip, not two.
    const current = checkProfileKey('public-key', this.readKey);
    current.catch(() => undefined);
    // The record comes before any keychain write, so waiting for `ready` there keeps the reads together.
    const promoted = await promoteNextProcessorKey(this.deps.keyStore, 'not-before', new Date(), (entry) => ready.then(() => this.records.append(entry)));
    if (promoted) this.log.info('processor-key.promoted', { cause: promoted.cause, oldKcv: promoted.oldKcv, newKcv: promoted.newKcv });
    // After a switch the key read beside it is the old one: read the new one.
    this.processorKey = promoted ? await checkProfileKey('public-key', this.readKey) : await current;
    if (this.processorKey) assertProcessorKeyUsable(this.processorKey, rules.pins, rules.now);
  }
}
