/**
 * Local staff accounts (docs/architecture.md, "Staff sign-in"): one JSON file
 * in the data directory, `<dataDir>/staff/accounts.json`, holding user names,
 * roles, Argon2id hashes and the lockout counters.
 *
 * Integrity: the file carries an HMAC-SHA256 under the keychain entry
 * `staff-key`, so adding a role or clearing a lockout by editing the file is
 * detected and the station refuses every sign-in until an admin repairs it.
 * Rollback: every write bumps `generation`, and the keychain entry
 * `staff-generation` follows it. Writes go file first (temp + fsync + rename),
 * keychain second, so the file is the keychain's generation or one ahead
 * (a crash between the two); an older file put back in place (to undo a
 * lockout or a disabled account) is refused.
 *
 * Second factor: an enrolled account keeps its TOTP secret sealed under the
 * keychain entry `staff-mfa-key` (totp-seal.ts), with the last time step it
 * used (a code is accepted once only), inside the HMAC like every other field.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { StationError } from '../../../common/errors';
import { normaliseUsername, ROLES, USERNAME_PATTERN } from '../../../common/staff';
import type { Role } from '../../../common/staff';
import { AES256_KEY_HEX } from '../../../common/domain';
import type { KeyStore } from '../keystore';
import { fsyncDir, isErrno, writeAll } from '../durable-file';
import { withFileLock } from './file-lock';
import { checkDisplayName, checkRoles, checkUsername, safeName } from './account-fields';
import { ARGON2ID_PHC, decoyHash, hashPassword, passwordMatches } from './passwords';
import { matchSealedTotp, sealedTotpSchema, sealTotp } from './totp-seal';

const MAC_DOMAIN = 'pin-station-staff-accounts-v1\n';
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Where a station keeps its local accounts. */
export function staffFilePath(dataDir: string): string {
  return join(dataDir, 'staff', 'accounts.json');
}

const accountSchema = z.strictObject({
  username: z.string().regex(USERNAME_PATTERN),
  displayName: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[^\p{Cc}]+$/u)
    .nullable(),
  roles: z.array(z.enum(ROLES)).min(1).max(ROLES.length),
  passwordHash: z.string().regex(ARGON2ID_PHC),
  disabled: z.boolean(),
  failures: z.number().int().min(0).max(1000),
  lockedUntil: z.string().regex(ISO_TIME).nullable(),
  createdAt: z.string().regex(ISO_TIME),
  passwordChangedAt: z.string().regex(ISO_TIME),
  /** Absent until enrolled (and in files written before second factors existed). */
  totp: sealedTotpSchema.optional(),
});
const fileSchema = z.strictObject({
  version: z.literal(1),
  generation: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  accounts: z.array(accountSchema).max(10_000),
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});

type StoredAccount = z.output<typeof accountSchema>;
/** An account as shown to admins and the session: never its hash or its second-factor secret. */
export type StaffAccount = Omit<StoredAccount, 'passwordHash' | 'totp'> & { readonly mfaEnrolled: boolean };

/** Whether a sign-in needs the second factor (`auth.mfa`). */
export type MfaMode = 'required' | 'off';

export interface LockoutPolicy {
  readonly maxFailures: number;
  readonly minutes: number;
}

export type PasswordCheck =
  | {
      readonly ok: true;
      readonly account: StaffAccount;
      /** The second factor checked: 'totp', or null when `auth.mfa` is "off". */
      readonly factor: 'totp' | null;
    }
  | {
      readonly ok: false;
      readonly code: 'SIGN_IN_FAILED' | 'ACCOUNT_LOCKED_OUT' | 'ACCOUNT_DISABLED' | 'MFA_NOT_ENROLLED';
      /**
       * What the trail records when it differs from `code`: MFA_CODE_INVALID for a right password with a
       * wrong, missing or replayed code (the window is told only SIGN_IN_FAILED, so it never confirms a
       * password); MFA_NOT_ENROLLED when that attempt locked the account.
       */
      readonly recorded?: 'MFA_CODE_INVALID' | 'MFA_NOT_ENROLLED';
      /** When a lockout ends (set with ACCOUNT_LOCKED_OUT). */
      readonly lockedUntil: string | null;
      /** True when this very attempt reached the limit and locked the account. */
      readonly lockedNow: boolean;
      /** Whether the name is an account's: an unknown "name" may be a password typed into the wrong field, so it is never recorded. */
      readonly known: boolean;
    };

export interface NewAccount {
  readonly username: string;
  readonly displayName?: string | null;
  readonly roles: readonly Role[];
  readonly password: string;
}

export class LocalAccountStore {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => Date;

  constructor(
    readonly path: string,
    private readonly keyStore: KeyStore,
    options: { readonly now?: () => Date } = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Every account, without hashes. Rejects with STAFF_STORE_INVALID when the file fails its checks. */
  list(): Promise<StaffAccount[]> {
    return this.exclusive(async () => (await this.load()).accounts.map(publicView));
  }

  async add(input: NewAccount): Promise<StaffAccount> {
    const username = checkUsername(input.username);
    const roles = checkRoles(input.roles);
    const displayName = checkDisplayName(input.displayName ?? null);
    const passwordHash = await hashPassword(input.password);
    return this.mutate((accounts) => {
      if (accounts.some((account) => account.username === username))
        throw new StationError('INVALID_REQUEST', `An account named "${username}" already exists.`);
      const time = this.now().toISOString();
      const account: StoredAccount = {
        username,
        displayName,
        roles,
        passwordHash,
        disabled: false,
        failures: 0,
        lockedUntil: null,
        createdAt: time,
        passwordChangedAt: time,
      };
      accounts.push(account);
      return account;
    });
  }

  /** A new password; also ends a lockout, since an admin has just vouched for the person. */
  async setPassword(username: string, password: string): Promise<StaffAccount> {
    const passwordHash = await hashPassword(password);
    return this.update(username, (account) => ({
      ...account,
      passwordHash,
      passwordChangedAt: this.now().toISOString(),
      failures: 0,
      lockedUntil: null,
    }));
  }

  setDisabled(username: string, disabled: boolean): Promise<StaffAccount> {
    return this.update(username, (account) => ({ ...account, disabled }));
  }

  setRoles(username: string, roles: readonly Role[]): Promise<StaffAccount> {
    const checked = checkRoles(roles);
    return this.update(username, (account) => ({ ...account, roles: checked }));
  }

  unlock(username: string): Promise<StaffAccount> {
    return this.update(username, (account) => ({ ...account, failures: 0, lockedUntil: null }));
  }

  /**
   * Stores a second factor confirmed with a code of step `confirmedStep` (which is then used up). Replaces
   * any earlier one; the caller has shown the secret once and checked the code (npm run staff -- mfa enroll).
   * Also ends a lockout (tries made before enrolment count too): an admin has just vouched for the person.
   */
  async enrolTotp(username: string, secret: string, confirmedStep: number | null): Promise<StaffAccount> {
    const totp = await sealTotp(this.keyStore, normaliseUsername(username), secret, confirmedStep);
    return this.update(username, (account) => ({ ...account, totp, failures: 0, lockedUntil: null }));
  }

  /** Removes the second factor (a lost phone): the account cannot sign in until it is enrolled again. */
  resetTotp(username: string): Promise<StaffAccount> {
    return this.update(username, (account) => {
      const { totp: _removed, ...rest } = account;
      return rest;
    });
  }

  /** Password only, as with `auth.mfa: "off"`. */
  checkPassword(typedUsername: string, password: string, policy: LockoutPolicy): Promise<PasswordCheck> {
    return this.checkSignIn(typedUsername, password, '', policy, 'off');
  }

  /**
   * Checks a sign-in: a locked-out account is refused without looking at the
   * password; a wrong password counts towards the lockout; a right one
   * clears the count. A disabled account is named only after the right
   * password, so the answer never tells a guesser which names exist.
   * With `mfa` "required", the code must match the account's TOTP (current
   * step ±1, later than the last step it used); a wrong one counts towards
   * the same lockout. An account without a second factor is refused with
   * MFA_NOT_ENROLLED whatever the password, and the try counts: told only
   * after a right password, it would confirm the password with no second
   * factor, and uncounted, it would let that be asked without limit. The
   * price: that answer names an account not yet enrolled (enrol new accounts
   * before they are announced).
   */
  checkSignIn(typedUsername: string, password: string, code: string, policy: LockoutPolicy, mfa: MfaMode): Promise<PasswordCheck> {
    const username = normaliseUsername(typedUsername);
    return this.exclusive(async () => {
      const file = await this.load();
      const index = file.accounts.findIndex((account) => account.username === username);
      const account = file.accounts[index];
      if (account === undefined) {
        await passwordMatches(await decoyHash(), password);
        return { ok: false, code: 'SIGN_IN_FAILED', lockedUntil: null, lockedNow: false, known: false };
      }
      const now = this.now();
      if (account.lockedUntil !== null && Date.parse(account.lockedUntil) > now.getTime()) {
        // The hash is still checked (and ignored), so a locked name answers no faster than any other.
        await passwordMatches(account.passwordHash, password);
        return { ok: false, code: 'ACCOUNT_LOCKED_OUT', lockedUntil: account.lockedUntil, lockedNow: false, known: true };
      }
      const failed = async (recorded?: 'MFA_CODE_INVALID' | 'MFA_NOT_ENROLLED'): Promise<PasswordCheck> => {
        const failures = account.failures + 1;
        const locks = failures >= policy.maxFailures;
        const lockedUntil = locks ? new Date(now.getTime() + policy.minutes * 60_000).toISOString() : null;
        file.accounts[index] = { ...account, failures: locks ? 0 : failures, lockedUntil };
        await this.save(file.accounts, file.generation);
        const because = recorded ? { recorded } : {};
        return locks
          ? { ok: false, code: 'ACCOUNT_LOCKED_OUT', lockedUntil, lockedNow: true, known: true, ...because }
          : { ok: false, code: recorded === 'MFA_NOT_ENROLLED' ? recorded : 'SIGN_IN_FAILED', lockedUntil: null, lockedNow: false, known: true, ...because };
      };
      const passwordRight = await passwordMatches(account.passwordHash, password); // always checked: the same time for every answer
      if (mfa === 'required' && account.totp === undefined) return failed('MFA_NOT_ENROLLED');
      if (!passwordRight) return failed();
      if (account.disabled) return { ok: false, code: 'ACCOUNT_DISABLED', lockedUntil: null, lockedNow: false, known: true };
      let lastStep = account.totp?.lastStep ?? null;
      if (mfa === 'required' && account.totp) {
        const step = await matchSealedTotp(this.keyStore, account.username, account.totp, code, now);
        if (step === null) return failed('MFA_CODE_INVALID');
        lastStep = step;
      }
      if (account.failures !== 0 || account.lockedUntil !== null || lastStep !== (account.totp?.lastStep ?? null)) {
        file.accounts[index] = { ...account, failures: 0, lockedUntil: null, ...(account.totp ? { totp: { ...account.totp, lastStep } } : {}) };
        await this.save(file.accounts, file.generation);
      }
      return { ok: true, account: publicView(file.accounts[index] as StoredAccount), factor: mfa === 'required' ? 'totp' : null };
    });
  }

  private update(typedUsername: string, change: (account: StoredAccount) => StoredAccount): Promise<StaffAccount> {
    const username = normaliseUsername(typedUsername);
    return this.mutate((accounts) => {
      const index = accounts.findIndex((account) => account.username === username);
      const account = accounts[index];
      if (account === undefined) throw new StationError('INVALID_REQUEST', `No account is named "${safeName(username)}".`);
      const changed = change(account);
      accounts[index] = changed;
      return changed;
    });
  }

  private mutate(change: (accounts: StoredAccount[]) => StoredAccount): Promise<StaffAccount> {
    return this.exclusive(async () => {
      const file = await this.load();
      const accounts = [...file.accounts];
      const changed = change(accounts);
      await this.save(accounts, file.generation);
      return publicView(changed);
    });
  }

  /** The file's accounts after every check; an absent file with no generation recorded is an empty list. */
  private async load(): Promise<{ accounts: StoredAccount[]; generation: number }> {
    const recorded = await this.recordedGeneration();
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw new StationError('STAFF_STORE_INVALID', 'It could not be read: check the data directory.');
      if (recorded !== null) throw invalid('The file is missing, but accounts had been created on this station.');
      return { accounts: [], generation: 0 };
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw invalid('It is not valid JSON.');
    }
    const parsed = fileSchema.safeParse(value);
    if (!parsed.success) throw invalid('It has missing, unknown or malformed fields.');
    const key = await this.readKey(false);
    if (key === null) throw invalid('Its key ("staff-key") is missing from the keychain.');
    try {
      const expected = Buffer.from(macOf(key, parsed.data.generation, parsed.data.accounts), 'hex');
      if (!timingSafeEqual(expected, Buffer.from(parsed.data.mac, 'hex'))) throw invalid('Its seal does not match: it was edited.');
    } finally {
      key.fill(0);
    }
    const generation = parsed.data.generation;
    if (recorded !== null && generation !== recorded && generation !== recorded + 1) {
      throw invalid(generation < recorded ? 'It is an older copy put back in place.' : 'Its generation is ahead of the keychain.');
    }
    // A write whose keychain step failed (or a crash between the two): bring the keychain up to the file,
    // so the copy before it can no longer pass.
    if (recorded !== generation) await this.keyStore.set('staff-generation', String(generation));
    const names = new Set(parsed.data.accounts.map((account) => account.username));
    if (names.size !== parsed.data.accounts.length) throw invalid('It names an account twice.');
    return { accounts: parsed.data.accounts, generation };
  }

  private async save(accounts: readonly StoredAccount[], previousGeneration: number): Promise<void> {
    const generation = previousGeneration + 1;
    const key = await this.readKey(true);
    let text: string;
    try {
      text = `${JSON.stringify({ version: 1, generation, accounts, mac: macOf(key as Buffer, generation, accounts) }, null, 2)}\n`;
    } finally {
      key?.fill(0);
    }
    const dir = dirname(this.path);
    const temp = `${this.path}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const handle = await open(temp, 'wx', 0o600);
      try {
        await writeAll(handle, Buffer.from(text, 'utf8'), 0);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.path);
      await fsyncDir(dir);
    } catch {
      await rm(temp, { force: true }).catch(() => undefined);
      throw new StationError('STAFF_STORE_INVALID', 'It could not be written: check the disk and the data directory. Nothing was changed.');
    }
    await this.keyStore.set('staff-generation', String(generation));
  }

  private async recordedGeneration(): Promise<number | null> {
    const value = await this.keyStore.get('staff-generation');
    if (value === null || value === '') return null;
    if (!/^\d{1,15}$/.test(value)) throw invalid('Its generation in the keychain ("staff-generation") is malformed.');
    return Number(value);
  }

  /** The HMAC key as bytes (the caller zeroes them); made on the first write only. */
  private async readKey(create: boolean): Promise<Buffer | null> {
    let value = await this.keyStore.get('staff-key');
    if ((value === null || value === '') && create) {
      const fresh = randomBytes(32);
      await this.keyStore.set('staff-key', fresh.toString('hex').toUpperCase());
      fresh.fill(0);
      value = await this.keyStore.get('staff-key');
    }
    if (value === null || value === '') return null;
    if (!AES256_KEY_HEX.test(value)) throw new StationError('KEYCHAIN_ENTRY_MALFORMED', 'Entry "staff-key" must be 64 hexadecimal characters.');
    return Buffer.from(value, 'hex');
  }

  /** One task at a time in this process, and under the file lock against other processes (npm run staff). */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const locked = (): Promise<T> => withFileLock(this.path, task);
    const run = this.queue.then(locked, locked);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

// The station and the admin CLI import these from here.
export { checkUsername, safeName, UNKNOWN_USERNAME } from './account-fields';

function macOf(key: Buffer, generation: number, accounts: readonly StoredAccount[]): string {
  return createHmac('sha256', key)
    .update(MAC_DOMAIN)
    .update(JSON.stringify({ version: 1, generation, accounts }))
    .digest('hex');
}

function invalid(detail: string): StationError {
  return new StationError(
    'STAFF_STORE_INVALID',
    `${detail} No one can sign in with a local account until an admin restores it (see the administrator's guide, "Staff sign-in").`,
  );
}

function publicView(account: StoredAccount): StaffAccount {
  const { passwordHash: _hash, totp, ...rest } = account;
  return { ...rest, mfaEnrolled: totp !== undefined };
}
