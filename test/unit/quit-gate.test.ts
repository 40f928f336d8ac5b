/** Quitting (main/core/quit-gate.ts): every quit waits for the close, however many are asked for. */
import { describe, expect, it } from 'vitest';
import { QuitGate } from '../../main/core/quit-gate';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('QuitGate', () => {
  it('refuses every quit until the close has settled, starts the close once, then allows the next', async () => {
    const work = deferred();
    let closes = 0;
    let reQuits = 0;
    const gate = new QuitGate(
      () => {
        closes++;
        return work.promise;
      },
      () => void reQuits++,
    );
    expect(gate.requestQuit()).toBe(false);
    // A second Ctrl+Q, the other window closing: still not allowed while the request is in flight.
    expect(gate.requestQuit()).toBe(false);
    expect(gate.requestQuit()).toBe(false);
    await Promise.resolve();
    expect(closes).toBe(1);
    expect(reQuits).toBe(0);
    work.resolve();
    await gate.settled();
    expect(reQuits).toBe(1);
    expect(gate.requestQuit()).toBe(true);
  });

  it('starts the close synchronously, so nothing new can slip in before it', () => {
    let started = false;
    const gate = new QuitGate(
      async () => {
        started = true;
      },
      () => undefined,
    );
    gate.requestQuit();
    expect(started).toBe(true);
  });

  it('a failing close is reported and quitting still goes ahead', async () => {
    const failures: unknown[] = [];
    let reQuits = 0;
    const gate = new QuitGate(
      () => {
        throw new Error('disk gone');
      },
      () => void reQuits++,
      (error) => void failures.push(error),
    );
    expect(gate.requestQuit()).toBe(false);
    await gate.settled();
    expect(failures).toHaveLength(1);
    expect(reQuits).toBe(1);
    expect(gate.requestQuit()).toBe(true);
  });
});
