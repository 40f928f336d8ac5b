import { afterEach, describe, expect, it, vi } from 'vitest';
import { ERROR_MESSAGES } from '../../common/errors';
import type { ErrorCode } from '../../common/errors';
import type { IpcResult, OperatorView, PinpadView, ProcessorOutcome } from '../../common/ipc';
import { decryptGcm } from '../../main/crypto/gcm';
import { parseAes256KeyHex } from '../../main/crypto/keys';
import type { CardApi, SetPinRequest } from '../../main/core/card-api-client';
import { parseConfig } from '../../main/core/config';
import type { StationConfigInput } from '../../main/core/config';
import { IpcRouter } from '../../main/core/ipc-router';
import { MemoryKeyStore } from '../../main/core/keystore';
import type { KeyStore } from '../../main/core/keystore';
import { FIXED_LAYOUT } from '../../main/core/pin-session';
import { Station } from '../../main/core/station';
import { signedInStaff } from '../helpers/staff';

const PIN_KEY_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const API_TOKEN = 'test-api-token';
const OUTCOME: ProcessorOutcome = { status: 'ok', requestStatus: 'pin_set', dt: '2026-01-01T00:00:00+00:00' };
const PINPAD_VIEW_KEYS = [
  'active',
  'audio',
  'count',
  'keyboardInput',
  'language',
  'layout',
  'maxLength',
  'minLength',
  'notice',
  'revision',
  'secondsLeft',
  'step',
];

interface Rig {
  readonly router: IpcRouter;
  readonly station: Station;
  readonly calls: SetPinRequest[];
  readonly operatorViews: OperatorView[];
  readonly pinpadViews: PinpadView[];
  readonly lastOperator: () => OperatorView | undefined;
  readonly lastPinpad: () => PinpadView | undefined;
}

async function rig(
  config: StationConfigInput = { pad: { shuffle: false } },
  keyStore: KeyStore = new MemoryKeyStore({ 'pin-key': PIN_KEY_HEX, 'api-token': API_TOKEN }),
): Promise<Rig> {
  const calls: SetPinRequest[] = [];
  const cardApi: CardApi = {
    async setPin(request) {
      calls.push(request);
      return OUTCOME;
    },
  };
  const operatorViews: OperatorView[] = [];
  const pinpadViews: PinpadView[] = [];
  const staff = await signedInStaff();
  const station = new Station({
    // These tests hold an AES pin-key: the gcm profile, named as a station that keeps it must name it.
    config: parseConfig({ profile: 'gcm', ...config }),
    keyStore,
    cardApi,
    views: {
      operator: (view) => operatorViews.push(view),
      pinpad: (view) => pinpadViews.push(view),
    },
    staffView: () => staff.view(),
  });
  return {
    router: new IpcRouter(station, staff),
    station,
    calls,
    operatorViews,
    pinpadViews,
    lastOperator: () => operatorViews.at(-1),
    lastPinpad: () => pinpadViews.at(-1),
  };
}

/** An error result has exactly {ok, error}, the error exactly {code, message}, and no stack trace. */
function expectError(result: IpcResult<unknown>, code: ErrorCode): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(Object.keys(result).sort()).toEqual(['error', 'ok']);
  expect(Object.keys(result.error).sort()).toEqual(['code', 'message']);
  expect(result.error.code).toBe(code);
  expect(result.error.message.startsWith(ERROR_MESSAGES[code])).toBe(true);
  expect(result.error.message).not.toMatch(/(^|\n)\s*at /);
  expect(result.error.message).not.toContain('\n');
}

function valueOf<T>(result: IpcResult<unknown>): T {
  if (!result.ok) throw new Error(`expected ok, got ${result.error.code}`);
  return result.value as T;
}

const positionOf = (digit: number): number => FIXED_LAYOUT.indexOf(digit);

async function press(r: Rig, digits: readonly number[]): Promise<void> {
  for (const digit of digits) expect((await r.router.handle('pinpad', 'pinpad:press', positionOf(digit))).ok).toBe(true);
}

async function startCustomer(r: Rig, cardId = 'CARD-9'): Promise<void> {
  expect(await r.router.handle('operator', 'station:start', { cardId, mode: 'customer' })).toEqual({ ok: true, value: { started: true } });
}

function decrypt(pin: string | undefined, cardId: string): number[] {
  if (pin === undefined) throw new Error('no pin was sent');
  return Array.from(decryptGcm(parseAes256KeyHex(PIN_KEY_HEX, 'pin-key'), pin, cardId));
}

afterEach(() => {
  vi.useRealTimers();
});

describe('IpcRouter: which window may call what', () => {
  it.each([
    ['station:get-state', null],
    ['station:start', { cardId: 'CARD-1', mode: 'processor' }],
    ['pinpad:get-state', null],
    ['pinpad:press', 0],
  ])('a sender that is not a station window (role null) gets WRONG_WINDOW for %s', async (channel, arg) => {
    const r = await rig();
    expectError(await r.router.handle(null, channel, arg), 'WRONG_WINDOW');
    expect(r.calls).toHaveLength(0);
    expect(r.station.operatorView().phase).toBe('idle');
  });

  it('the pin pad calling station:start gets WRONG_WINDOW and nothing starts', async () => {
    const r = await rig();
    expectError(await r.router.handle('pinpad', 'station:start', { cardId: 'CARD-1', mode: 'processor' }), 'WRONG_WINDOW');
    await r.station.settled();
    expect(r.calls).toHaveLength(0);
    expect(r.station.operatorView().phase).toBe('idle');
    expect(r.operatorViews).toHaveLength(0);
  });

  it('the operator calling pinpad:press gets WRONG_WINDOW and no digit is recorded', async () => {
    const r = await rig();
    await startCustomer(r);
    expectError(await r.router.handle('operator', 'pinpad:press', 0), 'WRONG_WINDOW');
    expectError(await r.router.handle('operator', 'pinpad:submit', null), 'WRONG_WINDOW');
    expect(r.station.pinpadView().count).toBe(0);
    expect(r.station.operatorView().pad).toMatchObject({ step: 'enter', count: 0, restarts: 0 });
  });

  it.each([
    ['an unknown channel', 'station:delete-everything'],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['toString', 'toString'],
    ['hasOwnProperty', 'hasOwnProperty'],
    ['an empty string', ''],
  ])('%s is an error result for either window, never a throw', async (_name, channel) => {
    const r = await rig();
    for (const role of ['operator', 'pinpad', null] as const) {
      const result = await r.router.handle(role, channel, null);
      expectError(result, 'WRONG_WINDOW');
    }
  });

  it.each([
    ['a number', 42],
    ['undefined', undefined],
    ['null', null],
    ['an object', { toString: () => 'station:start' }],
    ['an array', ['station:start']],
    ['a symbol', Symbol('station:start')],
  ])('a non-string channel (%s) is an error result, never a throw', async (_name, channel) => {
    const r = await rig();
    const result = await r.router.handle('operator', channel, { cardId: 'CARD-1', mode: 'processor' });
    expectError(result, 'WRONG_WINDOW');
    await r.station.settled();
    expect(r.calls).toHaveLength(0);
  });
});

describe('IpcRouter: argument validation', () => {
  const long = 'A'.repeat(10_000);

  it.each([
    ['missing mode', { cardId: 'CARD-1' }],
    ['missing cardId', { mode: 'processor' }],
    ['an unknown mode', { cardId: 'CARD-1', mode: 'admin' }],
    ['an extra field', { cardId: 'CARD-1', mode: 'processor', pin: '1234' }],
    ['a number cardId', { cardId: 1234, mode: 'processor' }],
    ['null', null],
    ['undefined', undefined],
    ['an array', ['CARD-1', 'processor']],
    ['a 10,000-character string', long],
    ['a 10,000-character cardId', { cardId: long, mode: 'processor' }],
    ['an own "__proto__" key (as JSON.parse makes it)', JSON.parse('{"cardId":"CARD-1","mode":"processor","__proto__":{"admin":true}}') as unknown],
    ['only an own "__proto__" key carrying the fields', JSON.parse('{"__proto__":{"cardId":"CARD-1","mode":"processor"}}') as unknown],
    ['an extra field on the prototype', { __proto__: { admin: true }, cardId: 'CARD-1', mode: 'processor' }],
    ['mode only on the prototype', { __proto__: { mode: 'processor' }, cardId: 'CARD-1' }],
    ['both fields only on the prototype', { __proto__: { cardId: 'CARD-1', mode: 'processor' } }],
  ])('station:start with %s is INVALID_REQUEST and starts nothing', async (_name, arg) => {
    const r = await rig();
    expectError(await r.router.handle('operator', 'station:start', arg), 'INVALID_REQUEST');
    await r.station.settled();
    expect(r.calls).toHaveLength(0);
    expect(r.station.operatorView().phase).toBe('idle');
    expect(r.station.pinpadView().active).toBe(false);
  });

  it('a card ID that is a valid string but breaks the card rule is CARD_ID_INVALID', async () => {
    const r = await rig();
    expectError(await r.router.handle('operator', 'station:start', { cardId: 'bad id!', mode: 'processor' }), 'CARD_ID_INVALID');
    expect(r.calls).toHaveLength(0);
  });

  it.each([
    ['10', 10],
    ['-1', -1],
    ['"1"', '1'],
    ['1.5', 1.5],
    ['NaN', Number.NaN],
    ['null', null],
    ['an object', { position: 1 }],
  ])('pinpad:press with %s is INVALID_REQUEST and records no digit', async (_name, arg) => {
    const r = await rig();
    await startCustomer(r);
    await press(r, [5]);
    expectError(await r.router.handle('pinpad', 'pinpad:press', arg), 'INVALID_REQUEST');
    expect(r.station.pinpadView().count).toBe(1);
  });

  it.each([
    ['station:get-state', 'operator', 'x'],
    ['station:cancel', 'operator', {}],
    ['pinpad:get-state', 'pinpad', 0],
    ['pinpad:submit', 'pinpad', { now: true }],
  ] as const)('a no-argument channel (%s) given an argument is INVALID_REQUEST', async (channel, role, arg) => {
    const r = await rig();
    expectError(await r.router.handle(role, channel, arg), 'INVALID_REQUEST');
  });

  it('no-argument channels accept null and undefined', async () => {
    const r = await rig();
    expect(valueOf<OperatorView>(await r.router.handle('operator', 'station:get-state', null)).phase).toBe('idle');
    expect(valueOf<PinpadView>(await r.router.handle('pinpad', 'pinpad:get-state', undefined)).active).toBe(false);
  });

  it('a state-machine error is returned as a result too (pad action without a session is NO_SESSION)', async () => {
    const r = await rig();
    expectError(await r.router.handle('pinpad', 'pinpad:press', 0), 'NO_SESSION');
    expectError(await r.router.handle('pinpad', 'pinpad:cancel', null), 'NO_SESSION');
    expectError(await r.router.handle('operator', 'station:cancel', null), 'NO_SESSION');
  });

  it('a second start while a session is open is SESSION_BUSY', async () => {
    const r = await rig();
    await startCustomer(r);
    expectError(await r.router.handle('operator', 'station:start', { cardId: 'CARD-10', mode: 'processor' }), 'SESSION_BUSY');
    expect(r.station.operatorView().cardId).toBe('CARD-9');
  });
});

describe('IpcRouter: a full flow', () => {
  it('customer mode: one setPin call whose pin decrypts to the typed digits for that card', async () => {
    const r = await rig();
    await startCustomer(r, 'CARD-9');
    expect(r.lastOperator()).toMatchObject({ phase: 'awaiting-pin', cardId: 'CARD-9', mode: 'customer', pad: { step: 'enter', count: 0 } });
    expect(r.lastPinpad()).toMatchObject({ active: true, step: 'enter', count: 0, layout: [1, 2, 3, 4, 5, 6, 7, 8, 9, 0] });

    await press(r, [1, 3, 5, 7]);
    const confirm = valueOf<PinpadView>(await r.router.handle('pinpad', 'pinpad:submit', null));
    expect(confirm).toMatchObject({ active: true, step: 'confirm', count: 0, notice: null });
    await press(r, [1, 3, 5, 7]);
    const done = valueOf<PinpadView>(await r.router.handle('pinpad', 'pinpad:submit', null));
    expect(done.active).toBe(false);
    await r.station.settled();

    expect(r.calls).toHaveLength(1);
    const [call] = r.calls;
    expect(call?.cardId).toBe('CARD-9');
    // The token read from the keychain travels with the call (it becomes the Authorization header, never the body).
    expect(Object.keys(call ?? {}).sort()).toEqual(['cardId', 'pin', 'token']);
    expect(call?.token).toBe(API_TOKEN);
    expect(decrypt(call?.pin, 'CARD-9')).toEqual([1, 3, 5, 7]);
    // Bound to the card: the same pin does not open for another card ID.
    expect(() => decrypt(call?.pin, 'CARD-8')).toThrow();

    expect(r.lastOperator()).toEqual({
      phase: 'done',
      cardId: 'CARD-9',
      mode: 'customer',
      pad: null,
      outcome: OUTCOME,
      error: null,
      auditError: null,
      panRequired: false,
      cardIdPattern: '^[A-Za-z0-9_-]{1,64}$',
      language: 'en',
      usingSandboxProcessor: true,
      repeatWindowHours: 24,
      interruptedCards: [],
      auditOutcomePending: null,
      auditShippingDelayedSince: null,
      managedSettings: [],
      staff: {
        state: 'signed-in',
        provider: 'local',
        codeRequired: true,
        username: 'op.one',
        displayName: null,
        roles: ['operator'],
        idleLockInSeconds: null,
        notice: null,
        practiceAccounts: [],
      },
      processorKey: null,
      audio: { available: false, unavailableReason: 'no-device', on: false },
    });
    expect(r.lastPinpad()).toMatchObject({ active: false, count: 0 });
  });

  it('the pin pad and operator views never carry more than counts, layout and notices', async () => {
    const r = await rig();
    await startCustomer(r, 'CARD-9');
    await press(r, [1, 3, 5, 7]);
    await r.router.handle('pinpad', 'pinpad:submit', null);
    await press(r, [1, 3, 5, 8]);
    expectError(await r.router.handle('pinpad', 'pinpad:get-state', 'x'), 'INVALID_REQUEST');
    const mismatch = valueOf<PinpadView>(await r.router.handle('pinpad', 'pinpad:submit', null));
    // A mismatch clears only the confirmation; the cardholder confirms again.
    expect(mismatch).toMatchObject({ active: true, step: 'confirm', count: 0, notice: { code: 'PIN_MISMATCH' } });
    await press(r, [1, 3, 5, 7]);
    await r.router.handle('pinpad', 'pinpad:submit', null);
    await r.station.settled();
    expect(r.calls).toHaveLength(1);

    expect(r.pinpadViews.length).toBeGreaterThan(10);
    for (const view of r.pinpadViews) {
      expect(Object.keys(view).sort()).toEqual(PINPAD_VIEW_KEYS);
      expect([...view.layout].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(typeof view.count).toBe('number');
      if (view.notice !== null) expect(Object.keys(view.notice).sort()).toEqual(['code', 'message']);
    }
    for (const view of r.operatorViews) {
      expect(Object.keys(view).sort()).toEqual([
        'audio',
        'auditError',
        'auditOutcomePending',
        'auditShippingDelayedSince',
        'cardId',
        'cardIdPattern',
        'error',
        'interruptedCards',
        'language',
        'managedSettings',
        'mode',
        'outcome',
        'pad',
        'panRequired',
        'phase',
        'processorKey',
        'repeatWindowHours',
        'staff',
        'usingSandboxProcessor',
      ]);
      if (view.pad !== null) expect(Object.keys(view.pad).sort()).toEqual(['count', 'restarts', 'secondsLeft', 'step']);
    }
    // The count rose 1..4 in each step: the views report only how many digits, never which.
    const counts = r.pinpadViews.map((v) => v.count);
    expect(Math.max(...counts)).toBe(4);
  });

  it('processor mode sends setPin with the card ID and no pin', async () => {
    const r = await rig();
    expect(await r.router.handle('operator', 'station:start', { cardId: 'CARD-9', mode: 'processor' })).toEqual({ ok: true, value: { started: true } });
    await r.station.settled();
    expect(r.calls).toEqual([{ cardId: 'CARD-9', token: API_TOKEN }]);
    expect(r.calls[0] !== undefined && 'pin' in r.calls[0]).toBe(false);
    expect(r.lastOperator()).toMatchObject({ phase: 'done', cardId: 'CARD-9', mode: 'processor', outcome: OUTCOME, error: null });
    expect(r.station.pinpadView().active).toBe(false);
  });

  it('processor mode does not need the pin-key', async () => {
    const calls: SetPinRequest[] = [];
    const station = new Station({
      config: parseConfig({ profile: 'gcm', pad: { shuffle: false } }),
      keyStore: new MemoryKeyStore({ 'api-token': API_TOKEN }),
      cardApi: {
        async setPin(request) {
          calls.push(request);
          return OUTCOME;
        },
      },
      views: { operator: () => undefined, pinpad: () => undefined },
    });
    const router = new IpcRouter(station, await signedInStaff());
    expect((await router.handle('operator', 'station:start', { cardId: 'CARD-9', mode: 'processor' })).ok).toBe(true);
    await station.settled();
    expect(calls).toEqual([{ cardId: 'CARD-9', token: API_TOKEN }]);
    expect(station.operatorView()).toMatchObject({ phase: 'done', error: null });
  });
});

describe('Station timeouts', () => {
  async function startWithFakeTimers(pin: NonNullable<StationConfigInput>['pin']): Promise<Rig> {
    vi.useFakeTimers();
    const r = await rig({ pad: { shuffle: false }, pin });
    // start() awaits the keystore before it arms its timers: awaiting the router lets those promises settle.
    await startCustomer(r);
    await vi.advanceTimersByTimeAsync(0);
    expect(r.station.operatorView().phase).toBe('awaiting-pin');
    return r;
  }

  it('inactivity ends the session with PIN_TIMEOUT for the operator and an inactive pad', async () => {
    const r = await startWithFakeTimers({ inactivityTimeoutMs: 1_000 });
    await press(r, [7, 3]);

    vi.advanceTimersByTime(999);
    expect(r.station.operatorView().phase).toBe('awaiting-pin');
    expect(r.lastPinpad()?.active).toBe(true);

    vi.advanceTimersByTime(1);
    expect(r.lastOperator()).toMatchObject({ phase: 'failed', cardId: 'CARD-9', pad: null, error: { code: 'PIN_TIMEOUT' } });
    expect(r.lastOperator()?.error?.message).toBe(ERROR_MESSAGES.PIN_TIMEOUT);
    expect(r.lastPinpad()).toMatchObject({ active: false, count: 0 });

    expectError(await r.router.handle('pinpad', 'pinpad:press', 0), 'NO_SESSION');
    expect(r.calls).toHaveLength(0);
  });

  it('each pad action restarts the inactivity timer', async () => {
    const r = await startWithFakeTimers({ inactivityTimeoutMs: 1_000 });
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(900);
      await press(r, [1]);
      if (i === 3) await r.router.handle('pinpad', 'pinpad:erase', null);
    }
    expect(r.station.operatorView().phase).toBe('awaiting-pin');
    vi.advanceTimersByTime(999);
    expect(r.station.operatorView().phase).toBe('awaiting-pin');
    vi.advanceTimersByTime(1);
    expect(r.station.operatorView().error?.code).toBe('PIN_TIMEOUT');
  });

  it('the whole-session limit ends an active session too', async () => {
    const r = await startWithFakeTimers({ inactivityTimeoutMs: 1_000, sessionTimeoutMs: 3_000 });
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(900);
      await press(r, [2]);
    }
    expect(r.station.operatorView().phase).toBe('awaiting-pin');
    vi.advanceTimersByTime(300);
    expect(r.lastOperator()).toMatchObject({ phase: 'failed', error: { code: 'PIN_TIMEOUT' } });
    expect(r.lastPinpad()?.active).toBe(false);
  });

  it('a completed entry is not timed out afterwards', async () => {
    const r = await startWithFakeTimers({ inactivityTimeoutMs: 1_000 });
    await press(r, [1, 3, 5, 7]);
    await r.router.handle('pinpad', 'pinpad:submit', null);
    await press(r, [1, 3, 5, 7]);
    await r.router.handle('pinpad', 'pinpad:submit', null);
    await r.station.settled();
    vi.advanceTimersByTime(200_000);
    expect(r.lastOperator()).toMatchObject({ phase: 'done', error: null });
    expect(r.calls).toHaveLength(1);
  });
});

describe('closing: from the first quit on, nothing new starts', () => {
  it('every action on either window is refused with STATION_CLOSING; reading state still works', async () => {
    const r = await rig();
    r.router.refuseActions();
    expectError(await r.router.handle('operator', 'station:start', { cardId: 'CARD-1', mode: 'processor' }), 'STATION_CLOSING');
    expectError(await r.router.handle('operator', 'station:next-card', null), 'STATION_CLOSING');
    expectError(await r.router.handle('operator', 'station:cancel', null), 'STATION_CLOSING');
    expectError(await r.router.handle('pinpad', 'pinpad:press', 0), 'STATION_CLOSING');
    expectError(await r.router.handle('pinpad', 'pinpad:submit', null), 'STATION_CLOSING');
    expect(valueOf<OperatorView>(await r.router.handle('operator', 'station:get-state', null)).phase).toBe('idle');
    expect(valueOf<PinpadView>(await r.router.handle('pinpad', 'pinpad:get-state', null)).active).toBe(false);
    expect(r.calls).toHaveLength(0);
    // The sender check still comes first.
    expectError(await r.router.handle(null, 'station:start', { cardId: 'CARD-1', mode: 'processor' }), 'WRONG_WINDOW');
  });

  it('an entry in progress cannot be completed once closing has begun', async () => {
    const r = await rig();
    expect((await r.router.handle('operator', 'station:start', { cardId: 'CARD-2', mode: 'customer' })).ok).toBe(true);
    await press(r, [4, 8, 2, 6]);
    r.router.refuseActions();
    expectError(await r.router.handle('pinpad', 'pinpad:submit', null), 'STATION_CLOSING');
    expect(r.calls).toHaveLength(0);
  });
});

describe('closing while a Start is still waiting on the keychain', () => {
  it('the Start does not go on to send once the core is closing, and nothing reaches the processor', async () => {
    let releaseKeychain: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (releaseKeychain = resolve));
    const keys = new MemoryKeyStore({ 'pin-key': PIN_KEY_HEX, 'api-token': API_TOKEN });
    const slowKeys = {
      get: async (account: Parameters<MemoryKeyStore['get']>[0]) => {
        await gate;
        return keys.get(account);
      },
      set: keys.set.bind(keys),
      delete: keys.delete.bind(keys),
    };
    const { station, router, calls } = await rig({}, slowKeys);
    const started = router.handle('operator', 'station:start', { cardId: 'CARD-Q', mode: 'processor' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    // What StationCore.close() does first: refuse new actions, stop Starts in progress, wait for work in flight.
    router.refuseActions();
    station.beginClose();
    const settled = station.settled();
    releaseKeychain();
    expectError(await started, 'STATION_CLOSING');
    await settled;
    await station.settled();
    expect(calls).toHaveLength(0);
    expect(station.operatorView().phase).toBe('idle');
  });
});

describe('pad view revisions', () => {
  it('grow with every change, and the reply to a key carries the view the push carries', async () => {
    const r = await rig();
    expect((await r.router.handle('operator', 'station:start', { cardId: 'CARD-R', mode: 'customer' })).ok).toBe(true);
    const pushedBefore = r.lastPinpad()?.revision ?? 0;
    const reply = valueOf<PinpadView>(await r.router.handle('pinpad', 'pinpad:press', positionOf(4)));
    const pushed = r.lastPinpad();
    expect(reply.revision).toBeGreaterThan(pushedBefore);
    // The same view, but for the countdown, which is computed when each is taken.
    expect({ ...reply, secondsLeft: null }).toEqual({ ...pushed, secondsLeft: null });
    const next = valueOf<PinpadView>(await r.router.handle('pinpad', 'pinpad:press', positionOf(8)));
    expect(next.revision).toBeGreaterThan(reply.revision);
    expect(next.count).toBe(2);
  });
});

describe('audio guidance and the pad device', () => {
  const AUDIO = { pad: { shuffle: false, audio: { outputDevice: 'USB Handset' } } };

  it('is refused until the pad has found its device; an audio entry ends if the device goes, an ordinary one does not', async () => {
    const r = await rig(AUDIO);
    expectError(await r.router.handle('operator', 'station:start', { cardId: 'AUD-1', mode: 'customer', audio: true }), 'INVALID_REQUEST');
    expect(await r.router.handle('pinpad', 'pinpad:audio-device', true)).toEqual({ ok: true, value: null });
    expect(r.lastOperator()?.audio).toMatchObject({ available: true, unavailableReason: null });
    expect(await r.router.handle('operator', 'station:start', { cardId: 'AUD-1', mode: 'customer', audio: true })).toMatchObject({ ok: true });
    await press(r, [2, 5]);
    // Headphones unplugged mid-entry: the cardholder would hear nothing, so the entry ends and is wiped.
    await r.router.handle('pinpad', 'pinpad:audio-device', false);
    expect(r.lastOperator()).toMatchObject({
      phase: 'failed',
      error: { code: 'PIN_CANCELLED' },
      audio: { available: false, unavailableReason: 'device-absent' },
    });
    expect(r.lastPinpad()).toMatchObject({ active: false, count: 0 });
    expect(r.calls).toHaveLength(0);

    await r.router.handle('pinpad', 'pinpad:audio-device', true);
    await startCustomer(r, 'AUD-2');
    await r.router.handle('pinpad', 'pinpad:audio-device', false);
    expect(r.lastOperator()?.phase).toBe('awaiting-pin');
  });
});

describe("the cardholder's language for audio guidance", () => {
  const AUDIO = { pad: { shuffle: false, audio: { outputDevice: 'Pad headset' } } };

  it('only a language of the station is taken from the pad', async () => {
    const r = await rig(AUDIO);
    for (const bad of ['de', 'RU', '', 1, null, { language: 'ru' }]) expectError(await r.router.handle('pinpad', 'pinpad:language', bad), 'INVALID_REQUEST');
    expectError(await r.router.handle('operator', 'pinpad:language', 'ru'), 'WRONG_WINDOW');
    expect(valueOf<null>(await r.router.handle('pinpad', 'pinpad:language', 'ru'))).toBeNull();
  });

  it("main keeps it for the audio entry through 'sent' to the final outcome, then forgets it", async () => {
    const r = await rig(AUDIO);
    valueOf(await r.router.handle('pinpad', 'pinpad:audio-device', true));
    await r.station.start({ cardId: 'CARD-7', mode: 'customer', audio: true }, 'operator.test');
    expect(r.lastPinpad()?.audio).toMatchObject({ on: true, language: 'en' });
    valueOf(await r.router.handle('pinpad', 'pinpad:language', 'kk'));
    for (let round = 0; round < 2; round++) {
      await press(r, [5, 8, 6, 0]);
      valueOf(await r.router.handle('pinpad', 'pinpad:submit', null));
    }
    await r.station.settled();
    const ended = r.pinpadViews.filter((view) => !view.active).map((view) => view.audio);
    expect([ended[0]?.outcome, ended.at(-1)?.outcome]).toEqual(['sent', 'set']);
    expect(new Set(ended.map(({ language }) => language))).toEqual(new Set(['kk']));
    // Forgotten once the final outcome went out: a later view, and the next audio card, speak the default.
    r.station.nextCard();
    await r.station.start({ cardId: 'CARD-8', mode: 'customer', audio: true }, 'operator.test');
    expect(r.lastPinpad()?.audio).toMatchObject({ on: true, language: 'en' });
  });
});
