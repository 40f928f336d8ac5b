/**
 * The receiving side of the IPC contract: checks which window sent a message,
 * that the channel belongs to that window, and that the argument is valid,
 * then calls the station. It never throws and never returns a stack trace.
 */
import { StationError, toErrorInfo } from '../../common/errors';
import type { IpcResult, OperatorChannel, PinpadChannel, WindowRole } from '../../common/ipc';
import { OPERATOR_CHANNELS, PINPAD_CHANNELS } from '../../common/ipc';
import { operatorArgSchemas, pinpadArgSchemas } from '../../common/ipc-validators';
import type { Station } from './station';

const CHANNELS_BY_ROLE: Readonly<Record<WindowRole, readonly string[]>> = {
  operator: OPERATOR_CHANNELS,
  pinpad: PINPAD_CHANNELS,
};

export const ALL_CHANNELS: readonly string[] = [...OPERATOR_CHANNELS, ...PINPAD_CHANNELS];

/** Channels that only read state; everything else starts or changes work. */
const READ_ONLY_CHANNELS: ReadonlySet<string> = new Set(['station:get-state', 'pinpad:get-state']);

export class IpcRouter {
  private closing = false;

  constructor(private readonly station: Station) {}

  /** From the first quit on, nothing new starts: every action is refused; windows can still read state. */
  refuseActions(): void {
    this.closing = true;
  }

  /** `role` is null when the sender is not one of the station's own windows. */
  async handle(role: WindowRole | null, channel: unknown, arg: unknown): Promise<IpcResult<unknown>> {
    try {
      if (role === null || typeof channel !== 'string' || !CHANNELS_BY_ROLE[role].includes(channel)) {
        return fail(new StationError('WRONG_WINDOW'));
      }
      if (this.closing && !READ_ONLY_CHANNELS.has(channel)) return fail(new StationError('STATION_CLOSING'));
      const value = role === 'operator' ? await this.operator(channel as OperatorChannel, arg) : this.pinpad(channel as PinpadChannel, arg);
      return { ok: true, value };
    } catch (error) {
      return fail(error);
    }
  }

  private async operator(channel: OperatorChannel, raw: unknown): Promise<unknown> {
    const station = this.station;
    switch (channel) {
      case 'station:get-state':
        parseArg(operatorArgSchemas[channel], raw);
        return station.operatorView();
      case 'station:start':
        await station.start(parseArg(operatorArgSchemas[channel], raw));
        return null;
      case 'station:cancel':
        parseArg(operatorArgSchemas[channel], raw);
        station.cancel();
        return null;
      case 'station:next-card':
        parseArg(operatorArgSchemas[channel], raw);
        station.nextCard();
        return null;
    }
  }

  private pinpad(channel: PinpadChannel, raw: unknown): unknown {
    const station = this.station;
    switch (channel) {
      case 'pinpad:get-state':
        parseArg(pinpadArgSchemas[channel], raw);
        return station.pinpadView();
      case 'pinpad:press':
        return station.press(parseArg(pinpadArgSchemas[channel], raw));
      case 'pinpad:erase':
        parseArg(pinpadArgSchemas[channel], raw);
        return station.erase();
      case 'pinpad:clear':
        parseArg(pinpadArgSchemas[channel], raw);
        return station.clear();
      case 'pinpad:submit':
        parseArg(pinpadArgSchemas[channel], raw);
        return station.submit();
      case 'pinpad:cancel':
        parseArg(pinpadArgSchemas[channel], raw);
        station.padCancel();
        return null;
    }
  }
}

interface Schema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false };
}

function parseArg<T>(schema: Schema<T>, raw: unknown): T {
  // Only plain data: an object with its own prototype could satisfy a field by inheritance.
  if (typeof raw === 'object' && raw !== null) {
    const proto: unknown = Object.getPrototypeOf(raw);
    if (proto !== Object.prototype && proto !== null) throw new StationError('INVALID_REQUEST');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new StationError('INVALID_REQUEST');
  return parsed.data;
}

function fail(error: unknown): IpcResult<never> {
  return { ok: false, error: toErrorInfo(error) };
}
