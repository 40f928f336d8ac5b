/**
 * The receiving side of the IPC contract: checks which window sent a message,
 * that the channel belongs to that window, and that the argument is valid,
 * then calls the station. It never throws and never returns a stack trace.
 */
import { StationError, toErrorInfo } from '../../common/errors';
import type { IpcHandler, IpcResult, OperatorInvoke, PinpadInvoke, WindowRole } from '../../common/ipc';
import { operatorArgSchemas, pinpadArgSchemas } from '../../common/ipc-validators';
import type { Station } from './station';

/** One function per channel, typed by the contract: a handler that returns the wrong shape does not compile. */
type Handlers<M extends { [K in keyof M]: { arg: unknown; result: unknown } }> = {
  readonly [C in keyof M]: (arg: M[C]['arg']) => M[C]['result'] | Promise<M[C]['result']>;
};

/** Channels that only read state; everything else starts or changes work. */
const READ_ONLY_CHANNELS: ReadonlySet<string> = new Set(['station:get-state', 'pinpad:get-state']);

export class IpcRouter implements IpcHandler {
  private closing = false;
  private readonly operatorHandlers: Handlers<OperatorInvoke>;
  private readonly pinpadHandlers: Handlers<PinpadInvoke>;

  constructor(station: Station) {
    this.operatorHandlers = {
      'station:get-state': () => station.operatorView(),
      'station:start': async (request) => {
        await station.start(request);
        return null;
      },
      'station:cancel': () => {
        station.cancel();
        return null;
      },
      'station:next-card': () => {
        station.nextCard();
        return null;
      },
    };
    this.pinpadHandlers = {
      'pinpad:get-state': () => station.pinpadView(),
      'pinpad:press': (position) => station.press(position),
      'pinpad:erase': () => station.erase(),
      'pinpad:clear': () => station.clear(),
      'pinpad:submit': () => station.submit(),
      'pinpad:cancel': () => {
        station.padCancel();
        return null;
      },
    };
  }

  /** From the first quit on, nothing new starts: every action is refused; windows can still read state. */
  refuseActions(): void {
    this.closing = true;
  }

  /** `role` is null when the sender is not one of the station's own windows. */
  async handle(role: WindowRole | null, channel: unknown, arg: unknown): Promise<IpcResult<unknown>> {
    try {
      if (role === 'operator') return { ok: true, value: await this.dispatch(this.operatorHandlers, operatorArgSchemas, channel, arg) };
      if (role === 'pinpad') return { ok: true, value: await this.dispatch(this.pinpadHandlers, pinpadArgSchemas, channel, arg) };
      return fail(new StationError('WRONG_WINDOW'));
    } catch (error) {
      return fail(error);
    }
  }

  /**
   * Only the window's own channels; the argument is checked against the channel's schema before its
   * handler sees it. The tables are typed per channel where they are written; here a channel is a string.
   */
  private async dispatch(
    handlers: UntypedTable<(arg: never) => unknown>,
    schemas: UntypedTable<Schema<unknown>>,
    channel: unknown,
    raw: unknown,
  ): Promise<unknown> {
    if (typeof channel !== 'string' || !Object.hasOwn(schemas, channel)) throw new StationError('WRONG_WINDOW');
    if (this.closing && !READ_ONLY_CHANNELS.has(channel)) throw new StationError('STATION_CLOSING');
    const handler = handlers[channel] as (arg: unknown) => unknown;
    return handler(parseArg(schemas[channel] as Schema<unknown>, raw));
  }
}

type UntypedTable<T> = Readonly<Record<string, T>>;

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
