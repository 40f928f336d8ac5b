/**
 * One cardholder's PIN entry. The pad reports key positions; this class owns
 * the layout and keeps digits as numbers in Uint8Arrays that it wipes on every
 * exit path. Nothing here ever turns a digit into a string.
 */
import { StationError } from '../../common/errors';
import type { ErrorCode } from '../../common/errors';
import type { PadStep } from '../../common/ipc';
import { KEY_POSITIONS } from '../../common/ipc';

export interface PinPolicy {
  readonly minLength: number;
  readonly maxLength: number;
  /** Refuse one digit repeated (1111). Default true. */
  readonly rejectRepeated?: boolean;
  /** Refuse ascending or descending runs (1234, 9876, 0123). Default true. */
  readonly rejectSequences?: boolean;
  /** PINs refused outright (common choices), as digit strings. */
  readonly denyList?: readonly string[];
  /** Confirmation mismatches before the entry restarts from the first step. Default 3. */
  readonly maxMismatches?: number;
}

/** The codes of the weak-PIN rules: the pad names the rule, the log only that a policy refused the PIN. */
export const WEAK_PIN_CODES = ['PIN_REPEATED', 'PIN_SEQUENCE', 'PIN_DENIED'] as const satisfies readonly ErrorCode[];
export type WeakPinCode = (typeof WEAK_PIN_CODES)[number];

export function isWeakPinCode(code: ErrorCode): code is WeakPinCode {
  return (WEAK_PIN_CODES as readonly ErrorCode[]).includes(code);
}

/** Weak-PIN rules, checked on the digits without ever making them a string. */
export function weakPinReason(digits: Uint8Array, policy: PinPolicy, denyList: readonly Uint8Array[]): WeakPinCode | null {
  const first = digits[0] as number;
  if ((policy.rejectRepeated ?? true) && digits.every((d) => d === first)) return 'PIN_REPEATED';
  if (policy.rejectSequences ?? true) {
    for (const step of [1, -1]) {
      let run = true;
      for (let i = 1; i < digits.length && run; i++) run = (digits[i] as number) - (digits[i - 1] as number) === step;
      if (run) return 'PIN_SEQUENCE';
    }
  }
  for (const denied of denyList) {
    if (denied.length !== digits.length) continue;
    let diff = 0;
    for (let i = 0; i < digits.length; i++) diff |= (digits[i] as number) ^ (denied[i] as number);
    if (diff === 0) return 'PIN_DENIED';
  }
  return null;
}

/** Phone-style layout: keys 1-9 then 0 in the bottom row. */
export const FIXED_LAYOUT: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0];

export type RandomSource = (length: number) => Uint8Array;
const cryptoRandom: RandomSource = (length) => globalThis.crypto.getRandomValues(new Uint8Array(length));

/** Fisher-Yates with rejection sampling, so every layout is equally likely. */
export function shuffledLayout(random: RandomSource = cryptoRandom): Uint8Array {
  const layout = Uint8Array.from(FIXED_LAYOUT);
  for (let i = layout.length - 1; i > 0; i--) {
    const bound = i + 1;
    const limit = 256 - (256 % bound);
    let r: number;
    do r = random(1)[0] as number;
    while (r >= limit);
    const j = r % bound;
    const tmp = layout[i] as number;
    layout[i] = layout[j] as number;
    layout[j] = tmp;
  }
  return layout;
}

export type SubmitResult = { readonly kind: 'confirm' } | { readonly kind: 'complete'; readonly digits: Uint8Array };

export class PinSession {
  readonly layout: Uint8Array;
  private readonly entry: Uint8Array;
  private readonly confirmation: Uint8Array;
  private entryLength = 0;
  private confirmationLength = 0;
  private currentStep: PadStep = 'enter';
  private closed = false;
  private mismatchCount = 0;
  private restartCount = 0;
  private readonly denyList: readonly Uint8Array[];

  constructor(
    readonly policy: PinPolicy,
    options: { shuffle?: boolean; random?: RandomSource } = {},
  ) {
    this.layout = options.shuffle ? shuffledLayout(options.random) : Uint8Array.from(FIXED_LAYOUT);
    this.entry = new Uint8Array(policy.maxLength);
    this.confirmation = new Uint8Array(policy.maxLength);
    this.denyList = (policy.denyList ?? []).map((pin) => Uint8Array.from(pin, (c) => c.charCodeAt(0) - 48));
  }

  /** Confirmation mismatches since the current first entry. */
  get mismatches(): number {
    return this.mismatchCount;
  }

  /** Times the entry restarted from the first step after too many mismatches. */
  get restarts(): number {
    return this.restartCount;
  }

  get step(): PadStep {
    return this.currentStep;
  }

  get count(): number {
    return this.currentStep === 'enter' ? this.entryLength : this.confirmationLength;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  press(position: number): void {
    this.assertOpen();
    if (!Number.isInteger(position) || position < 0 || position >= KEY_POSITIONS) {
      throw new StationError('INVALID_REQUEST');
    }
    if (this.count >= this.policy.maxLength) throw new StationError('PIN_TOO_LONG');
    const digit = this.layout[position] as number;
    if (this.currentStep === 'enter') this.entry[this.entryLength++] = digit;
    else this.confirmation[this.confirmationLength++] = digit;
  }

  erase(): void {
    this.assertOpen();
    if (this.currentStep === 'enter') {
      if (this.entryLength > 0) this.entry[--this.entryLength] = 0;
    } else if (this.confirmationLength > 0) {
      this.confirmation[--this.confirmationLength] = 0;
    }
  }

  clear(): void {
    this.assertOpen();
    if (this.currentStep === 'enter') {
      this.entry.fill(0);
      this.entryLength = 0;
    } else {
      this.confirmation.fill(0);
      this.confirmationLength = 0;
    }
  }

  /**
   * First submit checks the policy and moves to the confirmation step. The
   * second returns a copy of the digits (the caller wipes it) and closes the
   * session. A mismatch clears the confirmation; after `maxMismatches` of them
   * both entries are wiped and entry starts again from the first step.
   */
  submit(): SubmitResult {
    this.assertOpen();
    if (this.count < this.policy.minLength) throw new StationError('PIN_TOO_SHORT', `Enter at least ${this.policy.minLength} digits.`);
    if (this.currentStep === 'enter') {
      const entered = this.entry.subarray(0, this.entryLength);
      const weak = weakPinReason(entered, this.policy, this.denyList);
      if (weak) {
        this.clear();
        throw new StationError(weak);
      }
      this.currentStep = 'confirm';
      return { kind: 'confirm' };
    }
    const same = this.entryLength === this.confirmationLength && constantTimeEqual(this.entry, this.confirmation);
    if (!same) {
      this.confirmation.fill(0);
      this.confirmationLength = 0;
      this.mismatchCount++;
      if (this.mismatchCount >= (this.policy.maxMismatches ?? 3)) {
        this.restart();
        this.restartCount++;
        throw new StationError('PIN_MISMATCH_LIMIT');
      }
      throw new StationError('PIN_MISMATCH');
    }
    const digits = this.entry.slice(0, this.entryLength);
    this.wipe();
    return { kind: 'complete', digits };
  }

  /** Zeroes every digit and closes the session; safe to call more than once. */
  wipe(): void {
    this.entry.fill(0);
    this.confirmation.fill(0);
    this.entryLength = 0;
    this.confirmationLength = 0;
    this.closed = true;
  }

  private restart(): void {
    this.entry.fill(0);
    this.confirmation.fill(0);
    this.entryLength = 0;
    this.confirmationLength = 0;
    this.mismatchCount = 0;
    this.currentStep = 'enter';
  }

  private assertOpen(): void {
    if (this.closed) throw new StationError('NO_SESSION');
  }
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
