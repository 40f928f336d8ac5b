/**
 * The audit trail's format (docs/architecture.md, "The audit trail"): append-only JSON Lines,
 * one record per card outcome, chained with HMAC-SHA256 under the keychain
 * entry `audit-key`. A record holds who/what/when and the processor's answer,
 * never a PIN, a PIN block, a PAN or a key: the entry schema is strict, so a
 * field that is not listed below cannot reach the file.
 *
 * On disk (`<dataDir>/audit/audit.jsonl`), one object per line, each record
 * type's fields in the order MAC_FIELD_ORDER (./records.ts) states, `mac`
 * last; docs/architecture.md describes each type. Card records have no
 * `type`; `processor: "sandbox"` appears only when the emulator was the
 * processor.
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
import { StationError } from '../../../common/errors';
import { INPUT_SCHEMAS, MAC_FIELD_ORDER, RECORD_SCHEMAS, auditEntrySchema, entryRecordSchema, sealRecordSchema } from './records';
import type { AuditInput, AuditLine } from './records';

export * from './records';

/** `prev` of record 1. */
export const AUDIT_GENESIS = '0'.repeat(64);
/** Prefixes of the HMAC input, so a record MAC can never be replayed as a head MAC or the reverse. */
export const AUDIT_MAC_DOMAIN = 'pin-station-audit-record-v1\n';
export const AUDIT_HEAD_DOMAIN = 'pin-station-audit-head-v1\n';
/** Longest line append will ever write is well under 2 KiB; tail reads look at this much. */
export const TAIL_WINDOW = 64 * 1024;
const FIELDS_BY_TYPE: Readonly<Record<string, readonly string[]>> = MAC_FIELD_ORDER;

export type AuditErrorCode = 'AUDIT_TORN_TAIL' | 'AUDIT_CHAIN_BROKEN' | 'AUDIT_TRAIL_LOST' | 'AUDIT_WRITE_FAILED' | 'AUDIT_INVALID_ENTRY';

/** An audit failure: a StationError with an audit code. Its detail names fields and record numbers, never a value. */
export class AuditError extends StationError {
  declare readonly code: AuditErrorCode;
  constructor(code: AuditErrorCode, detail: string) {
    super(code, detail);
    this.name = 'AuditError';
  }
}

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
  const fields: readonly string[] = (typeof type === 'string' ? FIELDS_BY_TYPE[type] : undefined) ?? MAC_FIELD_ORDER.card;
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
