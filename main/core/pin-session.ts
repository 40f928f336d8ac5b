/**
 * One cardholder's PIN entry. The pad reports key positions; this class owns
 * the layout and keeps digits as numbers in Uint8Arrays that it wipes on every
 * exit path. Nothing here ever turns a digit into a string.
 */
import { StationError } from '../../common/errors';
import type { PadStep } from '../../common/ipc';
import { KEY_POSITIONS } from '../../common/ipc';

export interface PinPolicy {
  readonly minLength: number;
  readonly maxLength: number;
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

  constructor(
    readonly policy: PinPolicy,
    options: { shuffle?: boolean; random?: RandomSource } = {},
  ) {
    this.layout = options.shuffle ? shuffledLayout(options.random) : Uint8Array.from(FIXED_LAYOUT);
    this.entry = new Uint8Array(policy.maxLength);
    this.confirmation = new Uint8Array(policy.maxLength);
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
   * First submit moves to the confirmation step. The second returns a copy of
   * the digits (the caller wipes it) and closes the session; a mismatch wipes
   * both entries and starts again from the first step.
   */
  submit(): SubmitResult {
    this.assertOpen();
    if (this.count < this.policy.minLength) throw new StationError('PIN_TOO_SHORT', `Enter at least ${this.policy.minLength} digits.`);
    if (this.currentStep === 'enter') {
      this.currentStep = 'confirm';
      return { kind: 'confirm' };
    }
    const same = this.entryLength === this.confirmationLength && constantTimeEqual(this.entry, this.confirmation);
    if (!same) {
      this.restart();
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
