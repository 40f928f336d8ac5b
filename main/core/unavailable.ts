/**
 * The IPC side of a station that could not start (bad config, missing or
 * malformed keychain entry): the operator window shows what is wrong and how
 * to fix it; every action is refused with the same safe error; no crash.
 */
import type { StationErrorInfo } from '../../common/errors';
import type { IpcHandler, OperatorView, PinpadView } from '../../common/ipc';
import { DEFAULT_CARD_ID_PATTERN } from '../../common/card-id';
import { FIXED_LAYOUT } from './pin-session';
import { NO_STAFF_VIEW } from './station';

export function unavailableView(error: StationErrorInfo): OperatorView {
  return {
    phase: 'unavailable',
    cardId: null,
    mode: null,
    pad: null,
    outcome: null,
    error,
    auditError: null,
    panRequired: false,
    cardIdPattern: DEFAULT_CARD_ID_PATTERN,
    language: 'en',
    usingSandboxProcessor: false,
    repeatWindowHours: 24,
    interruptedCards: [],
    auditOutcomePending: null,
    auditShippingDelayedSince: null,
    managedSettings: [],
    staff: NO_STAFF_VIEW,
    processorKey: null,
    audio: { available: false, unavailableReason: 'disabled', on: false },
  };
}

const IDLE_PAD: PinpadView = {
  active: false,
  step: 'enter',
  count: 0,
  minLength: 4,
  maxLength: 4,
  layout: FIXED_LAYOUT,
  notice: null,
  secondsLeft: null,
  language: 'en',
  keyboardInput: false,
  audio: { on: false, outputDevice: null, outcome: null, language: null },
  revision: 0,
};

export function unavailableRouter(error: StationErrorInfo): IpcHandler {
  return {
    async handle(role, channel) {
      if (role === 'operator' && channel === 'station:get-state') return { ok: true, value: unavailableView(error) };
      if (role === 'pinpad' && channel === 'pinpad:get-state') return { ok: true, value: IDLE_PAD };
      return { ok: false, error };
    },
  };
}
