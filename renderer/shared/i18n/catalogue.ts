/**
 * Typed message catalogues. A small typed catalogue instead of an i18n
 * library: three languages and about fifty messages, plural forms come from
 * the browser's own Intl.PluralRules, a missing message is a compile error
 * (every catalogue has the type Catalogue), and the PIN pad stays well inside
 * its 25 KB script budget.
 */
import type { ErrorCode } from '../../../common/errors';
import type { Language, PadStep } from '../../../common/ipc';
import type { ApprovalRule, Role } from '../../../common/staff';

export type PluralForms = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };

export interface Catalogue {
  readonly languageName: string;
  readonly pad: {
    readonly enterTitle: string;
    readonly confirmTitle: string;
    /** "{n}" is replaced; used for "4 digits" and "4 to 12 digits". */
    readonly lengthExact: PluralForms;
    readonly lengthRange: string;
    /** The dots' accessible name: only ever the count. */
    readonly digitsEntered: PluralForms;
    readonly waitTitle: string;
    readonly waitBody: string;
    readonly erase: string;
    readonly clear: string;
    readonly ok: string;
    readonly cancel: string;
    readonly secondsLeft: string;
    readonly language: string;
  };
  readonly operator: {
    readonly title: string;
    readonly cardId: string;
    readonly cardIdEmpty: string;
    readonly cardIdHint: string;
    readonly pan: string;
    readonly modeLegend: string;
    readonly customer: string;
    readonly processor: string;
    readonly start: string;
    readonly cancelEntry: string;
    readonly nextCard: string;
    readonly ready: string;
    readonly waiting: Record<PadStep, string>;
    readonly digitsEntered: PluralForms;
    readonly secondsLeft: string;
    readonly restarted: string;
    readonly sending: string;
    readonly pinSet: string;
    readonly pinGenerated: string;
    readonly notSet: string;
    readonly outcomeUnknown: string;
    readonly notStarted: string;
    readonly unavailable: string;
    readonly unavailableFix: string;
    readonly status: string;
    readonly requestStatus: string;
    readonly time: string;
    readonly errorCode: string;
    readonly language: string;
    /** Beside a setting the organisation's managed policy sets: it cannot be changed here. */
    readonly setByOrganisation: string;
    readonly sandboxBanner: string;
    /** The processor's public key (public-key profile): "{n}" days to its certificate's notAfter. */
    readonly processorKeyExpiresIn: PluralForms;
    readonly processorKeyNoExpiry: string;
    /** Shown with the days left from 30 days before notAfter. */
    readonly processorKeyRenew: string;
    readonly processorKeyExpired: string;
  };
  readonly staff: {
    readonly signInTitle: string;
    readonly username: string;
    readonly password: string;
    /** The field for the authentication app's 6-digit code (TOTP). */
    readonly code: string;
    /** In the practice banner, before a practice account's current code. */
    readonly practiceCode: string;
    readonly signIn: string;
    readonly signInSso: string;
    /** Shown while the system browser is open for single sign-on. */
    readonly ssoWaiting: string;
    readonly cancelSso: string;
    readonly lockedTitle: string;
    /** "{name}": the person signed in when the screen locked. */
    readonly lockedFor: string;
    readonly unlock: string;
    readonly unlockSso: string;
    readonly signOut: string;
    readonly lock: string;
    /** "{name}": the person signed in. */
    readonly signedInAs: string;
    readonly roleNames: Readonly<Record<Role, string>>;
    /** "{n}": seconds until the idle lock. */
    readonly idleWarning: PluralForms;
    readonly stay: string;
    readonly noPinRole: string;
    readonly practiceAccounts: string;
    /** "{n}": minutes until a lockout ends. */
    readonly lockedOutFor: PluralForms;
    /** "{card}": a card whose request was under way when the station stopped. */
    readonly interrupted: string;
    readonly outcomePending: string;
    /** {time}: when shipping the audit trail to the bank's collector started failing (HH:MM). */
    readonly auditShippingDelayed: string;
    readonly exportAudit: string;
    readonly exportCsv: string;
    readonly exportJson: string;
    /** "{file}": the file name saved. */
    readonly exported: string;
  };
  readonly approval: {
    readonly title: string;
    /** Why the approval is needed; "{h}" is the repeat window in hours. */
    readonly rules: Readonly<Record<ApprovalRule, string>>;
    readonly username: string;
    readonly password: string;
    readonly code: string;
    readonly reason: string;
    readonly approve: string;
    readonly approveSso: string;
    readonly cancel: string;
  };
  readonly errors: Readonly<Record<ErrorCode, string>>;
}

export function plural(language: Language, forms: PluralForms, n: number): string {
  const form = forms[new Intl.PluralRules(language).select(n)] ?? forms.other;
  return form.replace('{n}', String(n));
}

export function fill(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (match, name: string) => (name in values ? String(values[name]) : match));
}
