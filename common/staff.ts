/**
 * Staff identity shared by every process: roles, what each role may do, the
 * account name and password rules, and what the operator window is told
 * about the person signed in. No Node, no DOM.
 */
import type { StationErrorInfo } from './errors';

/** Roles a member of staff may hold; a person may hold several. */
export const ROLES = ['operator', 'supervisor', 'admin', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** Roles that may set PINs. An admin manages accounts and settings, an auditor reads the trail: neither sets PINs. */
export const PIN_SETTING_ROLES: readonly Role[] = ['operator', 'supervisor'];

export function canSetPins(roles: readonly Role[]): boolean {
  return roles.some((role) => PIN_SETTING_ROLES.includes(role));
}

/** How staff sign in: the bank's identity provider (OpenID Connect) or accounts kept on this station. */
export const AUTH_PROVIDERS = ['local', 'oidc'] as const;
export type AuthProvider = (typeof AUTH_PROVIDERS)[number];

/** Local user names: lower-case letters, digits, ".", "_", "-" or "@", 1 to 64, starting with a letter or digit. */
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._@-]{0,63}$/;
export const USERNAME_RULE = 'lower-case letters, digits, ".", "_", "-" or "@" (1-64, starting with a letter or digit)';

/** PCI DSS 8.3.6 asks for at least 12 characters; the upper bound keeps hashing cheap for a hostile input. */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

/** A user name as typed: trimmed and lower-cased, so "Anna.K " and "anna.k" are one account. */
export function normaliseUsername(typed: string): string {
  return typed.trim().toLowerCase();
}

export type StaffState = 'signed-out' | 'signed-in' | 'locked';

/**
 * Starts that need a supervisor's approval (dual control, ISO 9564-1), as `approval.require` lists them:
 * a processor-generated PIN; a second set for the same card within the repeat window; any attempt after one
 * whose outcome is unknown; or every set.
 */
export const APPROVAL_RULES = ['processor-generated', 'repeat', 'after-outcome-unknown', 'every-set'] as const;
export type ApprovalRule = (typeof APPROVAL_RULES)[number];

/** What the operator window is told when a Start needs an approval. */
export interface ApprovalRequirement {
  readonly rule: ApprovalRule;
  /** `repeat` and `after-outcome-unknown` need a reason. */
  readonly reasonRequired: boolean;
}

/** A practice account the embedded sandbox made; shown in its banner, never on a station with a real processor. */
export interface PracticeAccount {
  readonly username: string;
  readonly password: string;
  readonly roles: readonly Role[];
  /** Its authentication code for the current 30-second step (the secret itself stays in main); empty with `auth.mfa` "off". */
  readonly code: string;
}

/** What the operator window knows about the person at the desk. Never a password, token or code. */
export interface StaffView {
  readonly state: StaffState;
  readonly provider: AuthProvider;
  /** Whether a local sign-in, unlock or approval asks for an authentication code (`auth.mfa`). */
  readonly codeRequired: boolean;
  /** The account (local) or the identity provider's user name (oidc); null when signed out. */
  readonly username: string | null;
  readonly displayName: string | null;
  readonly roles: readonly Role[];
  /** Seconds until the idle lock, shown only in the last minute before it; null otherwise. */
  readonly idleLockInSeconds: number | null;
  /** Why the last session ended or the screen locked (idle, signed out by another person), for the next screen. */
  readonly notice: StationErrorInfo | null;
  /** Only with the embedded sandbox processor. */
  readonly practiceAccounts: readonly PracticeAccount[];
}
