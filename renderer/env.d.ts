/**
 * What each preload exposes to its page (preload/operator-api.ts and
 * preload/pinpad-api.ts build these from the contract in common/ipc.ts).
 * Each page has only its own: the operator window has no `pinpad`, the pad no `station`.
 */
import type { PinpadApi, StationApi } from '../common/ipc';

declare global {
  interface Window {
    readonly station: StationApi;
    readonly pinpad: PinpadApi;
  }
}

export {};
