/**
 * The receiving side of the IPC contract: checks which window sent a message,
 * that the channel belongs to that window, and that the argument is valid,
 * then calls the station. It never throws and never returns a stack trace.
 */
import { StationError, toErrorInfo } from '../../common/errors';
import type { AuditExportFile, IpcHandler, IpcResult, OperatorInvoke, PinpadInvoke, WindowRole } from '../../common/ipc';
import { operatorArgSchemas, pinpadArgSchemas } from '../../common/ipc-validators';
import type { Station } from './station';
import type { StaffSession } from './staff/session';
import type { ApprovalDesk } from './approvals';
import { StartDesk } from './station-start';
import type { AuditExportFormat } from '../../common/domain';

type AuditExporter = (format: AuditExportFormat, username: string) => Promise<AuditExportFile>;

/** What the router needs beyond the station and the session. */
export interface RouterExtras {
  /** Dual control; without it no Start needs an approval (tests that predate it). */
  readonly approvals?: ApprovalDesk;
  /** The audit export for auditors, by the person asking (it is recorded under their name). */
  readonly exportAudit?: AuditExporter;
}

/** One function per channel, typed by the contract: a handler that returns the wrong shape does not compile. */
type Handlers<M extends { [K in keyof M]: { arg: unknown; result: unknown } }> = {
  readonly [C in keyof M]: (arg: M[C]['arg']) => M[C]['result'] | Promise<M[C]['result']>;
};

/** Channels that only read state; everything else starts or changes work. */
const READ_ONLY_CHANNELS: ReadonlySet<string> = new Set(['station:get-state', 'pinpad:get-state']);

/**
 * Who may call each operator channel, checked here in main on every call (the window only hides what a role
 * cannot do). Sign-in channels are open: the session checks its own state. Pad channels act only on an entry,
 * and an entry exists only after a Start that passed this table.
 */
type Access = 'anyone' | 'signed-in' | 'pin-setter' | 'auditor';
const OPERATOR_ACCESS: { readonly [C in keyof OperatorInvoke]: Access } = {
  'station:get-state': 'anyone',
  'station:start': 'pin-setter',
  'station:approve': 'pin-setter',
  'station:approve-sso': 'pin-setter',
  'audit:export': 'auditor',
  'station:cancel': 'signed-in',
  'station:next-card': 'signed-in',
  'staff:sign-in': 'anyone',
  'staff:sign-in-sso': 'anyone',
  'staff:unlock': 'anyone',
  'staff:unlock-sso': 'anyone',
  'staff:sign-out': 'anyone',
  'staff:cancel-sso': 'anyone',
  'staff:lock': 'anyone',
  'staff:activity': 'anyone',
};

export class IpcRouter implements IpcHandler {
  private closing = false;
  private readonly operatorHandlers: Handlers<OperatorInvoke>;
  private readonly pinpadHandlers: Handlers<PinpadInvoke>;

  constructor(
    station: Station,
    private readonly staff: StaffSession,
    extras: RouterExtras = {},
  ) {
    const desk = new StartDesk(station, staff, extras.approvals);
    const done = async (action: Promise<void>): Promise<null> => {
      await action;
      return null;
    };
    const act = (action: () => void): null => {
      action();
      return null;
    };
    this.operatorHandlers = {
      'station:get-state': () => station.operatorView(),
      'station:start': (request) => desk.start(request),
      'station:approve': (credentials) => desk.approve(credentials),
      'station:approve-sso': (sso) => desk.approveSso(sso),
      'audit:export': (arg) => exportAs(extras.exportAudit, arg.format, staff),
      'station:cancel': () => act(() => station.cancel()),
      'station:next-card': () => act(() => station.nextCard()),
      'staff:sign-in': (credentials) => done(staff.signIn(credentials.username, credentials.password, credentials.code)),
      'staff:sign-in-sso': () => done(staff.signInSso()),
      'staff:unlock': (credentials) => done(staff.unlock(credentials.username, credentials.password, credentials.code)),
      'staff:unlock-sso': () => done(staff.unlockSso()),
      'staff:sign-out': () => done(staff.signOut()),
      'staff:cancel-sso': () => act(() => staff.cancelSso()),
      'staff:lock': () => done(staff.lock('manual')),
      'staff:activity': () => null,
    };
    this.pinpadHandlers = {
      'pinpad:get-state': () => station.pinpadView(),
      'pinpad:press': (position) => station.press(position),
      'pinpad:erase': () => station.erase(),
      'pinpad:clear': () => station.clear(),
      'pinpad:submit': () => station.submit(),
      'pinpad:cancel': () => act(() => station.padCancel()),
      'pinpad:audio-device': (found) => act(() => station.noteAudioDevice(found)),
      'pinpad:language': (language) => act(() => station.noteCardholderLanguage(language)),
      'pinpad:outcome-cue-played': () => act(() => station.outcomeCuePlayed()),
    };
  }

  /** From the first quit on, nothing new starts: every action is refused; windows can still read state. */
  refuseActions(): void {
    this.closing = true;
  }

  /** `role` is null when the sender is not one of the station's own windows. */
  async handle(role: WindowRole | null, channel: unknown, arg: unknown): Promise<IpcResult<unknown>> {
    try {
      if (role === 'operator') {
        this.checkAccess(channel);
        return { ok: true, value: await this.dispatch(this.operatorHandlers, operatorArgSchemas, channel, arg) };
      }
      if (role === 'pinpad') return { ok: true, value: await this.dispatch(this.pinpadHandlers, pinpadArgSchemas, channel, arg) };
      return fail(new StationError('WRONG_WINDOW'));
    } catch (error) {
      return fail(error);
    }
  }

  /** The operator channel's access rule; any call but a state read also counts as activity for the idle lock. */
  private checkAccess(channel: unknown): void {
    if (typeof channel !== 'string' || !Object.hasOwn(OPERATOR_ACCESS, channel)) return; // dispatch refuses it
    // Closing comes first: after the first quit the person is signed out, and "closing" is the true reason.
    if (this.closing && !READ_ONLY_CHANNELS.has(channel)) throw new StationError('STATION_CLOSING');
    const access = OPERATOR_ACCESS[channel as keyof OperatorInvoke];
    if (access === 'pin-setter') this.staff.requirePinSetter();
    else if (access === 'signed-in') this.staff.requireSignedIn();
    else if (access === 'auditor' && !this.staff.requireSignedIn().roles.includes('auditor')) {
      throw new StationError('ROLE_NOT_ALLOWED', 'Only an auditor can export the audit trail.');
    }
    if (!READ_ONLY_CHANNELS.has(channel)) this.staff.activity();
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

/** The export, under the name of the person signed in (the access table has checked they are an auditor). */
function exportAs(exportAudit: AuditExporter | undefined, format: AuditExportFormat, staff: StaffSession): Promise<AuditExportFile> {
  if (!exportAudit) throw new StationError('INVALID_REQUEST', 'This station keeps no audit trail.');
  return exportAudit(format, staff.requireSignedIn().username);
}

function fail(error: unknown): IpcResult<never> {
  return { ok: false, error: toErrorInfo(error) };
}
