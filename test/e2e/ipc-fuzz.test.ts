/**
 * Hostile IPC: both renderers, as if compromised, send 10,000 random and
 * malformed messages each straight to the IPC binding (what ipcRenderer.invoke
 * reaches): wrong types, huge strings, prototype-pollution payloads, the other
 * window's channels. Main must never throw, must answer each with a result
 * (a typed rejection unless the message happened to be valid), and a normal
 * PIN set must still work afterwards.
 */
import { afterAll, expect, it } from 'vitest';
import { ERROR_MESSAGES } from '../../common/errors';
import { OPERATOR_CHANNELS, PINPAD_CHANNELS } from '../../common/ipc-validators';
import { enterAndConfirm, startCard, statusText } from '../harness/journeys';
import { launchStation } from '../harness/launch-station';
import type { LaunchedStation } from '../harness/launch-station';

let station: LaunchedStation | null = null;
afterAll(async () => station?.close());

interface FuzzSummary {
  sent: number;
  threw: number;
  malformedResults: number;
  ok: number;
  codes: Record<string, number>;
  polluted: boolean;
}

/** Runs inside the page: a seeded generator of hostile messages, sent one after another. */
async function fuzzInPage(args: { seed: number; count: number; channels: string[] }): Promise<FuzzSummary> {
  let state = args.seed >>> 0;
  const rand = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const hostileChannels = [...args.channels, '__proto__', 'constructor', 'toString', 'station:', 'pinpad:press ', 'STATION:START', '', 'x'.repeat(5000)];
  const scalar = (): unknown =>
    pick<() => unknown>([
      () => null,
      () => undefined,
      () => true,
      () => Math.floor(rand() * 20) - 5,
      () => rand() * 1e12,
      () => -0,
      () => Number.NaN,
      () => Number.POSITIVE_INFINITY,
      () => String(Math.floor(rand() * 10)),
      () => 'A'.repeat(Math.floor(rand() * 300_000)),
      () => 'CARD-' + Math.floor(rand() * 1000),
      () => '\u0000\uffff<script>',
    ])();
  const value = (depth: number): unknown => {
    const r = rand();
    if (depth > 3 || r < 0.45) return scalar();
    if (r < 0.6) return Array.from({ length: Math.floor(rand() * 5) }, () => value(depth + 1));
    if (r < 0.7) return JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}');
    if (r < 0.8) return { cardId: scalar(), mode: pick(['customer', 'processor', 'admin', 1, null]), pan: scalar() };
    const object: Record<string, unknown> = {};
    for (let i = 0; i < Math.floor(rand() * 4); i++) object[pick(['cardId', 'mode', 'pin', '__proto__', 'then', 'x'])] = value(depth + 1);
    return object;
  };
  const invoke = (window as unknown as { __pinStationInvoke(channel: unknown, arg: unknown): Promise<unknown> }).__pinStationInvoke;
  const summary: FuzzSummary = { sent: 0, threw: 0, malformedResults: 0, ok: 0, codes: {}, polluted: false };
  for (let i = 0; i < args.count; i++) {
    const channel = rand() < 0.1 ? value(0) : pick(hostileChannels);
    summary.sent++;
    try {
      const result = (await invoke(channel, value(0))) as { ok?: unknown; error?: { code?: unknown; message?: unknown } } | null;
      if (result && result.ok === true) summary.ok++;
      else if (result && result.ok === false && typeof result.error?.code === 'string' && typeof result.error.message === 'string') {
        summary.codes[result.error.code] = (summary.codes[result.error.code] ?? 0) + 1;
        if (/\n\s+at /.test(result.error.message)) summary.malformedResults++;
      } else summary.malformedResults++;
    } catch {
      summary.threw++;
    }
  }
  summary.polluted = ({} as Record<string, unknown>).polluted !== undefined;
  return summary;
}

it('10,000 hostile messages from each window: no throw, typed answers only, no pollution, still works', async () => {
  station = await launchStation({ config: { pin: { inactivityTimeoutMs: 600_000 } } });
  const channels = [...OPERATOR_CHANNELS, ...PINPAD_CHANNELS];
  const [fromOperator, fromPad] = await Promise.all([
    station.operator.evaluate(fuzzInPage, { seed: 1, count: 10_000, channels }),
    station.pinpad.evaluate(fuzzInPage, { seed: 2, count: 10_000, channels }),
  ]);
  for (const summary of [fromOperator, fromPad]) {
    expect(summary.sent).toBe(10_000);
    expect(summary.threw).toBe(0);
    expect(summary.malformedResults).toBe(0);
    expect(summary.polluted).toBe(false);
    for (const code of Object.keys(summary.codes)) expect(Object.keys(ERROR_MESSAGES)).toContain(code);
    // Most were refused as the wrong window or an invalid request.
    expect((summary.codes.WRONG_WINDOW ?? 0) + (summary.codes.INVALID_REQUEST ?? 0)).toBeGreaterThan(7_000);
  }
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();

  // Whatever state the storm left, the station recovers and sets a PIN normally.
  const { core, operator, pinpad, sandbox } = station;
  await core.station.settled();
  if (core.station.operatorView().phase === 'awaiting-pin') core.station.cancel();
  core.station.nextCard();
  // The storm may have signed the operator out or locked the screen; whoever comes next signs in as usual.
  if (core.staff.view().state === 'locked') await core.staff.signOut();
  if (core.staff.view().state === 'signed-out') await station.signIn(station.staff[0]?.username ?? '');
  const before = sandbox?.requests.length ?? 0;
  await startCard(operator, 'FUZZ-AFTER', 'Customer chooses PIN');
  await enterAndConfirm(pinpad, '3917');
  await expect.poll(() => statusText(operator)).toContain('PIN set.');
  expect(sandbox?.isPinSet('FUZZ-AFTER', '3917')).toBe(true);
  expect(sandbox?.requests.length).toBe(before + 1);
}, 900_000);
