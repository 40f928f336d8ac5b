/**
 * The real keychain store (keytar), noting when each of its keychain calls started and ended, and the round trips
 * those calls make: the pipeline benchmark and the keychain round-trip test count with the same code.
 */
import type { KeyAccount } from '../../main/core/keystore';
import { KeytarKeyStore } from '../../main/core/keytar-store';

export interface KeyRead {
  readonly account: KeyAccount;
  readonly start: number;
  readonly end: number;
}

/**
 * The real keychain store, noting when each keychain call started and ended (two performance.now() calls).
 * It times the calls themselves, not each get: an entry held for the signed-in session makes none.
 */
export class TimedKeyStore extends KeytarKeyStore {
  readonly reads: KeyRead[] = [];
  protected override async fetch(account: KeyAccount): Promise<string | null> {
    const start = performance.now();
    try {
      return await super.fetch(account);
    } finally {
      this.reads.push({ account, start, end: performance.now() });
    }
  }
}

/** Reads issued together (overlapping in time) are one round trip: the station waits for them once. */
export function roundTrips(reads: readonly KeyRead[]): number {
  let trips = 0;
  let until = -Infinity;
  for (const read of [...reads].sort((a, b) => a.start - b.start)) {
    if (read.start > until) trips++;
    until = Math.max(until, read.end);
  }
  return trips;
}
