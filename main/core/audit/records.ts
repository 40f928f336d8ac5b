/**
 * Every audit record type, stated once: its strict zod schema (what may be written or read), the TypeScript type
 * derived from it (z.infer), and, in MAC_FIELD_ORDER, the order its fields take in the line, which is what the MAC
 * covers. Changing an order changes every MAC: test/unit/audit-format-kat.test.ts pins one record of each type.
 */
import { z } from 'zod';
import { AUDIT_EXPORT_FORMATS, LEGACY_PROFILE_NAMES, NAME_PATTERN, PIN_MODES, PROFILE_NAMES } from '../../../common/domain';
import { APPROVAL_RULES, ROLES, USERNAME_PATTERN } from '../../../common/staff';

export const AUDIT_OUTCOMES = ['pin-set', 'pin-generated', 'rejected', 'failed', 'outcome-unknown', 'cancelled', 'timeout'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];
export const APPROVAL_EVENTS = ['granted', 'refused', 'expired'] as const;
export const STAFF_EVENTS = ['sign-in', 'sign-in-failed', 'sign-out', 'lock', 'unlock', 'unlock-failed', 'lockout'] as const;
export type StaffEvent = (typeof STAFF_EVENTS)[number];
export const SECOND_FACTORS = ['totp', 'idp'] as const;
export type SecondFactor = (typeof SECOND_FACTORS)[number];
/** What the high-water mark showed at a reset: the trail was missing, shorter than the mark, replaced, or damaged. */
export const AUDIT_RESET_CAUSES = ['trail-missing', 'trail-shorter', 'trail-replaced', 'trail-damaged'] as const;
export type AuditResetCause = (typeof AUDIT_RESET_CAUSES)[number];
export const KEY_LOAD_ACCOUNTS = ['pin-key', 'audit-key'] as const;
export type KeyLoadAccount = (typeof KEY_LOAD_ACCOUNTS)[number];
export const STAFF_ADMIN_ACTIONS = ['add', 'passwd', 'disable', 'enable', 'unlock', 'roles', 'mfa-enroll', 'mfa-reset'] as const;
export type StaffAdminAction = (typeof STAFF_ADMIN_ACTIONS)[number];
export const SHIP_REFUSED_REASONS = ['UNREADABLE_LINE', 'OVERLONG_LINE', 'NO_KEY', 'MAC_MISMATCH', 'CHAIN_BROKEN'] as const;
export type ShipRefusedReason = (typeof SHIP_REFUSED_REASONS)[number];

// Any card ID the station's (configurable) rule admits: printable, no control characters.
const AUDIT_CARD_ID_PATTERN = /^[^\p{Cc}]{1,256}$/u;
const ERROR_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;
const NO_CONTROL = /^[^\p{Cc}]*$/u;
const HEX64 = /^[0-9a-f]{64}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

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
  /** Present only when the cardholder had audio guidance. */
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
  format: z.enum(AUDIT_EXPORT_FORMATS),
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
const shipRefusedShape = {
  type: z.literal('ship-refused'),
  stationId: z.string().regex(NAME_PATTERN),
  lineSeq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).nullable(),
  reason: z.enum(SHIP_REFUSED_REASONS),
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

/** A card record (no type: they came first). Approval fields only under dual control; `processor` only on practice records. */
export const auditEntrySchema = z.strictObject(entryShape);
/** A staff sign-in event (or a failed one: the name tried only when it names an account; never a password). */
export const auditStaffEntrySchema = z.strictObject(staffShape);
/** What append() takes for each typed record. */
const inputSchemas = {
  staff: auditStaffEntrySchema,
  /** A supervisor's approval granted, refused or left to expire. */
  approval: z.strictObject(approvalShape),
  /** An audit export made in the app by an auditor. */
  export: z.strictObject(exportShape),
  /** Written before a set_pin request is sent (write-ahead). */
  attempt: z.strictObject(attemptShape),
  /** A key loaded from 2 or 3 components by as many custodians: names and KCVs, never a component. */
  'key-load': keyLoadConsistent(z.strictObject(keyLoadShape)),
  /** A managed-policy change applied (each setting "path: old -> new (when)") or refused. */
  policy: z.strictObject(policyShape),
  /** The processor's next key made current, named by fingerprint KCVs. */
  'processor-key': z.strictObject(processorKeyShape),
  /** A change to a local account made with `npm run staff` (PCI DSS 10.2.1.5): never a password or secret. */
  'staff-admin': z.strictObject(staffAdminShape),
  /** The shipper read a trail line that failed its check: which line and why, never its content. */
  'ship-refused': z.strictObject(shipRefusedShape),
} as const;
export const INPUT_SCHEMAS: Readonly<Record<string, z.ZodType>> = inputSchemas;
/** Whether a record of `type` (undefined: a card record) has the practice marker, `processor: "sandbox"`, in its schema. */
export function carriesPracticeMark(type: string | undefined): boolean {
  const shape = type === undefined ? entryShape : Object.hasOwn(inputSchemas, type) ? inputSchemas[type as keyof typeof inputSchemas].shape : {};
  return Object.hasOwn(shape, 'processor');
}
/** Written by sealAuditFile() in place of a torn final line. */
export const sealRecordSchema = z.strictObject({
  ...chainShape,
  type: z.literal('seal'),
  tornBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  tornSha256: z.string().regex(HEX64),
});
/** Written by `npm run audit -- reset --acknowledge` as record 1 of a new trail, after records were lost. */
const resetRecordSchema = z.strictObject({
  ...chainShape,
  type: z.literal('reset'),
  cause: z.enum(AUDIT_RESET_CAUSES),
  /** The first and last seq no longer verifiable here, and the mark's seq and mac (null when unknown or none). */
  lostFrom: chainShape.seq.nullable(),
  lostTo: chainShape.seq.nullable(),
  markSeq: chainShape.seq.nullable(),
  markMac: z.string().regex(HEX64).nullable(),
  /** File name the old trail was kept under, next to the new one (null when there was no file). */
  keptAs: z.string().min(1).max(255).regex(NO_CONTROL).nullable(),
  /** The operating-system account that ran the reset. */
  acknowledgedBy: z.string().min(1).max(128).regex(NO_CONTROL),
});
export const entryRecordSchema = z.strictObject({ ...chainShape, ...entryShape });
export const RECORD_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  staff: z.strictObject({ ...chainShape, ...staffShape }),
  approval: z.strictObject({ ...chainShape, ...approvalShape }),
  export: z.strictObject({ ...chainShape, ...exportShape }),
  attempt: z.strictObject({ ...chainShape, ...attemptShape }),
  'key-load': keyLoadConsistent(z.strictObject({ ...chainShape, ...keyLoadShape })),
  policy: z.strictObject({ ...chainShape, ...policyShape }),
  'processor-key': z.strictObject({ ...chainShape, ...processorKeyShape }),
  'staff-admin': z.strictObject({ ...chainShape, ...staffAdminShape }),
  'ship-refused': z.strictObject({ ...chainShape, ...shipRefusedShape }),
  reset: resetRecordSchema,
};
export const headSchema = z.strictObject({ seq: chainShape.seq, mac: chainShape.mac, headMac: chainShape.mac });

/** A record as written: the entry plus its place in the chain. */
type Chained<T> = T & { seq: number; time: string; prev: string; mac: string };
/** What the Station hands to append() for a card. Nothing else is accepted (strict schema). */
export type AuditEntry = z.infer<typeof auditEntrySchema> & { type?: never };
export type AuditStaffEntry = z.infer<typeof auditStaffEntrySchema>;
export type AuditApprovalEntry = z.infer<typeof inputSchemas.approval>;
export type AuditExportEntry = z.infer<typeof inputSchemas.export>;
export type AuditAttemptEntry = z.infer<typeof inputSchemas.attempt>;
export type AuditKeyLoadEntry = z.infer<(typeof inputSchemas)['key-load']>;
export type AuditPolicyEntry = z.infer<typeof inputSchemas.policy>;
export type AuditProcessorKeyEntry = z.infer<(typeof inputSchemas)['processor-key']>;
export type AuditStaffAdminEntry = z.infer<(typeof inputSchemas)['staff-admin']>;
export type AuditShipRefusedEntry = z.infer<(typeof inputSchemas)['ship-refused']>;
export type AuditRecord = Chained<AuditEntry>;
export type AuditStaffRecord = Chained<AuditStaffEntry>;
export type AuditApprovalRecord = Chained<AuditApprovalEntry>;
export type AuditExportRecord = Chained<AuditExportEntry>;
export type AuditAttemptRecord = Chained<AuditAttemptEntry>;
export type AuditKeyLoadRecord = Chained<AuditKeyLoadEntry>;
export type AuditPolicyRecord = Chained<AuditPolicyEntry>;
export type AuditProcessorKeyRecord = Chained<AuditProcessorKeyEntry>;
export type AuditStaffAdminRecord = Chained<AuditStaffAdminEntry>;
export type AuditShipRefusedRecord = Chained<AuditShipRefusedEntry>;
export type AuditSealRecord = z.infer<typeof sealRecordSchema>;
export type AuditResetRecord = z.infer<typeof resetRecordSchema>;

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
  | AuditStaffAdminRecord
  | AuditShipRefusedRecord;
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
  | AuditStaffAdminEntry
  | AuditShipRefusedEntry;

/**
 * The order of each type's fields in its line, without `mac` (which follows): exactly what the MAC covers, so
 * the one place it is stated. `card` is the records without a type. Optional fields left out of the JSON when
 * absent (`processor`, the approval fields), so records written before they existed verify unchanged.
 */
export const MAC_FIELD_ORDER = {
  card: [
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
  ],
  seal: ['seq', 'time', 'type', 'tornBytes', 'tornSha256', 'prev'],
  reset: ['seq', 'time', 'type', 'cause', 'lostFrom', 'lostTo', 'markSeq', 'markMac', 'keptAs', 'acknowledgedBy', 'prev'],
  staff: ['seq', 'time', 'type', 'stationId', 'event', 'username', 'provider', 'reason', 'factor', 'processor', 'prev'],
  approval: [
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
  ],
  export: ['seq', 'time', 'type', 'stationId', 'username', 'format', 'records', 'processor', 'prev'],
  attempt: ['seq', 'time', 'type', 'stationId', 'attemptId', 'operator', 'cardId', 'mode', 'profile', 'approver', 'processor', 'prev'],
  'key-load': ['seq', 'time', 'type', 'stationId', 'account', 'components', 'custodians', 'componentKcvs', 'keyKcv', 'keyKcvLegacy', 'prev'],
  policy: ['seq', 'time', 'type', 'stationId', 'event', 'location', 'changes', 'reason', 'processor', 'prev'],
  'processor-key': ['seq', 'time', 'type', 'stationId', 'event', 'cause', 'oldKcv', 'newKcv', 'notAfter', 'processor', 'prev'],
  'staff-admin': ['seq', 'time', 'type', 'stationId', 'action', 'username', 'rolesBefore', 'rolesAfter', 'osUser', 'prev'],
  'ship-refused': ['seq', 'time', 'type', 'stationId', 'lineSeq', 'reason', 'prev'],
} as const satisfies {
  // Each list names fields of its own type only (a typo or a field of another type does not compile).
  card: readonly (keyof AuditRecord)[];
  seal: readonly (keyof AuditSealRecord)[];
  reset: readonly (keyof AuditResetRecord)[];
  staff: readonly (keyof AuditStaffRecord)[];
  approval: readonly (keyof AuditApprovalRecord)[];
  export: readonly (keyof AuditExportRecord)[];
  attempt: readonly (keyof AuditAttemptRecord)[];
  'key-load': readonly (keyof AuditKeyLoadRecord)[];
  policy: readonly (keyof AuditPolicyRecord)[];
  'processor-key': readonly (keyof AuditProcessorKeyRecord)[];
  'staff-admin': readonly (keyof AuditStaffAdminRecord)[];
  'ship-refused': readonly (keyof AuditShipRefusedRecord)[];
};

/** Every field name that may appear in the file, for tests and reviewers. */
export const AUDIT_RECORD_FIELDS: readonly string[] = [...new Set<string>([...Object.values(MAC_FIELD_ORDER).flat(), 'mac'])];
