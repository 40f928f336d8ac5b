/**
 * The staff session at the desk (docs/architecture.md, "Staff sign-in"):
 * who is signed in, with which roles, and whether the screen is locked.
 *
 *   signed-out --sign in--> signed-in --lock | idle | OS lock--> locked
 *   locked --same person unlocks--> signed-in
 *   locked --another person signs in--> signed-in (the first is signed out)
 *   signed-in | locked --sign out--> signed-out
 *
 * Every change is an audit record (failed attempts too, with the user name tried but never the password).
 * Locking or ending the session calls `onSessionEnd`, which cancels and wipes a PIN entry in progress.
 */
import { StationError, toErrorInfo } from '../../../common/errors';
import type { StationErrorInfo } from '../../../common/errors';
import { canSetPins, normaliseUsername } from '../../../common/staff';
import type { AuthProvider, PracticeAccount, Role, StaffView } from '../../../common/staff';
import type { PracticeLogin } from './practice';
import { currentTotp, totpStep } from './totp';
import type { AuditStaffEntry, SecondFactor, StaffEvent } from '../audit';
import type { AuthConfig } from '../config';
import { stampRecordAs } from '../station-records';
import type { Logger } from '../log';
import { silentLogger } from '../log';
import { safeName, UNKNOWN_USERNAME } from './accounts';
import type { LocalAccountStore, PasswordCheck } from './accounts';

/** The person signed in. */
export interface StaffIdentity {
  readonly username: string;
  readonly displayName: string | null;
  readonly roles: readonly Role[];
  /**
   * With single sign-on: the provider's stable, unique subject (issuer and `sub`). A user name claim may be
   * changed or shared at the provider, so "the same person" is decided by this, never by the name.
   */
  readonly subject?: string;
  /** The second factor this sign-in passed (the station's TOTP check, or the identity provider's), when one was asked. */
  readonly factor?: SecondFactor;
}

/** Whether two identities are the same person: the subject when the provider gave one, else the account name. */
export function samePerson(a: StaffIdentity, b: StaffIdentity): boolean {
  if (a.subject !== undefined || b.subject !== undefined) return a.subject === b.subject;
  return normaliseUsername(a.username) === normaliseUsername(b.username);
}

/** A fresh single-sign-on login through the system browser (main/core/staff/oidc.ts). */
export interface SsoProvider {
  signIn(): Promise<StaffIdentity>;
  cancel(): void;
}

export interface StaffAuditSink {
  append(entry: AuditStaffEntry): Promise<unknown>;
}

export type LockReason = 'manual' | 'idle' | 'os';

export interface StaffSessionDeps {
  readonly auth: AuthConfig;
  readonly stationId: string;
  /** Local accounts; required for provider "local". */
  readonly accounts?: LocalAccountStore;
  /** Required for provider "oidc". */
  readonly sso?: SsoProvider;
  readonly audit?: StaffAuditSink;
  /** Records made with the embedded sandbox carry processor "sandbox". */
  readonly sandbox?: boolean;
  readonly practiceAccounts?: readonly PracticeLogin[];
  readonly log?: Logger;
  /** Called on every change of what the operator window shows. */
  readonly onChange: () => void;
  /**
   * Called when the screen locks ('lock') or the person's session ends ('end': sign-out, take-over, quit):
   * a PIN entry in progress must end; after 'end' nothing of the last card may stay on screen.
   */
  readonly onSessionEnd: (kind: 'lock' | 'end') => void;
  readonly now?: () => number;
}

type State =
  { readonly kind: 'signed-out' } | { readonly kind: 'signed-in'; readonly who: StaffIdentity } | { readonly kind: 'locked'; readonly who: StaffIdentity };

/** The warning before the idle lock: a minute, or half the idle time when that is shorter (short test timeouts). */
const WARNING_MS = 60_000;

export class StaffSession {
  private state: State = { kind: 'signed-out' };
  private notice: StationErrorInfo | null = null;
  private idleDeadline = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private warningTicker: NodeJS.Timeout | undefined;
  /** One sign-in or unlock at a time: a second click must not run two password checks or two browser logins. */
  private pending = false;
  /** A lock asked for (OS lock, Lock button) while a sign-in was being decided: applied as soon as it is. */
  private lockWhenDone: LockReason | null = null;
  /** Grows with every sign-in, lock and sign-out: work that waited (a Start on the keychain) checks it did not change. */
  private epochValue = 0;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly provider: AuthProvider;

  /** Practice accounts' codes change every 30 s: the banner is told when they do. */
  private practiceTicker: NodeJS.Timeout | undefined;

  constructor(private readonly deps: StaffSessionDeps) {
    this.log = deps.log ?? silentLogger;
    this.now = deps.now ?? Date.now;
    this.provider = deps.auth.provider;
    if ((deps.practiceAccounts?.length ?? 0) > 0 && this.codeRequired()) {
      let shownStep = totpStep(new Date(this.now()));
      this.practiceTicker = setInterval(() => {
        const step = totpStep(new Date(this.now()));
        if (step === shownStep) return;
        shownStep = step;
        if (this.state.kind !== 'signed-in') this.deps.onChange();
      }, 1000);
      this.practiceTicker.unref?.();
    }
  }

  private codeRequired(): boolean {
    return this.provider === 'local' && this.deps.auth.mfa === 'required';
  }

  /** What the banner shows of a practice account: its password and current code, never its secret. */
  private practiceView(account: PracticeLogin): PracticeAccount {
    const code = this.codeRequired() ? currentTotp(account.totpSecret, new Date(this.now())) : '';
    return { username: account.username, password: account.password, roles: account.roles, code };
  }

  view(): StaffView {
    const who = this.state.kind === 'signed-out' ? null : this.state.who;
    const left = this.idleDeadline - this.now();
    return {
      state: this.state.kind,
      provider: this.provider,
      codeRequired: this.codeRequired(),
      username: who?.username ?? null,
      displayName: who?.displayName ?? null,
      roles: who ? [...who.roles] : [],
      idleLockInSeconds: this.state.kind === 'signed-in' && left <= this.warningMs() ? Math.max(0, Math.ceil(left / 1000)) : null,
      notice: this.notice,
      // Only on the sign-in and lock screens: nobody signed in needs the practice passwords.
      practiceAccounts: this.state.kind === 'signed-in' ? [] : (this.deps.practiceAccounts ?? []).map((account) => this.practiceView(account)),
    };
  }

  /** Changes whenever who may act changes (sign-in, unlock, lock, sign-out). */
  get epoch(): number {
    return this.epochValue;
  }

  /** The person at the desk, when signed in and not locked; otherwise a typed refusal. */
  requireSignedIn(): StaffIdentity {
    if (this.state.kind === 'locked') throw new StationError('SESSION_LOCKED');
    if (this.state.kind !== 'signed-in') throw new StationError('SIGN_IN_REQUIRED');
    return this.state.who;
  }

  /** The person at the desk, who must hold a role that sets PINs. */
  requirePinSetter(): StaffIdentity {
    const who = this.requireSignedIn();
    if (!canSetPins(who.roles)) throw new StationError('ROLE_NOT_ALLOWED', 'Only an operator or a supervisor can set PINs.');
    return who;
  }

  /** Local sign-in (password and, with `auth.mfa` "required", the TOTP code). When the screen is locked, another person signing in signs the first out. */
  async signIn(typedUsername: string, password: string, code = ''): Promise<void> {
    this.requireProvider('local');
    if (this.state.kind === 'signed-in') throw new StationError('SESSION_BUSY', 'Someone is already signed in. Sign out first.');
    await this.exclusive(async (epoch) => this.begin(await this.checkLocal(typedUsername, password, code, 'sign-in-failed'), epoch));
  }

  /** Unlock by password and code: the same person continues; another person's valid sign-in signs the first out and them in. */
  async unlock(typedUsername: string, password: string, code = ''): Promise<void> {
    this.requireProvider('local');
    if (this.state.kind !== 'locked') throw new StationError('NO_SESSION', 'The screen is not locked.');
    await this.exclusive(async (epoch) => this.begin(await this.checkLocal(typedUsername, password, code, 'unlock-failed'), epoch));
  }

  async signInSso(): Promise<void> {
    this.requireProvider('oidc');
    if (this.state.kind === 'signed-in') throw new StationError('SESSION_BUSY', 'Someone is already signed in. Sign out first.');
    await this.exclusive(async (epoch) => this.begin(await this.checkSso('sign-in-failed'), epoch));
  }

  async unlockSso(): Promise<void> {
    this.requireProvider('oidc');
    if (this.state.kind !== 'locked') throw new StationError('NO_SESSION', 'The screen is not locked.');
    await this.exclusive(async (epoch) => this.begin(await this.checkSso('unlock-failed'), epoch));
  }

  /** Gives up a single sign-on in progress (the browser tab was closed, or the person changed their mind). */
  cancelSso(): void {
    // The provider runs one login at a time, a sign-in's or an approval's: cancelling ends whichever it is.
    this.deps.sso?.cancel();
  }

  /** Ends the session; allowed while locked (anyone may sign a locked session out). 'quit': the station is closing. */
  async signOut(reason: 'manual' | 'quit' = 'manual'): Promise<void> {
    if (this.state.kind === 'signed-out') {
      if (reason === 'quit') return;
      throw new StationError('SIGN_IN_REQUIRED');
    }
    const who = this.state.who;
    this.state = { kind: 'signed-out' };
    this.epochValue++;
    this.notice = null;
    this.stopIdleTimer();
    this.cancelSso();
    this.deps.onSessionEnd('end');
    this.log.info('staff.sign-out', { username: who.username, reason });
    this.deps.onChange();
    await this.record('sign-out', who.username, reason);
  }

  /** Locks the screen; a no-op unless someone is signed in (an OS lock may come at any time). */
  async lock(reason: LockReason): Promise<void> {
    // A sign-in being decided right now is locked the moment it is granted.
    if (this.pending) this.lockWhenDone = reason;
    if (this.state.kind !== 'signed-in') return;
    const who = this.state.who;
    this.state = { kind: 'locked', who };
    this.epochValue++;
    this.notice = reason === 'idle' ? new StationError('SIGNED_OUT_IDLE').toInfo() : null;
    this.stopIdleTimer();
    this.deps.onSessionEnd('lock');
    this.log.info('staff.lock', { username: who.username, reason });
    this.deps.onChange();
    await this.record('lock', who.username, reason);
  }

  /** The person at the desk did something: the idle lock starts counting again. */
  activity(): void {
    if (this.state.kind !== 'signed-in') return;
    const wasWarning = this.view().idleLockInSeconds !== null;
    this.armIdleTimer();
    if (wasWarning) this.deps.onChange();
  }

  dispose(): void {
    this.stopIdleTimer();
    clearInterval(this.practiceTicker);
    if (this.pending) this.deps.sso?.cancel();
  }

  private requireProvider(provider: AuthProvider): void {
    if (this.provider !== provider)
      throw new StationError('INVALID_REQUEST', `This station signs in with ${this.provider === 'oidc' ? 'single sign-on' : 'a password'}.`);
  }

  /** One sign-in at a time; the task gets the epoch it started in, so begin() can tell whether the desk changed meanwhile. */
  private async exclusive<T>(task: (epoch: number) => Promise<T>): Promise<T> {
    if (this.pending) throw new StationError('SESSION_BUSY', 'A sign-in is already in progress.');
    this.pending = true;
    this.lockWhenDone = null;
    try {
      return await task(this.epochValue);
    } finally {
      this.pending = false;
      const lockReason = this.lockWhenDone;
      this.lockWhenDone = null;
      if (lockReason !== null) await this.lock(lockReason);
    }
  }

  private async checkLocal(typedUsername: string, password: string, code: string, failedEvent: StaffEvent): Promise<StaffIdentity> {
    const accounts = this.deps.accounts;
    if (!accounts) throw new StationError('INTERNAL');
    let result: PasswordCheck;
    try {
      result = await accounts.checkSignIn(typedUsername, password, code, this.deps.auth.lockout, this.deps.auth.mfa);
    } catch (error) {
      const info = toErrorInfo(error);
      this.log.error('staff.store-failed', { code: info.code });
      await this.record(failedEvent, UNKNOWN_USERNAME, info.code);
      throw error;
    }
    if (result.ok) {
      const { username, displayName, roles } = result.account;
      return { username, displayName, roles, ...(result.factor ? { factor: result.factor } : {}) };
    }
    // Only an account's own name is written down: an unknown "name" may be a password typed into the wrong field.
    const shown = result.known ? safeName(typedUsername) : UNKNOWN_USERNAME;
    const reason = result.recorded ?? result.code;
    this.log.warn('staff.sign-in-failed', { username: shown, code: reason });
    await this.record(failedEvent, shown, reason);
    if (result.lockedNow) await this.record('lockout', shown, null);
    if (result.code === 'ACCOUNT_LOCKED_OUT') {
      const minutes = minutesUntil(result.lockedUntil, this.now());
      throw new StationError('ACCOUNT_LOCKED_OUT', `Try again in ${minutes} minute${minutes === 1 ? '' : 's'}, or ask an administrator to unlock it.`, minutes);
    }
    throw new StationError(result.code);
  }

  private async checkSso(failedEvent: StaffEvent): Promise<StaffIdentity> {
    const sso = this.deps.sso;
    if (!sso) throw new StationError('INTERNAL');
    try {
      return await sso.signIn();
    } catch (error) {
      const info = toErrorInfo(error);
      this.log.warn('staff.sign-in-failed', { provider: 'oidc', code: info.code });
      if (info.code !== 'SSO_CANCELLED') await this.record(failedEvent, '(single sign-on)', info.code);
      throw error;
    }
  }

  /** Signs `who` in: the person who was locked continues; anyone else replaces them. */
  private async begin(who: StaffIdentity, startedIn: number): Promise<void> {
    // Someone signed the locked session out (or it changed otherwise) while these credentials were checked:
    // they were meant for a screen that is no longer there.
    if (this.epochValue !== startedIn) throw new StationError('SESSION_BUSY', 'The screen changed while signing in. Try again.');
    // Nothing is granted unless the sign-in is on record.
    const previous = this.state.kind === 'signed-out' ? null : this.state.who;
    const same = previous !== null && samePerson(previous, who);
    if (previous !== null && !same) {
      this.state = { kind: 'signed-out' };
      this.epochValue++;
      this.deps.onSessionEnd('end');
      await this.record('sign-out', previous.username, 'other-user');
    }
    const recordingIn = this.epochValue;
    await this.recordOrRefuse(same ? 'unlock' : 'sign-in', who.username, null, who.factor).catch((error: unknown) => {
      this.log.error('audit.failed', { staffEvent: same ? 'unlock' : 'sign-in', code: toErrorInfo(error).code });
      // The trail's own codes (and the keychain's) say what is wrong; anything else is AUDIT_FAILED.
      throw error instanceof StationError ? error : new StationError('AUDIT_FAILED');
    });
    // A sign-out pressed while the record was written wins: its own record follows this one in the trail.
    if (this.epochValue !== recordingIn) throw new StationError('SESSION_BUSY', 'The screen changed while signing in. Try again.');
    this.state = { kind: 'signed-in', who };
    this.epochValue++;
    // Told to the newcomer: whoever was signed in before is signed out now.
    this.notice = previous !== null && !same ? new StationError('SIGNED_OUT_BY_OTHER', `(${previous.username})`).toInfo() : null;
    this.log.info(same ? 'staff.unlock' : 'staff.sign-in', { username: who.username, roles: who.roles.join(',') });
    this.armIdleTimer();
    this.deps.onChange();
  }

  private idleMs(): number {
    return Math.round(this.deps.auth.idleLockMinutes * 60_000);
  }

  private warningMs(): number {
    return Math.min(WARNING_MS, Math.floor(this.idleMs() / 2));
  }

  private armIdleTimer(): void {
    this.stopIdleTimer();
    this.idleDeadline = this.now() + this.idleMs();
    this.idleTimer = setTimeout(() => this.startWarning(), this.idleMs() - this.warningMs());
  }

  /** The last stretch before the lock: the window counts down once a second. */
  private startWarning(): void {
    this.deps.onChange();
    this.warningTicker = setInterval(() => {
      if (this.now() >= this.idleDeadline) {
        void this.lock('idle').catch(() => undefined);
        return;
      }
      this.deps.onChange();
    }, 250);
  }

  private stopIdleTimer(): void {
    clearTimeout(this.idleTimer);
    clearInterval(this.warningTicker);
    this.idleTimer = undefined;
    this.warningTicker = undefined;
    this.idleDeadline = Number.POSITIVE_INFINITY;
  }

  /** Records an event; a trail that cannot take it is logged, and the lock or failure still stands. */
  private async record(event: StaffEvent, username: string, reason: string | null): Promise<void> {
    await this.recordOrRefuse(event, username, reason).catch((error: unknown) => {
      this.log.error('audit.failed', { staffEvent: event, code: toErrorInfo(error).code });
    });
  }

  private async recordOrRefuse(event: StaffEvent, username: string, reason: string | null = null, factor?: SecondFactor): Promise<void> {
    await this.deps.audit?.append(
      stampRecordAs(
        { stationId: this.deps.stationId, sandbox: this.deps.sandbox },
        { type: 'staff', event, username, provider: this.provider, reason, ...(factor ? { factor } : {}) },
      ),
    );
  }
}

/** Whole minutes until a lockout ends (at least 1 while it lasts). */
function minutesUntil(lockedUntil: string | null, now: number): number {
  const end = lockedUntil === null ? now : Date.parse(lockedUntil);
  return Math.max(1, Math.ceil((end - now) / 60_000));
}
