/**
 * Typed message catalogues. A small typed catalogue instead of an i18n
 * library: three languages and about fifty messages, plural forms come from
 * the browser's own Intl.PluralRules, and a missing message is a compile error
 * (every language's file has the type PadCatalogue or OperatorCatalogue).
 *
 * Each page loads only its own part, one language at a time (pad/<lang>.ts,
 * operator/<lang>.ts, each a chunk of its own): the PIN pad needs none of the
 * staff, approval, audit and policy texts, and stays inside its 25 KB script
 * budget.
 */
import { ERROR_MESSAGES } from '../../../common/errors';
import type { ErrorCode, StationErrorInfo } from '../../../common/errors';
import type { AudioUnavailableReason, PadStep } from '../../../common/ipc';
import type { Language } from '../../../common/domain';
import type { ApprovalRule, Role } from '../../../common/staff';

export type PluralForms = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };

/** Each language's name in that language, for the language choosers of both pages. */
export const LANGUAGE_NAMES: Readonly<Record<Language, string>> = { en: 'English', ru: 'Русский', kk: 'Қазақша' };

/**
 * The errors the pad can show: what the PIN session refuses a key or an OK
 * with (main's padAction), plus the generic ones. Another code is shown in
 * main's own words.
 */
export const PAD_ERROR_CODES = [
  'INVALID_REQUEST',
  'NO_SESSION',
  'PIN_TOO_SHORT',
  'PIN_TOO_LONG',
  'PIN_MISMATCH',
  'PIN_MISMATCH_LIMIT',
  'PIN_REPEATED',
  'PIN_SEQUENCE',
  'PIN_DENIED',
  'PIN_CANCELLED',
  'PIN_TIMEOUT',
  'INTERNAL',
] as const satisfies readonly ErrorCode[];
export type PadErrorCode = (typeof PAD_ERROR_CODES)[number];

/** What the cardholder's pad says. */
export interface PadCatalogue {
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
    /** The visible status while audio guidance is on, for the operator and sighted helpers. */
    readonly audioOn: string;
  };
  readonly errors: Readonly<Record<PadErrorCode, string>>;
}

export interface OperatorAudioText {
  readonly checkbox: string;
  readonly unavailable: Readonly<Record<Exclude<AudioUnavailableReason, 'disabled'>, string>>;
  readonly onWarning: string;
}

/** What the operator window says: the desk, staff sign-in, approvals and every error. */
export interface OperatorCatalogue {
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
  /** Audio guidance for the cardholder: the per-card checkbox, why it cannot be offered, and the warning while it is on. */
  readonly audio: OperatorAudioText;
  readonly errors: Readonly<Record<ErrorCode, string>>;
}

// One rules object per language, made on first use: the dots' label is worked out at every key press, and making
// the rules costs several times more than using them.
const pluralRules = new Map<Language, Intl.PluralRules>();

export function plural(language: Language, forms: PluralForms, n: number): string {
  let rules = pluralRules.get(language);
  if (rules === undefined) pluralRules.set(language, (rules = new Intl.PluralRules(language)));
  const form = forms[rules.select(n)] ?? forms.other;
  return form.replace('{n}', String(n));
}

export function fill(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (match, name: string) => (name in values ? String(values[name]) : match));
}

/**
 * The message for an error in the window's language. Main's message is the
 * English text plus an optional detail (an entry name, an HTTP status), which
 * is kept; a code the catalogue has no text for falls back to main's message.
 */
export function errorText(catalogue: { readonly errors: Readonly<Partial<Record<ErrorCode, string>>> }, error: StationErrorInfo): string {
  if (!Object.prototype.hasOwnProperty.call(ERROR_MESSAGES, error.code)) return error.message;
  const code = error.code as ErrorCode;
  const translated = Object.prototype.hasOwnProperty.call(catalogue.errors, code) ? catalogue.errors[code] : undefined;
  if (translated === undefined) return error.message;
  const base = ERROR_MESSAGES[code];
  const detail = error.message.startsWith(base) ? error.message.slice(base.length).trim() : '';
  return detail ? `${translated} ${detail}` : translated;
}

/**
 * Loads one language's catalogue on first use (a dynamic import, so each
 * language is a chunk of its own) and keeps it: a page holds only the
 * languages someone chose. A failed load is forgotten, so the next call tries again.
 */
export function languageLoader<T>(imports: Readonly<Record<Language, () => Promise<T>>>): (language: Language) => Promise<T> {
  const loaded = new Map<Language, Promise<T>>();
  return (language) => {
    let pending = loaded.get(language);
    if (pending === undefined) {
      pending = imports[language]();
      pending.catch(() => loaded.delete(language));
      loaded.set(language, pending);
    }
    return pending;
  };
}

/**
 * For a window whose language may change again before the texts arrive (a component's $effect, which calls the
 * returned cancel when it re-runs): `show` gets the language's texts unless cancel ran first, so a slow answer never
 * replaces a newer choice. A failed load shows nothing: the texts on screen stay, and the next change tries again.
 */
export function showWhenLoaded<T>(load: (language: Language) => Promise<T>, language: Language, show: (texts: T) => void): () => void {
  let wanted = true;
  load(language).then(
    (texts) => {
      if (wanted) show(texts);
    },
    () => {},
  );
  return () => {
    wanted = false;
  };
}
