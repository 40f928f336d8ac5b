/**
 * The audit trail's format (docs/architecture.md, "The audit trail"): append-only JSON Lines,
 * one record per card outcome, chained with HMAC-SHA256 under the keychain
 * entry `audit-key`. A record holds who/what/when and the processor's answer,
 * never a PIN, a PIN block, a PAN or a key: the entry schema is strict, so a
 * field that is not listed below cannot reach the file.
 *
 * On disk (`<dataDir>/audit/audit.jsonl`), one object per line, fields in this
 * order:
 *
 *   entry: seq, time, stationId, operator, cardId, mode, profile,
 *          [processor: "sandbox", only when the emulator was the processor],
 *          outcome, requestStatus, errorCode, prev, mac
 *   seal:  seq, time, type ("seal"), tornBytes, tornSha256, prev, mac
 *   staff: seq, time, type ("staff"), stationId, event, username, provider,
 *          reason, [factor: "totp" | "idp"], [processor: "sandbox"], prev, mac
 *   approval: seq, time, type ("approval"), stationId, event (granted,
 *          refused, expired), rule, cardId, operator, approver, method,
 *          reason, errorCode, [factor], [processor], prev, mac
 *   export: seq, time, type ("export"), stationId, username, format,
 *          records, [processor], prev, mac
 *   attempt: seq, time, type ("attempt"), stationId, attemptId, operator,
 *          cardId, mode, profile, [approver], [processor], prev, mac
 *   key-load: seq, time, type ("key-load"), stationId, account, components
 *          (2 or 3), custodians (names, in the order they entered),
 *          componentKcvs (CMAC KCVs, same order), keyKcv (CMAC), keyKcvLegacy,
 *          prev, mac
 *   policy: seq, time, type ("policy"), stationId, event (applied, refused),
 *          location, changes ("setting: old -> new (when)"), reason,
 *          [processor], prev, mac
 *   processor-key: seq, time, type ("processor-key"), stationId, event
 *          ("promoted"), cause ("not-before" or "promote"), oldKcv (null when
 *          there was none), newKcv, notAfter (null for a bare key),
 *          [processor], prev, mac
 *   staff-admin: seq, time, type ("staff-admin"), stationId, action, username,
 *          rolesBefore (null for add), rolesAfter, osUser, prev, mac
 *
 * Write-ahead: an attempt record is on disk before the first byte of a
 * set_pin request leaves; the card record of its outcome names the same
 * attemptId. An attempt without an outcome (the station stopped during the
 * request) is closed at the next start by an outcome-unknown record with
 * errorCode STATION_STOPPED.
 *
 * A card record whose entry had audio guidance carries audio: true (after
 * attemptId); without it the field is absent.
 *
 * A card record made under a supervisor's approval also carries, after
 * errorCode: approver, approvalMethod, approvalRule, approvalReason and, when
 * the rule refers to an earlier attempt, previousAttempt (its seq).
 *
 * A key-load record is written by `npm run keys -- import <key> --components N`
 * once a key loaded from components (split knowledge, dual control) is in
 * the keychain: who the custodians were and the check values, never a
 * component or the key.
 *
 * A staff-admin record is written by `npm run staff` for every change to a
 * local account (add, passwd, disable, enable, unlock, roles, mfa-enroll,
 * mfa-reset): which account, its roles before and after, and the
 * operating-system account that ran the command; never a password or a
 * second-factor secret.
 *
 * A staff record is a sign-in (or a failed one, with the user name tried but
 * never the password), sign-out, lock, unlock or lockout. `username` is the
 * name typed only when it names an account ("(unknown user name)"
 * otherwise), so a password typed into the wrong field never reaches the trail.
 *
 * `seq` starts at 1 and is consecutive; `prev` is the previous record's `mac`
 * (64 zeros for record 1); `mac` is HMAC-SHA256(audit-key, MAC_DOMAIN + body)
 * in lowercase hex, where body is the line's JSON without `mac` (the exact
 * bytes written, so verify also rejects re-spaced, re-ordered or duplicated
 * fields).
 *
 * Head anchor. Deleting whole records from the end leaves a valid-looking
 * chain, so after each append the last seq and mac are also written, with an
 * HMAC of their own, to `<file>.head` (temp file + fsync + rename + directory
 * fsync). Writes happen in this order: record line (one write, fsync), then
 * head. Before writing record N+1, append first brings a lagging head up to
 * record N. Hence, at every instant, even under SIGKILL or power loss:
 *
 *   head.seq === last complete seq, or head.seq === last complete seq - 1
 *   (killed between the record's fsync and the head's rename);
 *   no head file at all only while the trail has at most one record.
 *
 * verify accepts exactly those states. head.seq greater than the last record
 * means records were cut off (the first missing seq is named); head.seq more
 * than one behind means the anchor was replaced by an older copy. What the
 * anchor cannot catch: an attacker who deletes records *and* restores an
 * older head file they kept, or who deletes the whole trail with its head.
 *
 * Torn tail. A final line without its newline, or a final line that is not
 * JSON, is an incomplete write (crash, power loss, full disk). It is never
 * dropped silently: verify reports it, append refuses to write after it, and
 * sealAuditFile() copies the torn bytes to `<file>.torn-<time>` (fsync) and
 * then overwrites them in place with a `seal` record naming their length and
 * SHA-256. If the head shows the damaged record had been completely written,
 * it is not a crash artifact and seal refuses.
 *
 * One writer per file: AuditLog serialises its own appends; the app's
 * single-instance lock keeps a second station off the file. Run the seal
 * command with the station closed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { LEGACY_PROFILE_NAMES, NAME_PATTERN, PIN_MODES, PROFILE_NAMES } from '../../../common/domain';
import type { PinMode, ProfileName } from '../../../common/domain';
import { APPROVAL_RULES, ROLES, USERNAME_PATTERN } from '../../../common/staff';
import type { ApprovalRule, Role } from '../../../common/staff';
import { StationError } from '../../../common/errors';

export const AUDIT_OUTCOMES = ['pin-set', 'pin-generated', 'rejected', 'failed', 'outcome-unknown', 'cancelled', 'timeout'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** What the Station hands to append(). Nothing else is accepted (strict schema). */
export interface AuditEntry {
  /** Card records have no type (they came first); other kinds name theirs. */
  type?: never;
  stationId: string;
  operator: string;
  cardId: string;
  mode: PinMode;
  profile: ProfileName;
  outcome: AuditOutcome;
  requestStatus: string | null;
  errorCode: string | null;
  /** Present only when the station's processor was the built-in emulator, so a practice record cannot pass for a real one. */
  processor?: 'sandbox';
  /** Present only when a supervisor approved the Start (dual control). */
  approver?: string;
  approvalMethod?: 'password' | 'sso';
  approvalRule?: ApprovalRule;
  approvalReason?: string | null;
  /** The seq of the earlier attempt the approval rule referred to (repeat, after outcome unknown). */
  previousAttempt?: number;
  /** The write-ahead attempt record this outcome closes (requests that were sent). */
  attemptId?: string;
  /** Present only when the cardholder had audio guidance. */
  audio?: true;
}

/** Written before a set_pin request is sent (write-ahead). */
export interface AuditAttemptEntry {
  type: 'attempt';
  stationId: string;
  attemptId: string;
  operator: string;
  cardId: string;
  mode: PinMode;
  profile: ProfileName;
  approver?: string;
  processor?: 'sandbox';
}

export const APPROVAL_EVENTS = ['granted', 'refused', 'expired'] as const;

/** A supervisor's approval granted, refused or left to expire. */
export interface AuditApprovalEntry {
  type: 'approval';
  stationId: string;
  event: (typeof APPROVAL_EVENTS)[number];
  rule: ApprovalRule;
  cardId: string;
  operator: string;
  /** The approver (for a refusal: the name tried when it names an account). */
  approver: string;
  method: 'password' | 'sso';
  reason: string | null;
  errorCode: string | null;
  /** The approver's second factor, on a grant. */
  factor?: SecondFactor;
  processor?: 'sandbox';
}

/** An audit export made in the app by an auditor. */
export interface AuditExportEntry {
  type: 'export';
  stationId: string;
  username: string;
  format: 'csv' | 'json';
  records: number;
  processor?: 'sandbox';
}

export const STAFF_EVENTS = ['sign-in', 'sign-in-failed', 'sign-out', 'lock', 'unlock', 'unlock-failed', 'lockout'] as const;
export type StaffEvent = (typeof STAFF_EVENTS)[number];

/** A staff sign-in event, as the session hands it to append(). */
export interface AuditStaffEntry {
  type: 'staff';
  stationId: string;
  event: StaffEvent;
  username: string;
  provider: 'local' | 'oidc';
  /** Why: an error code for a failure, or how a lock or sign-out came about (manual, idle, os, other-user, quit). */
  reason: string | null;
  /** The second factor a sign-in or unlock passed: the station's TOTP check, or the identity provider's (amr/acr). */
  factor?: SecondFactor;
  processor?: 'sandbox';
}

export const SECOND_FACTORS = ['totp', 'idp'] as const;
export type SecondFactor = (typeof SECOND_FACTORS)[number];

/** An entry as written: the entry plus its place in the chain. */
export interface AuditRecord extends AuditEntry {
  seq: number;
  time: string;
  prev: string;
  mac: string;
}

/** Written by sealAuditFile() in place of a torn final line. */
export interface AuditSealRecord {
  seq: number;
  time: string;
  type: 'seal';
  tornBytes: number;
  tornSha256: string;
  prev: string;
  mac: string;
}

/** Written by `npm run audit -- reset --acknowledge` as record 1 of a new trail, after records were lost. */
export interface AuditResetRecord {
  seq: number;
  time: string;
  type: 'reset';
  /** What the high-water mark showed: the trail was missing, shorter than the mark, replaced, or damaged. */
  cause: AuditResetCause;
  /** The first and last seq that are no longer verifiable on this computer (null when it cannot be told). */
  lostFrom: number | null;
  lostTo: number | null;
  /** The high-water mark's seq and mac at the reset (null when there was none). */
  markSeq: number | null;
  markMac: string | null;
  /** File name the old trail was kept under, next to the new one (null when there was no file). */
  keptAs: string | null;
  /** The operating-system account that ran the reset. */
  acknowledgedBy: string;
  prev: string;
  mac: string;
}

export const AUDIT_RESET_CAUSES = ['trail-missing', 'trail-shorter', 'trail-replaced', 'trail-damaged'] as const;
export type AuditResetCause = (typeof AUDIT_RESET_CAUSES)[number];

export interface AuditStaffRecord extends AuditStaffEntry {
  seq: number;
  time: string;
  prev: string;
  mac: string;
}

export const KEY_LOAD_ACCOUNTS = ['pin-key', 'audit-key'] as const;
export type KeyLoadAccount = (typeof KEY_LOAD_ACCOUNTS)[number];

/** A key loaded from 2 or 3 components by as many custodians (`npm run keys -- import <key> --components N`). */
export interface AuditKeyLoadEntry {
  type: 'key-load';
  stationId: string;
  account: KeyLoadAccount;
  components: 2 | 3;
  /** One name a custodian, in the order they entered their component. */
  custodians: string[];
  /** CMAC KCV (10 uppercase hex) of each component, in custodian order. */
  componentKcvs: string[];
  /** The loaded key's CMAC KCV (10 uppercase hex) and legacy AES-ECB KCV (6 uppercase hex). */
  keyKcv: string;
  keyKcvLegacy: string;
}

export type AuditApprovalRecord = AuditApprovalEntry & { seq: number; time: string; prev: string; mac: string };
export type AuditExportRecord = AuditExportEntry & { seq: number; time: string; prev: string; mac: string };
export type AuditAttemptRecord = AuditAttemptEntry & { seq: number; time: string; prev: string; mac: string };
export type AuditKeyLoadRecord = AuditKeyLoadEntry & { seq: number; time: string; prev: string; mac: string };

/**
 * The managed policy changed while the station ran: `applied` (between cards) lists each changed setting as
 * "path: old -> new (when)", with "(next card)" or "(at the next start)"; `refused` names why the new policy
 * could not be used (the station keeps the one it had).
 */
export interface AuditPolicyEntry {
  type: 'policy';
  stationId: string;
  event: 'applied' | 'refused';
  location: string;
  changes: string[];
  reason: string | null;
  processor?: 'sandbox';
}
export type AuditPolicyRecord = AuditPolicyEntry & { seq: number; time: string; prev: string; mac: string };

/**
 * The processor's next key (pin-public-key-next) became the current one: on its certificate's notBefore (the
 * station, at a start or a Start) or by `keys promote`. The keys are named by their fingerprint KCVs.
 */
export interface AuditProcessorKeyEntry {
  type: 'processor-key';
  stationId: string;
  event: 'promoted';
  cause: 'not-before' | 'promote';
  oldKcv: string | null;
  newKcv: string;
  notAfter: string | null;
  processor?: 'sandbox';
}
export type AuditProcessorKeyRecord = AuditProcessorKeyEntry & { seq: number; time: string; prev: string; mac: string };

export const STAFF_ADMIN_ACTIONS = ['add', 'passwd', 'disable', 'enable', 'unlock', 'roles', 'mfa-enroll', 'mfa-reset'] as const;
export type StaffAdminAction = (typeof STAFF_ADMIN_ACTIONS)[number];

/** A change to a local account made with `npm run staff` (PCI DSS 10.2.1.5): never a password or secret. */
export interface AuditStaffAdminEntry {
  type: 'staff-admin';
  stationId: string;
  action: StaffAdminAction;
  username: string;
  /** Null when the account was created by this change. */
  rolesBefore: Role[] | null;
  rolesAfter: Role[];
  /** The operating-system account that ran the command. */
  osUser: string;
}
export type AuditStaffAdminRecord = AuditStaffAdminEntry & { seq: number; time: string; prev: string; mac: string };

export type AuditLine =
  | AuditRecord
  | AuditSealRecord
  | AuditResetRecord
  | AuditStaffRecord
  | AuditApprovalRecord
  | AuditExportRecord
  | AuditAttemptRecord
  | AuditKeyLoadRecord
  | AuditPolicyRecord
  | AuditProcessorKeyRecord
  | AuditStaffAdminRecord;
/** Anything append() takes. */
export type AuditInput =
  | AuditEntry
  | AuditStaffEntry
  | AuditApprovalEntry
  | AuditExportEntry
  | AuditAttemptEntry
  | AuditKeyLoadEntry
  | AuditPolicyEntry
  | AuditProcessorKeyEntry
  | AuditStaffAdminEntry;

/** `prev` of record 1. */
export const AUDIT_GENESIS = '0'.repeat(64);
/** Prefixes of the HMAC input, so a record MAC can never be replayed as a head MAC or the reverse. */
export const AUDIT_MAC_DOMAIN = 'pin-station-audit-record-v1\n';
export const AUDIT_HEAD_DOMAIN = 'pin-station-audit-head-v1\n';

// `processor` is left out of the JSON when absent, so records written before it existed verify unchanged.
const ENTRY_FIELDS = [
  'seq',
  'time',
  'stationId',
  'operator',
  'cardId',
  'mode',
  'profile',
  'processor',
  'outcome',
  'requestStatus',
  'errorCode',
  'approver',
  'approvalMethod',
  'approvalRule',
  'approvalReason',
  'previousAttempt',
  'attemptId',
  'audio',
  'prev',
] as const;
const SEAL_FIELDS = ['seq', 'time', 'type', 'tornBytes', 'tornSha256', 'prev'] as const;
const RESET_FIELDS = ['seq', 'time', 'type', 'cause', 'lostFrom', 'lostTo', 'markSeq', 'markMac', 'keptAs', 'acknowledgedBy', 'prev'] as const;
const STAFF_FIELDS = ['seq', 'time', 'type', 'stationId', 'event', 'username', 'provider', 'reason', 'factor', 'processor', 'prev'] as const;
const APPROVAL_FIELDS = [
  'seq',
  'time',
  'type',
  'stationId',
  'event',
  'rule',
  'cardId',
  'operator',
  'approver',
  'method',
  'reason',
  'errorCode',
  'factor',
  'processor',
  'prev',
] as const;
const EXPORT_RECORD_FIELDS = ['seq', 'time', 'type', 'stationId', 'username', 'format', 'records', 'processor', 'prev'] as const;
const ATTEMPT_FIELDS = ['seq', 'time', 'type', 'stationId', 'attemptId', 'operator', 'cardId', 'mode', 'profile', 'approver', 'processor', 'prev'] as const;
const POLICY_FIELDS = ['seq', 'time', 'type', 'stationId', 'event', 'location', 'changes', 'reason', 'processor', 'prev'] as const;
const PROCESSOR_KEY_FIELDS = ['seq', 'time', 'type', 'stationId', 'event', 'cause', 'oldKcv', 'newKcv', 'notAfter', 'processor', 'prev'] as const;
const KEY_LOAD_FIELDS = ['seq', 'time', 'type', 'stationId', 'account', 'components', 'custodians', 'componentKcvs', 'keyKcv', 'keyKcvLegacy', 'prev'] as const;
const STAFF_ADMIN_FIELDS = ['seq', 'time', 'type', 'stationId', 'action', 'username', 'rolesBefore', 'rolesAfter', 'osUser', 'prev'] as const;
const FIELDS_BY_TYPE: Readonly<Record<string, readonly string[]>> = {
  attempt: ATTEMPT_FIELDS,
  seal: SEAL_FIELDS,
  reset: RESET_FIELDS,
  staff: STAFF_FIELDS,
  approval: APPROVAL_FIELDS,
  export: EXPORT_RECORD_FIELDS,
  'key-load': KEY_LOAD_FIELDS,
  policy: POLICY_FIELDS,
  'processor-key': PROCESSOR_KEY_FIELDS,
  'staff-admin': STAFF_ADMIN_FIELDS,
};
/** Every field name that may appear in the file, for tests and reviewers. */
export const AUDIT_RECORD_FIELDS: readonly string[] = [
  ...new Set<string>([
    ...ENTRY_FIELDS,
    ...SEAL_FIELDS,
    ...RESET_FIELDS,
    ...STAFF_FIELDS,
    ...APPROVAL_FIELDS,
    ...EXPORT_RECORD_FIELDS,
    ...ATTEMPT_FIELDS,
    ...KEY_LOAD_FIELDS,
    ...POLICY_FIELDS,
    ...PROCESSOR_KEY_FIELDS,
    ...STAFF_ADMIN_FIELDS,
    'mac',
  ]),
];

export type AuditErrorCode = 'AUDIT_TORN_TAIL' | 'AUDIT_CHAIN_BROKEN' | 'AUDIT_TRAIL_LOST' | 'AUDIT_WRITE_FAILED' | 'AUDIT_INVALID_ENTRY';

/** An audit failure: a StationError with an audit code. Its detail names fields and record numbers, never a value. */
export class AuditError extends StationError {
  declare readonly code: AuditErrorCode;
  constructor(code: AuditErrorCode, detail: string) {
    super(code, detail);
    this.name = 'AuditError';
  }
}

// Any card ID the station's (configurable) rule admits: printable, no control characters.
const AUDIT_CARD_ID_PATTERN = /^[^\p{Cc}]{1,256}$/u;
const ERROR_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;
const NO_CONTROL = /^[^\p{Cc}]*$/u;
const HEX64 = /^[0-9a-f]{64}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Longest line append will ever write is well under 2 KiB; tail reads look at this much. */
export const TAIL_WINDOW = 64 * 1024;

// Records written before the public-key profile was renamed say "rsa-oaep"; they must still verify as written.
const RECORDED_PROFILE = z.enum([...PROFILE_NAMES, ...(Object.keys(LEGACY_PROFILE_NAMES) as (keyof typeof LEGACY_PROFILE_NAMES)[])]);
const entryShape = {
  stationId: z.string().regex(NAME_PATTERN),
  operator: z.string().min(1).max(128).regex(NO_CONTROL),
  cardId: z.string().regex(AUDIT_CARD_ID_PATTERN),
  mode: z.enum(PIN_MODES),
  profile: RECORDED_PROFILE,
  outcome: z.enum(AUDIT_OUTCOMES),
  requestStatus: z.string().max(256).regex(NO_CONTROL).nullable(),
  errorCode: z.string().regex(ERROR_CODE_PATTERN).nullable(),
  processor: z.literal('sandbox').optional(),
  approver: z.string().min(1).max(128).regex(NO_CONTROL).optional(),
  approvalMethod: z.enum(['password', 'sso']).optional(),
  approvalRule: z.enum(APPROVAL_RULES).optional(),
  approvalReason: z.string().max(500).regex(NO_CONTROL).nullable().optional(),
  previousAttempt: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  attemptId: z.uuid().optional(),
  audio: z.literal(true).optional(),
};
const chainShape = {
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  time: z.string().regex(ISO_TIME),
  prev: z.string().regex(HEX64),
  mac: z.string().regex(HEX64),
};

const staffShape = {
  type: z.literal('staff'),
  stationId: z.string().regex(NAME_PATTERN),
  event: z.enum(STAFF_EVENTS),
  username: z.string().min(1).max(128).regex(NO_CONTROL),
  provider: z.enum(['local', 'oidc']),
  reason: z
    .string()
    .regex(/^(?:[A-Z][A-Z0-9_]{0,63}|[a-z][a-z-]{0,31})$/)
    .nullable(),
  factor: z.enum(SECOND_FACTORS).optional(),
  processor: z.literal('sandbox').optional(),
};

const approvalShape = {
  type: z.literal('approval'),
  stationId: z.string().regex(NAME_PATTERN),
  event: z.enum(APPROVAL_EVENTS),
  rule: z.enum(APPROVAL_RULES),
  cardId: z.string().regex(AUDIT_CARD_ID_PATTERN),
  operator: z.string().min(1).max(128).regex(NO_CONTROL),
  approver: z.string().min(1).max(128).regex(NO_CONTROL),
  method: z.enum(['password', 'sso']),
  reason: z.string().max(500).regex(NO_CONTROL).nullable(),
  errorCode: z.string().regex(ERROR_CODE_PATTERN).nullable(),
  factor: z.enum(SECOND_FACTORS).optional(),
  processor: z.literal('sandbox').optional(),
};
const attemptShape = {
  type: z.literal('attempt'),
  stationId: z.string().regex(NAME_PATTERN),
  attemptId: z.uuid(),
  operator: z.string().min(1).max(128).regex(NO_CONTROL),
  cardId: z.string().regex(AUDIT_CARD_ID_PATTERN),
  mode: z.enum(PIN_MODES),
  profile: RECORDED_PROFILE,
  approver: z.string().min(1).max(128).regex(NO_CONTROL).optional(),
  processor: z.literal('sandbox').optional(),
};
const exportShape = {
  type: z.literal('export'),
  stationId: z.string().regex(NAME_PATTERN),
  username: z.string().min(1).max(128).regex(NO_CONTROL),
  format: z.enum(['csv', 'json']),
  records: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  processor: z.literal('sandbox').optional(),
};

/** A key custodian's name: 1 to 64 printable characters, single spaces inside, none at either end. */
export const CUSTODIAN_NAME_PATTERN = /^[^\p{C}\s](?:(?:[^\p{C}\s]| ){0,62}[^\p{C}\s])?$/u;
const policyShape = {
  type: z.literal('policy'),
  stationId: z.string().regex(NAME_PATTERN),
  event: z.enum(['applied', 'refused']),
  location: z.string().min(1).max(300).regex(NO_CONTROL),
  changes: z.array(z.string().min(1).max(400).regex(NO_CONTROL)).max(200),
  reason: z.string().regex(ERROR_CODE_PATTERN).nullable(),
  processor: z.literal('sandbox').optional(),
};
const FINGERPRINT_KCV = z.string().regex(/^[0-9A-F]{10}$/);
const processorKeyShape = {
  type: z.literal('processor-key'),
  stationId: z.string().regex(NAME_PATTERN),
  event: z.literal('promoted'),
  cause: z.enum(['not-before', 'promote']),
  oldKcv: FINGERPRINT_KCV.nullable(),
  newKcv: FINGERPRINT_KCV,
  notAfter: z.string().regex(ISO_TIME).nullable(),
  processor: z.literal('sandbox').optional(),
};
const keyLoadShape = {
  type: z.literal('key-load'),
  stationId: z.string().regex(NAME_PATTERN),
  account: z.enum(KEY_LOAD_ACCOUNTS),
  components: z.union([z.literal(2), z.literal(3)]),
  custodians: z.array(z.string().regex(CUSTODIAN_NAME_PATTERN)).min(2).max(3),
  componentKcvs: z
    .array(z.string().regex(/^[0-9A-F]{10}$/))
    .min(2)
    .max(3),
  keyKcv: z.string().regex(/^[0-9A-F]{10}$/),
  keyKcvLegacy: z.string().regex(/^[0-9A-F]{6}$/),
};
const staffAdminRoles = z.array(z.enum(ROLES)).min(1).max(ROLES.length);
const staffAdminShape = {
  type: z.literal('staff-admin'),
  stationId: z.string().regex(NAME_PATTERN),
  action: z.enum(STAFF_ADMIN_ACTIONS),
  username: z.string().regex(USERNAME_PATTERN),
  rolesBefore: staffAdminRoles.nullable(),
  rolesAfter: staffAdminRoles,
  osUser: z.string().min(1).max(128).regex(NO_CONTROL),
};
type KeyLoadFields = { components: number; custodians: string[]; componentKcvs: string[] };
/** One name and one KCV a component, and no custodian twice (dual control needs distinct people). */
function keyLoadConsistent<T extends z.ZodType<KeyLoadFields>>(schema: T): T {
  return schema
    .refine((value) => value.custodians.length === value.components, { path: ['custodians'], message: 'one custodian a component' })
    .refine((value) => value.componentKcvs.length === value.components, { path: ['componentKcvs'], message: 'one KCV a component' })
    .refine((value) => new Set(value.custodians.map(custodianIdentity)).size === value.custodians.length, {
      path: ['custodians'],
      message: 'each custodian once',
    });
}
/** Two names that differ only in case or Unicode form are the same custodian. */
export function custodianIdentity(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

export const auditEntrySchema = z.strictObject(entryShape);
export const auditStaffEntrySchema = z.strictObject(staffShape);
const staffRecordSchema = z.strictObject({ ...chainShape, ...staffShape });
const INPUT_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  staff: auditStaffEntrySchema,
  approval: z.strictObject(approvalShape),
  export: z.strictObject(exportShape),
  attempt: z.strictObject(attemptShape),
  'key-load': keyLoadConsistent(z.strictObject(keyLoadShape)),
  policy: z.strictObject(policyShape),
  'processor-key': z.strictObject(processorKeyShape),
  'staff-admin': z.strictObject(staffAdminShape),
};
const RECORD_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  staff: staffRecordSchema,
  approval: z.strictObject({ ...chainShape, ...approvalShape }),
  export: z.strictObject({ ...chainShape, ...exportShape }),
  attempt: z.strictObject({ ...chainShape, ...attemptShape }),
  'key-load': keyLoadConsistent(z.strictObject({ ...chainShape, ...keyLoadShape })),
  policy: z.strictObject({ ...chainShape, ...policyShape }),
  'processor-key': z.strictObject({ ...chainShape, ...processorKeyShape }),
  'staff-admin': z.strictObject({ ...chainShape, ...staffAdminShape }),
  reset: z.strictObject({
    ...chainShape,
    type: z.literal('reset'),
    cause: z.enum(AUDIT_RESET_CAUSES),
    lostFrom: chainShape.seq.nullable(),
    lostTo: chainShape.seq.nullable(),
    markSeq: chainShape.seq.nullable(),
    markMac: z.string().regex(HEX64).nullable(),
    keptAs: z.string().min(1).max(255).regex(NO_CONTROL).nullable(),
    acknowledgedBy: z.string().min(1).max(128).regex(NO_CONTROL),
  }),
};
const entryRecordSchema = z.strictObject({ ...chainShape, ...entryShape });
const sealRecordSchema = z.strictObject({
  ...chainShape,
  type: z.literal('seal'),
  tornBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  tornSha256: z.string().regex(HEX64),
});
export const headSchema = z.strictObject({ seq: chainShape.seq, mac: chainShape.mac, headMac: chainShape.mac });

/** Checks an entry; throws AUDIT_INVALID_ENTRY naming the offending fields (never their values). */
export function validateAuditEntry(entry: unknown): AuditInput {
  const type = typeof entry === 'object' && entry !== null ? (entry as { type?: unknown }).type : undefined;
  const schema = type === undefined ? auditEntrySchema : typeof type === 'string' ? INPUT_SCHEMAS[type] : undefined;
  if (!schema) throw new AuditError('AUDIT_INVALID_ENTRY', '(unknown record type)');
  const result = schema.safeParse(entry);
  if (result.success) return result.data as AuditInput;
  const names = new Set<string>();
  for (const issue of result.error.issues) {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [issue.path[0]];
    for (const key of keys) names.add(typeof key === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(key) ? key : '(unnamed field)');
  }
  const unknown = result.error.issues.some((issue) => issue.code === 'unrecognized_keys');
  throw new AuditError(
    'AUDIT_INVALID_ENTRY',
    `(${unknown ? 'unknown or invalid' : 'invalid'} field${names.size === 1 ? '' : 's'}: ${[...names].join(', ') || 'the entry itself'})`,
  );
}

export function hmacHex(key: Uint8Array, domain: string, body: string): string {
  return createHmac('sha256', key).update(domain, 'utf8').update(body, 'utf8').digest('hex');
}

export function macEquals(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === 32 && y.length === 32 && timingSafeEqual(x, y);
}

/** The record's JSON without `mac`, fields in their fixed order: exactly what the MAC covers. */
export function bodyOf(record: object): string {
  const type = (record as { type?: unknown }).type;
  const fields: readonly string[] = (typeof type === 'string' ? FIELDS_BY_TYPE[type] : undefined) ?? ENTRY_FIELDS;
  const source = record as unknown as Record<string, unknown>;
  return JSON.stringify(Object.fromEntries(fields.map((name) => [name, source[name]])));
}

export function lineOf(body: string, mac: string): string {
  return `${body.slice(0, -1)},"mac":"${mac}"}`;
}

export function signRecord<T extends AuditLine>(unsigned: Omit<T, 'mac'>, key: Uint8Array): { record: T; line: string } {
  const body = bodyOf(unsigned);
  const mac = hmacHex(key, AUDIT_MAC_DOMAIN, body);
  return { record: { ...unsigned, mac } as T, line: lineOf(body, mac) };
}

export type LineCheck =
  { readonly ok: true; readonly record: AuditLine } | { readonly ok: false; readonly seq: number | null; readonly reason: string; readonly json: boolean };

/** Parses one line (without its newline) and checks shape, MAC and exact form. Chain order is checked by the caller. */
export function checkLine(bytes: Buffer, key: Uint8Array): LineCheck {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, seq: null, reason: 'is not valid JSON — the record was edited or damaged', json: false };
  }
  const rawSeq = typeof value === 'object' && value !== null ? (value as { seq?: unknown }).seq : undefined;
  const seq = typeof rawSeq === 'number' && Number.isSafeInteger(rawSeq) ? rawSeq : null;
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  // A type this version does not know is checked as a seal, which it cannot pass: an unknown record is refused.
  const schema = type === undefined ? entryRecordSchema : ((typeof type === 'string' ? RECORD_SCHEMAS[type] : undefined) ?? sealRecordSchema);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    return { ok: false, seq, reason: 'has missing, unknown or malformed fields — the record was edited', json: true };
  }
  const record = parsed.data as AuditLine;
  const body = bodyOf(record);
  if (!macEquals(hmacHex(key, AUDIT_MAC_DOMAIN, body), record.mac)) {
    return { ok: false, seq: record.seq, reason: 'mac does not match — the record was edited', json: true };
  }
  if (!Buffer.from(lineOf(body, record.mac), 'utf8').equals(bytes)) {
    return {
      ok: false,
      seq: record.seq,
      reason: 'is not byte-for-byte as written (spacing, field order or a repeated field changed) — the record was edited',
      json: true,
    };
  }
  return { ok: true, record };
}

/** One line of a trail file: bytes [start, end) without the newline; `terminated` when the newline is there. */
export interface TrailLine {
  readonly start: number;
  readonly end: number;
  readonly terminated: boolean;
}

/** Splits a trail's bytes into lines (the last may lack its newline): the one reader of the file's line structure. */
export function splitTrailLines(data: Buffer): TrailLine[] {
  const lines: TrailLine[] = [];
  for (let start = 0; start < data.length;) {
    const nl = data.indexOf(0x0a, start);
    if (nl === -1) {
      lines.push({ start, end: data.length, terminated: false });
      break;
    }
    lines.push({ start, end: nl, terminated: true });
    start = nl + 1;
  }
  return lines;
}

/**
 * The one torn-line rule, for the writer, seal and verify alike: a final line
 * without its newline, or one that is not JSON, is an interrupted write.
 */
export function isTornFinalLine(bytes: Buffer, terminated: boolean): boolean {
  if (!terminated) return true;
  try {
    JSON.parse(bytes.toString('utf8'));
    return false;
  } catch {
    return true;
  }
}
