/** A cardholder's entry in progress: the digits (in its PinSession), its two timeouts and the pad's notice. */
import type { StationErrorInfo } from '../../common/errors';
import type { StationConfig } from './config';
import { PinSession } from './pin-session';
import type { RandomSource } from './pin-session';

export interface Entry {
  readonly session: PinSession;
  /** Only for the iso4 profile; dropped as soon as the request is built, never shown or logged. */
  pan: string | null;
  notice: StationErrorInfo | null;
  inactivityTimer: NodeJS.Timeout | undefined;
  sessionTimer: NodeJS.Timeout | undefined;
  // Publishes once a second during entry so both windows can show the time left.
  ticker: NodeJS.Timeout | undefined;
  inactivityDeadline: number;
  sessionDeadline: number;
}

/** What an entry is told: it timed out (`timeout`), or a second passed (`tick`, so both windows show the time left). */
export interface EntryClock {
  timeout(entry: Entry): void;
  tick(): void;
}

/** A new entry under the settings in effect, its timers running. */
export function startEntry(config: StationConfig, random: RandomSource | undefined, pan: string | null, clock: EntryClock, audio: boolean): Entry {
  const entry: Entry = {
    // Audio guidance describes where each key is: its keypad is never shuffled.
    session: new PinSession(config.pin, { shuffle: config.pad.shuffle && !audio, random }),
    pan,
    notice: null,
    inactivityTimer: undefined,
    sessionTimer: undefined,
    ticker: undefined,
    inactivityDeadline: 0,
    sessionDeadline: 0,
  };
  const { sessionTimeoutMs } = config.pin;
  entry.sessionDeadline = Date.now() + sessionTimeoutMs;
  entry.sessionTimer = setTimeout(() => clock.timeout(entry), sessionTimeoutMs);
  entry.ticker = setInterval(() => clock.tick(), 1000);
  restartInactivityTimer(entry, config, clock);
  return entry;
}

/** The cardholder did something: the inactivity timeout starts again. */
export function restartInactivityTimer(entry: Entry, config: StationConfig, clock: EntryClock): void {
  const { inactivityTimeoutMs } = config.pin;
  clearTimeout(entry.inactivityTimer);
  entry.inactivityDeadline = Date.now() + inactivityTimeoutMs;
  entry.inactivityTimer = setTimeout(() => clock.timeout(entry), inactivityTimeoutMs);
}

/** Stops the entry's timers and wipes its digits and card number. */
export function endEntry(entry: Entry): void {
  clearTimeout(entry.inactivityTimer);
  clearTimeout(entry.sessionTimer);
  clearInterval(entry.ticker);
  entry.session.wipe();
  entry.pan = null;
  entry.notice = null;
}

/** Seconds until the entry times out: the nearer of the inactivity and session deadlines. */
export function secondsLeft(entry: Entry): number {
  const deadline = Math.min(entry.inactivityDeadline, entry.sessionDeadline);
  return Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
}
