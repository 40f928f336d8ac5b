/**
 * The station's vocabulary, in one place: names and formats that config,
 * the core, the audit trail, the admin scripts, the sandbox and the windows
 * must agree on. No Node, no DOM: every process may import it.
 */
import type { ErrorCode } from './errors';

/** Encryption profiles (docs/architecture.md, "The PIN's path"). */
export const PROFILE_NAMES = ['public-key', 'gcm', 'iso4'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];
/** The default: the processor's public key, so a station holds nothing that opens a PIN. */
export const DEFAULT_PROFILE: ProfileName = 'public-key';
/** The public-key profile's earlier name, still accepted in config (and found in older audit records). */
export const LEGACY_PROFILE_NAMES = { 'rsa-oaep': 'public-key' } as const satisfies Record<string, ProfileName>;

/** From this many days before the processor key's notAfter, the operator window warns. */
export const PROCESSOR_KEY_WARN_DAYS = 30;

/** Who chooses the PIN: the cardholder on the pad, or the processor (the request then has no `pin`). */
export const PIN_MODES = ['customer', 'processor'] as const;
export type PinMode = (typeof PIN_MODES)[number];

/** A PIN's length limits, whatever config asks: ISO 9564-1 format 4 holds 4 to 12 digits. */
export const PIN_MIN_LENGTH = 4;
export const PIN_MAX_LENGTH = 12;

/** The languages of both windows (each has its own default in config; staff and cardholders may switch). */
export const LANGUAGES = ['en', 'ru', 'kk'] as const;
export type Language = (typeof LANGUAGES)[number];

/** The file formats of an audit export, for an auditor at the desk and for `npm run audit -- export`. */
export const AUDIT_EXPORT_FORMATS = ['csv', 'json'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

/** Station IDs and keychain service names: letters, digits, ".", "_" or "-", 1 to 64. */
export const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const NAME_RULE = 'letters, digits, ".", "_" or "-" (1-64)';

/** The keychain service holding the station's keys unless config names another. */
export const DEFAULT_KEYCHAIN_SERVICE = 'pin-station';
/** The data folder's name under the OS's application-data folder (config, log, audit trail). */
export const DATA_DIR_NAME = 'pin-station';

/** An AES-256 key as stored in the keychain: 64 hexadecimal characters. */
export const AES256_KEY_HEX = /^[0-9a-fA-F]{64}$/;

/** A bearer token as sent in an HTTP header: printable ASCII, no spaces. */
export const PRINTABLE_TOKEN = /^[\x21-\x7e]+$/;

/** Failures after which the processor may or may not have applied the request: staff must check before trying again. */
const OUTCOME_UNKNOWN_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['OUTCOME_UNKNOWN', 'PROCESSOR_BAD_RESPONSE', 'STATION_STOPPED']);

export function isOutcomeUnknown(code: ErrorCode | null | undefined): boolean {
  return code !== null && code !== undefined && OUTCOME_UNKNOWN_CODES.has(code);
}
