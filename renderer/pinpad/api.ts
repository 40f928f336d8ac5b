import type { PinpadApi } from '../../common/ipc';

/** The PIN pad preload's API (window.pinpad). */
export const pinpad: PinpadApi = window.pinpad;
