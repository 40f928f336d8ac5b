/**
 * Audit trail (DESIGN.md sections 1 step 4, 2 and 4): append-only JSON Lines,
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
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { AES256_KEY_HEX, NAME_PATTERN, PIN_MODES, PROFILE_NAMES } from '../../common/domain';
import type { PinMode, ProfileName } from '../../common/domain';
import { StationError } from '../../common/errors';
import type { KeyStore } from './keystore';

// ------------------------------------------------------------------ types

export const AUDIT_OUTCOMES = ['pin-set', 'pin-generated', 'rejected', 'failed', 'outcome-unknown', 'cancelled', 'timeout'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** What the Station hands to append(). Nothing else is accepted (strict schema). */
export interface AuditEntry {
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
}

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

export type AuditLine = AuditRecord | AuditSealRecord;

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
  'prev',
] as const;
const SEAL_FIELDS = ['seq', 'time', 'type', 'tornBytes', 'tornSha256', 'prev'] as const;
/** Every field name that may appear in the file, for tests and reviewers. */
export const AUDIT_RECORD_FIELDS: readonly string[] = [...new Set<string>([...ENTRY_FIELDS, ...SEAL_FIELDS, 'mac'])];

export type AuditErrorCode = 'AUDIT_TORN_TAIL' | 'AUDIT_CHAIN_BROKEN' | 'AUDIT_WRITE_FAILED' | 'AUDIT_INVALID_ENTRY';

/** An audit failure. Its message was written here: it names fields and record numbers, never a value. */
export class AuditError extends Error {
  constructor(
    readonly code: AuditErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AuditError';
  }
}

// ---------------------------------------------------------------- schemas

// Any card ID the station's (configurable) rule admits: printable, no control characters.
const AUDIT_CARD_ID_PATTERN = /^[^\p{Cc}]{1,256}$/u;
const ERROR_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;
const NO_CONTROL = /^[^\p{Cc}]*$/u;
const HEX64 = /^[0-9a-f]{64}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Longest line append will ever write is well under 2 KiB; tail reads look at this much. */
const TAIL_WINDOW = 64 * 1024;

const entryShape = {
  stationId: z.string().regex(NAME_PATTERN),
  operator: z.string().min(1).max(128).regex(NO_CONTROL),
  cardId: z.string().regex(AUDIT_CARD_ID_PATTERN),
  mode: z.enum(PIN_MODES),
  profile: z.enum(PROFILE_NAMES),
  outcome: z.enum(AUDIT_OUTCOMES),
  requestStatus: z.string().max(256).regex(NO_CONTROL).nullable(),
  errorCode: z.string().regex(ERROR_CODE_PATTERN).nullable(),
  processor: z.literal('sandbox').optional(),
};
const chainShape = {
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  time: z.string().regex(ISO_TIME),
  prev: z.string().regex(HEX64),
  mac: z.string().regex(HEX64),
};

export const auditEntrySchema = z.strictObject(entryShape);
const entryRecordSchema = z.strictObject({ ...chainShape, ...entryShape });
const sealRecordSchema = z.strictObject({
  ...chainShape,
  type: z.literal('seal'),
  tornBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  tornSha256: z.string().regex(HEX64),
});
const headSchema = z.strictObject({ seq: chainShape.seq, mac: chainShape.mac, headMac: chainShape.mac });

/** Checks an entry; throws AUDIT_INVALID_ENTRY naming the offending fields (never their values). */
export function validateAuditEntry(entry: unknown): AuditEntry {
  const result = auditEntrySchema.safeParse(entry);
  if (result.success) return result.data;
  const names = new Set<string>();
  for (const issue of result.error.issues) {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [issue.path[0]];
    for (const key of keys) names.add(typeof key === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(key) ? key : '(unnamed field)');
  }
  const unknown = result.error.issues.some((issue) => issue.code === 'unrecognized_keys');
  throw new AuditError(
    'AUDIT_INVALID_ENTRY',
    `The audit entry was refused (${unknown ? 'unknown or invalid' : 'invalid'} field${names.size === 1 ? '' : 's'}: ${[...names].join(', ') || 'the entry itself'}).`,
  );
}

// -------------------------------------------------------------- serialise

function hmacHex(key: Uint8Array, domain: string, body: string): string {
  return createHmac('sha256', key).update(domain, 'utf8').update(body, 'utf8').digest('hex');
}

function macEquals(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === 32 && y.length === 32 && timingSafeEqual(x, y);
}

/** The record's JSON without `mac`, fields in their fixed order: exactly what the MAC covers. */
function bodyOf(record: object): string {
  const fields: readonly string[] = (record as Partial<AuditSealRecord>).type === 'seal' ? SEAL_FIELDS : ENTRY_FIELDS;
  const source = record as unknown as Record<string, unknown>;
  return JSON.stringify(Object.fromEntries(fields.map((name) => [name, source[name]])));
}

function lineOf(body: string, mac: string): string {
  return `${body.slice(0, -1)},"mac":"${mac}"}`;
}

function signRecord<T extends AuditLine>(unsigned: Omit<T, 'mac'>, key: Uint8Array): { record: T; line: string } {
  const body = bodyOf(unsigned);
  const mac = hmacHex(key, AUDIT_MAC_DOMAIN, body);
  return { record: { ...unsigned, mac } as T, line: lineOf(body, mac) };
}

type LineCheck =
  { readonly ok: true; readonly record: AuditLine } | { readonly ok: false; readonly seq: number | null; readonly reason: string; readonly json: boolean };

/** Parses one line (without its newline) and checks shape, MAC and exact form. Chain order is checked by the caller. */
function checkLine(bytes: Buffer, key: Uint8Array): LineCheck {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, seq: null, reason: 'is not valid JSON — the record was edited or damaged', json: false };
  }
  const rawSeq = typeof value === 'object' && value !== null ? (value as { seq?: unknown }).seq : undefined;
  const seq = typeof rawSeq === 'number' && Number.isSafeInteger(rawSeq) ? rawSeq : null;
  const isSealShape = typeof value === 'object' && value !== null && (value as { type?: unknown }).type !== undefined;
  const parsed = (isSealShape ? sealRecordSchema : entryRecordSchema).safeParse(value);
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

// ------------------------------------------------------------------- keys

/** Parses the keychain's `audit-key` (64 hex characters) into bytes the caller must zero. */
export function parseAuditKeyHex(value: string): Buffer {
  const trimmed = value.trim();
  if (!AES256_KEY_HEX.test(trimmed)) {
    throw new StationError('KEYCHAIN_ENTRY_MALFORMED', 'Entry "audit-key" must be 64 hexadecimal characters.');
  }
  return Buffer.from(trimmed, 'hex');
}

/** Reads `audit-key` for verify or seal. Never creates it. The caller zeroes the returned bytes. */
export async function readAuditKey(keyStore: KeyStore): Promise<Buffer> {
  const value = await keyStore.get('audit-key');
  if (value === null || value.length === 0) {
    throw new StationError('KEYCHAIN_ENTRY_MISSING', 'Entry "audit-key" was not found; the audit trail can only be checked with the key that wrote it.');
  }
  return parseAuditKeyHex(value);
}

/** For append: creates `audit-key` (32 random bytes, uppercase hex) only while the trail is still empty. */
async function keyForAppend(keyStore: KeyStore, trailIsEmpty: boolean): Promise<Buffer> {
  const value = await keyStore.get('audit-key');
  if (value !== null && value.length > 0) return parseAuditKeyHex(value);
  if (!trailIsEmpty) {
    throw new StationError(
      'KEYCHAIN_ENTRY_MISSING',
      'Entry "audit-key" was not found, but the audit trail already has records. Restore the key that wrote them; a new key would break the chain.',
    );
  }
  const fresh = randomBytes(32);
  try {
    await keyStore.set('audit-key', fresh.toString('hex').toUpperCase());
  } finally {
    fresh.fill(0);
  }
  // Use what the keychain now holds, so a key that did not persist is caught before a record depends on it.
  const stored = await keyStore.get('audit-key');
  if (stored === null) throw new StationError('KEYCHAIN_UNAVAILABLE', 'The new "audit-key" could not be read back.');
  return parseAuditKeyHex(stored);
}

// ------------------------------------------------------------------ files

/** Where the station keeps its trail: `<dataDir>/audit/audit.jsonl`. */
export function auditFilePath(dataDir: string): string {
  return join(dataDir, 'audit', 'audit.jsonl');
}

/** The head anchor next to a trail file. */
export function auditHeadPath(path: string): string {
  return `${path}.head`;
}

function isErrno(error: unknown, ...codes: string[]): boolean {
  return typeof error === 'object' && error !== null && codes.includes(String((error as NodeJS.ErrnoException).code));
}

async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there; NTFS journals the rename
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (error) {
    if (!isErrno(error, 'EINVAL', 'EISDIR', 'EPERM', 'ENOTSUP')) throw error;
  } finally {
    await handle.close();
  }
}

async function writeAll(handle: FileHandle, data: Buffer, position: number | null): Promise<void> {
  // One write call in practice; the loop only finishes a short write (which leaves a torn tail if it fails).
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset, position === null ? null : position + offset);
    if (bytesWritten <= 0) throw new Error('short write');
    offset += bytesWritten;
  }
}

type HeadState = { readonly state: 'missing' } | { readonly state: 'bad' } | { readonly state: 'ok'; readonly seq: number; readonly mac: string };

function parseHead(text: Buffer, key: Uint8Array): HeadState {
  let value: unknown;
  try {
    value = JSON.parse(text.toString('utf8'));
  } catch {
    return { state: 'bad' };
  }
  const parsed = headSchema.safeParse(value);
  if (!parsed.success) return { state: 'bad' };
  const body = JSON.stringify({ seq: parsed.data.seq, mac: parsed.data.mac });
  if (!macEquals(hmacHex(key, AUDIT_HEAD_DOMAIN, body), parsed.data.headMac)) return { state: 'bad' };
  return { state: 'ok', seq: parsed.data.seq, mac: parsed.data.mac };
}

function readHeadSync(path: string, key: Uint8Array): HeadState {
  try {
    return parseHead(readFileSync(auditHeadPath(path)), key);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { state: 'missing' };
    throw error;
  }
}

async function readHead(path: string, key: Uint8Array): Promise<HeadState> {
  try {
    return parseHead(await readFile(auditHeadPath(path)), key);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { state: 'missing' };
    throw error;
  }
}

async function writeHead(path: string, seq: number, mac: string, key: Uint8Array): Promise<void> {
  const body = JSON.stringify({ seq, mac });
  const text = `${body.slice(0, -1)},"headMac":"${hmacHex(key, AUDIT_HEAD_DOMAIN, body)}"}\n`;
  const head = auditHeadPath(path);
  const temp = `${head}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await writeAll(handle, Buffer.from(text, 'utf8'), null);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, head);
  await fsyncDir(dirname(path));
}

// ------------------------------------------------------------------- tail

interface Tail {
  readonly exists: boolean;
  readonly size: number;
  /** The last complete record, as checked by checkLine. */
  readonly last: AuditLine | null;
  /** Byte offset where a torn final line starts (it runs to the end of the file). */
  readonly tornStart: number | null;
}

/** Finds the last line ending at `end` (exclusive, just past its '\n'), or 'more' if the window starts mid-line. */
function lineBefore(buf: Buffer, end: number, windowIsWholeFile: boolean): { start: number } | 'none' | 'more' {
  if (end === 0) return windowIsWholeFile ? 'none' : 'more';
  const cut = end >= 2 ? buf.lastIndexOf(0x0a, end - 2) : -1;
  if (cut === -1 && !windowIsWholeFile) return 'more';
  return { start: cut + 1 };
}

function analyseTail(buf: Buffer, base: number, windowIsWholeFile: boolean, key: Uint8Array): Tail | 'more' | { readonly broken: string } {
  const size = base + buf.length;
  let tornStart: number | null = null;
  let end = buf.length; // end of the region holding complete lines
  if (buf.length > 0 && buf[buf.length - 1] !== 0x0a) {
    const cut = buf.lastIndexOf(0x0a);
    if (cut === -1 && !windowIsWholeFile) return 'more';
    end = cut + 1;
    tornStart = base + end;
  } else if (buf.length > 0) {
    const line = lineBefore(buf, end, windowIsWholeFile);
    if (line === 'more') return 'more';
    if (line !== 'none') {
      let parses = true;
      try {
        JSON.parse(buf.subarray(line.start, end - 1).toString('utf8'));
      } catch {
        parses = false;
      }
      if (!parses) {
        tornStart = base + line.start;
        end = line.start;
      }
    }
  }
  const line = lineBefore(buf, end, windowIsWholeFile);
  if (line === 'more') return 'more';
  if (line === 'none') return { exists: true, size, last: null, tornStart };
  const check = checkLine(buf.subarray(line.start, end - 1), key);
  if (!check.ok) return { broken: `its last complete record ${check.reason}` };
  return { exists: true, size, last: check.record, tornStart };
}

async function readTail(path: string, key: Uint8Array): Promise<Tail> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { exists: false, size: 0, last: null, tornStart: null };
    throw error;
  }
  try {
    const size = (await handle.stat()).size;
    let length = Math.min(size, TAIL_WINDOW);
    for (;;) {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, size - length);
      const result = analyseTail(buf.subarray(0, bytesRead), size - length, length === size, key);
      if (result === 'more') {
        length = size; // a line longer than the window: read everything once
        continue;
      }
      if ('broken' in result) {
        throw new AuditError('AUDIT_CHAIN_BROKEN', `The audit trail is damaged: ${result.broken}. Run "npm run audit -- verify".`);
      }
      return result;
    }
  } finally {
    await handle.close();
  }
}

/** True when the trail file is non-empty or a head anchor exists: the key must already exist then. */
async function hasRecordsOrHead(path: string): Promise<boolean> {
  const exists = async (file: string): Promise<boolean> => {
    try {
      const handle = await open(file, 'r');
      try {
        return (await handle.stat()).size > 0;
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
  };
  return (await exists(path)) || (await exists(auditHeadPath(path)));
}

/**
 * Checks the head against the last complete record and brings a head that
 * lags by one record up to date. Throws AUDIT_CHAIN_BROKEN for any state a
 * crash cannot produce.
 */
async function reconcileHead(path: string, last: AuditLine | null, key: Uint8Array): Promise<void> {
  const head = await readHead(path, key);
  const lastSeq = last?.seq ?? 0;
  if (head.state === 'missing') {
    if (lastSeq > 1) throw new AuditError('AUDIT_CHAIN_BROKEN', 'The audit trail\'s head anchor is missing. Run "npm run audit -- verify".');
    if (last) await writeHead(path, last.seq, last.mac, key);
    return;
  }
  if (head.state === 'bad') throw new AuditError('AUDIT_CHAIN_BROKEN', 'The audit trail\'s head anchor is damaged. Run "npm run audit -- verify".');
  if (head.seq > lastSeq) {
    throw new AuditError(
      'AUDIT_CHAIN_BROKEN',
      `The audit trail ends before record ${head.seq} named by its head anchor: records were removed. Run "npm run audit -- verify".`,
    );
  }
  if (last && head.seq === lastSeq && macEquals(head.mac, last.mac)) return;
  if (last && head.seq === lastSeq - 1 && macEquals(head.mac, last.prev)) {
    await writeHead(path, last.seq, last.mac, key);
    return;
  }
  throw new AuditError('AUDIT_CHAIN_BROKEN', 'The audit trail does not match its head anchor. Run "npm run audit -- verify".');
}

function wrapWrite(error: unknown, what: string): never {
  if (error instanceof AuditError || error instanceof StationError) throw error;
  throw new AuditError('AUDIT_WRITE_FAILED', `The audit trail could not be read or written (${what}). Check the disk and the data directory's permissions.`);
}

// ----------------------------------------------------------------- append

export interface AuditLogOptions {
  readonly now?: () => Date;
}

export class AuditLog {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => Date;

  constructor(
    readonly path: string,
    private readonly keyStore: KeyStore,
    opts: AuditLogOptions = {},
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * Validates the entry, chains it to the last record and resolves only after
   * its line is on disk (one write, fsync). Rejects with AuditError
   * (AUDIT_INVALID_ENTRY, AUDIT_TORN_TAIL, AUDIT_CHAIN_BROKEN,
   * AUDIT_WRITE_FAILED) or StationError (KEYCHAIN_*): nothing was written then.
   */
  append(entry: AuditEntry): Promise<AuditRecord> {
    let valid: AuditEntry;
    try {
      valid = validateAuditEntry(entry);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.exclusive(() => this.appendNow(valid));
  }

  /**
   * The checks append makes, without writing a record (it may bring a
   * lagging head anchor up to date). For a Start-time check that the trail can
   * take the outcome. Resolves to the last seq (0 for an empty trail).
   */
  check(): Promise<number> {
    return this.exclusive(async () => {
      const key = await keyForCheck(this.keyStore, await hasRecordsOrHead(this.path));
      if (key === null) return 0;
      try {
        const tail = await readTail(this.path, key);
        if (tail.tornStart !== null) throw tornTailError();
        await reconcileHead(this.path, tail.last, key).catch((error: unknown) => wrapWrite(error, 'head anchor'));
        return tail.last?.seq ?? 0;
      } finally {
        key.fill(0);
      }
    });
  }

  /** sealAuditFile() through this log's queue, so it cannot interleave with an append. */
  seal(): Promise<AuditSealResult> {
    return this.exclusive(() => sealAuditFile(this.path, this.keyStore, { now: this.now }));
  }

  /** Runs one task at a time; file-system errors surface as AUDIT_WRITE_FAILED, never as raw errors. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const guarded = (): Promise<T> => task().catch((error: unknown) => wrapWrite(error, 'file'));
    const run = this.queue.then(guarded, guarded);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async appendNow(entry: AuditEntry): Promise<AuditRecord> {
    const hasAnything = await hasRecordsOrHead(this.path);
    const key = await keyForAppend(this.keyStore, !hasAnything);
    try {
      const tail = await readTail(this.path, key);
      if (tail.tornStart !== null) throw tornTailError();
      await reconcileHead(this.path, tail.last, key).catch((error: unknown) => wrapWrite(error, 'head anchor'));
      const { record, line } = signRecord<AuditRecord>(
        {
          seq: (tail.last?.seq ?? 0) + 1,
          time: this.now().toISOString(),
          stationId: entry.stationId,
          operator: entry.operator,
          cardId: entry.cardId,
          mode: entry.mode,
          profile: entry.profile,
          ...(entry.processor ? { processor: entry.processor } : {}),
          outcome: entry.outcome,
          requestStatus: entry.requestStatus,
          errorCode: entry.errorCode,
          prev: tail.last?.mac ?? AUDIT_GENESIS,
        },
        key,
      );
      try {
        await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
        const handle = await open(this.path, 'a', 0o600);
        try {
          await writeAll(handle, Buffer.from(`${line}\n`, 'utf8'), null);
          await handle.sync();
        } finally {
          await handle.close();
        }
        if (!tail.exists) {
          // A new file: make its directory entry (and a just-created audit folder's) durable too.
          await fsyncDir(dirname(this.path));
          await fsyncDir(dirname(dirname(this.path)));
        }
      } catch (error) {
        wrapWrite(error, 'record');
      }
      // The record is durable. If the head update fails, the head lags by one
      // record — the same state as a crash at this point, which verify accepts
      // and the next append repairs (or refuses loudly, before writing).
      await writeHead(this.path, record.seq, record.mac, key).catch(() => undefined);
      return record;
    } finally {
      key.fill(0);
    }
  }
}

async function keyForCheck(keyStore: KeyStore, hasAnything: boolean): Promise<Buffer | null> {
  const value = await keyStore.get('audit-key');
  if (value !== null && value.length > 0) return parseAuditKeyHex(value);
  if (hasAnything) return readAuditKey(keyStore); // throws KEYCHAIN_ENTRY_MISSING
  return null; // first append will create it
}

function tornTailError(): AuditError {
  return new AuditError('AUDIT_TORN_TAIL', 'The audit trail ends in a damaged (incomplete) record. Close the station and run "npm run audit -- seal".');
}

// ------------------------------------------------------------------- seal

export interface AuditSealResult {
  readonly sealed: boolean;
  /** The seal record written, or null when the tail was not torn. */
  readonly record: AuditSealRecord | null;
  /** Where the torn bytes were copied, or null. */
  readonly tornFile: string | null;
  readonly tornBytes: number;
}

/**
 * Seals a torn final line: copies its bytes to `<path>.torn-<time>` (fsync),
 * then overwrites them with a seal record chained to the last complete record
 * and cuts the file after it (fsync), then updates the head. A crash at any
 * point leaves either the torn tail (seal again) or the sealed trail. A file
 * that does not end in a torn line is left alone.
 */
export async function sealAuditFile(path: string, keyStore: KeyStore, opts: AuditLogOptions = {}): Promise<AuditSealResult> {
  return sealNow(path, keyStore, opts.now ?? (() => new Date())).catch((error: unknown) => wrapWrite(error, 'file'));
}

async function sealNow(path: string, keyStore: KeyStore, now: () => Date): Promise<AuditSealResult> {
  const key = await readAuditKey(keyStore);
  try {
    const tail = await readTail(path, key);
    if (tail.tornStart === null) return { sealed: false, record: null, tornFile: null, tornBytes: 0 };
    const tornStart = tail.tornStart;
    const head = await readHead(path, key);
    const lastSeq = tail.last?.seq ?? 0;
    if (head.state === 'ok' && head.seq > lastSeq) {
      throw new AuditError(
        'AUDIT_CHAIN_BROKEN',
        `The damaged last line was record ${lastSeq + 1}, which the head anchor shows was completely written: this is not an interrupted write. Nothing was sealed; keep the file for investigation.`,
      );
    }
    await reconcileHead(path, tail.last, key).catch((error: unknown) => wrapWrite(error, 'head anchor'));

    const handle = await open(path, 'r+').catch((error: unknown) => wrapWrite(error, 'open'));
    try {
      const torn = Buffer.alloc(tail.size - tornStart);
      const { bytesRead } = await handle.read(torn, 0, torn.length, tornStart);
      if (bytesRead !== torn.length)
        throw new AuditError('AUDIT_CHAIN_BROKEN', 'The audit trail changed while it was being sealed. Close the station and try again.');
      const time = now();
      const tornFile = await saveTorn(path, torn, time);
      const { record, line } = signRecord<AuditSealRecord>(
        {
          seq: lastSeq + 1,
          time: time.toISOString(),
          type: 'seal',
          tornBytes: torn.length,
          tornSha256: createHash('sha256').update(torn).digest('hex'),
          prev: tail.last?.mac ?? AUDIT_GENESIS,
        },
        key,
      );
      const data = Buffer.from(`${line}\n`, 'utf8');
      try {
        // Overwrite first, cut after: a crash in between leaves a torn remainder, which seals again.
        await writeAll(handle, data, tornStart);
        if (tornStart + data.length < tail.size) await handle.truncate(tornStart + data.length);
        await handle.sync();
      } catch (error) {
        wrapWrite(error, 'seal record');
      }
      await writeHead(path, record.seq, record.mac, key).catch(() => undefined);
      return { sealed: true, record, tornFile, tornBytes: torn.length };
    } finally {
      await handle.close();
    }
  } finally {
    key.fill(0);
  }
}

async function saveTorn(path: string, torn: Buffer, time: Date): Promise<string> {
  const stamp = time.toISOString().replace(/[-:]/g, '').replace('.', '-');
  for (let attempt = 0; attempt < 100; attempt++) {
    const file = `${path}.torn-${stamp}${attempt === 0 ? '' : `-${attempt}`}`;
    let handle: FileHandle;
    try {
      handle = await open(file, 'wx', 0o600);
    } catch (error) {
      if (isErrno(error, 'EEXIST')) continue;
      return wrapWrite(error, 'torn copy');
    }
    try {
      await writeAll(handle, torn, null);
      await handle.sync();
    } catch (error) {
      wrapWrite(error, 'torn copy');
    } finally {
      await handle.close();
    }
    await fsyncDir(dirname(path)).catch((error: unknown) => wrapWrite(error, 'torn copy'));
    return file;
  }
  throw new AuditError('AUDIT_WRITE_FAILED', `Too many torn copies named ${basename(path)}.torn-${stamp}*.`);
}

// ----------------------------------------------------------------- verify

export interface AuditBadRecord {
  /** 1-based line number in the file (for missing records: where the first one belonged). */
  readonly line: number;
  /** The record's seq as far as it can be told, or null (unreadable or torn line). */
  readonly seq: number | null;
  /** Written to follow "record <seq> (line <line>): ". Never quotes file content. */
  readonly reason: string;
}

export type AuditVerifyResult =
  | { readonly ok: true; readonly records: number }
  | {
      readonly ok: false;
      /** Records that verified before the first bad one. */
      readonly records: number;
      readonly firstBad: AuditBadRecord;
      /** The file ends in a torn line (incomplete, or not JSON). */
      readonly tornTail: boolean;
      /** True only when the torn tail is the sole problem and looks like an interrupted write: seal it. */
      readonly sealable: boolean;
    };

/**
 * Checks a whole trail file with the key that wrote it: every record's MAC
 * and exact form, consecutive seqs from 1, each prev against the previous
 * mac, and the end of the file against the head anchor (see the header of
 * this module for the rule). Names the first bad record.
 */
export function verifyAuditFile(path: string, key: Uint8Array): AuditVerifyResult {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
    data = Buffer.alloc(0);
  }
  // Lines: [start, end) without the newline; the last may lack one.
  const lines: { start: number; end: number; terminated: boolean }[] = [];
  for (let start = 0; start < data.length;) {
    const nl = data.indexOf(0x0a, start);
    if (nl === -1) {
      lines.push({ start, end: data.length, terminated: false });
      break;
    }
    lines.push({ start, end: nl, terminated: true });
    start = nl + 1;
  }
  const lastLine = lines[lines.length - 1];
  let torn = false;
  if (lastLine) {
    if (!lastLine.terminated) torn = true;
    else {
      try {
        JSON.parse(data.subarray(lastLine.start, lastLine.end).toString('utf8'));
      } catch {
        torn = true;
      }
    }
  }
  const complete = torn ? lines.length - 1 : lines.length;
  const fail = (records: number, firstBad: AuditBadRecord, sealable = false): AuditVerifyResult => ({ ok: false, records, firstBad, tornTail: torn, sealable });
  const seqAt = (index: number): number | null => {
    const line = lines[index];
    if (!line) return null;
    try {
      const value = JSON.parse(data.subarray(line.start, line.end).toString('utf8')) as { seq?: unknown };
      return typeof value.seq === 'number' ? value.seq : null;
    } catch {
      return null;
    }
  };

  let last: AuditLine | null = null;
  for (let i = 0; i < complete; i++) {
    const line = lines[i] as (typeof lines)[number];
    const number = i + 1;
    const check = checkLine(data.subarray(line.start, line.end), key);
    if (!check.ok) return fail(i, { line: number, seq: check.seq, reason: check.reason });
    const record = check.record;
    const expected = (last?.seq ?? 0) + 1;
    if (record.seq > expected) {
      let foundAt = -1;
      for (let j = i + 1; j < complete && foundAt === -1; j++) if (seqAt(j) === expected) foundAt = j;
      const reason =
        foundAt !== -1
          ? `is out of order: record ${expected} belongs here and is at line ${foundAt + 1} — records were reordered`
          : record.seq === expected + 1
            ? `follows record ${expected - 1}: record ${expected} is missing — it was deleted`
            : `follows record ${expected - 1}: records ${expected} to ${record.seq - 1} are missing — they were deleted`;
      return fail(i, { line: number, seq: record.seq, reason });
    }
    if (record.seq < expected) {
      return fail(i, { line: number, seq: record.seq, reason: `is out of order: it comes after record ${expected - 1} — records were reordered or copied` });
    }
    if (record.prev !== (last?.mac ?? AUDIT_GENESIS)) {
      const reason = last
        ? `prev does not match the mac of record ${last.seq} — the chain is broken (a record was replaced)`
        : 'prev is not the genesis value — earlier records are missing or the record was replaced';
      return fail(i, { line: number, seq: record.seq, reason });
    }
    last = record;
  }

  // Every complete line is good, so record n sits on line n. Now the end of the file.
  const lastSeq = last?.seq ?? 0;
  const tornLine = complete + 1;
  const head = readHeadSync(path, key);
  const headName = basename(auditHeadPath(path));
  if (head.state === 'bad') {
    return fail(lastSeq, {
      line: Math.max(lastSeq, 1),
      seq: last ? lastSeq : null,
      reason: `cannot be confirmed as the last record: the head anchor ${headName} is unreadable or its mac does not match — it was edited or replaced`,
    });
  }
  if (head.state === 'missing') {
    if (lastSeq > 1) {
      return fail(lastSeq, {
        line: lastSeq,
        seq: lastSeq,
        reason: `cannot be confirmed as the last record: the head anchor ${headName} is missing — it was deleted, perhaps with records after this one`,
      });
    }
  } else if (head.seq > lastSeq) {
    const first = lastSeq + 1;
    if (torn) {
      return fail(lastSeq, {
        line: tornLine,
        seq: first,
        reason: `is damaged: the head anchor shows records up to ${head.seq} were completely written, so this is not an interrupted write — the file was truncated or edited`,
      });
    }
    const missing = first === head.seq ? `record ${first} is missing` : `records ${first} to ${head.seq} are missing`;
    return fail(lastSeq, {
      line: tornLine,
      seq: first,
      reason: `${missing}: the head anchor shows the trail reached record ${head.seq} — the file was truncated`,
    });
  } else if (head.seq === lastSeq) {
    if (!last || !macEquals(head.mac, last.mac)) {
      return fail(lastSeq, { line: lastSeq, seq: lastSeq, reason: 'does not match the head anchor — the record or the anchor was replaced' });
    }
  } else if (head.seq === lastSeq - 1) {
    if (!last || !macEquals(head.mac, last.prev)) {
      return fail(lastSeq, { line: head.seq, seq: head.seq, reason: 'does not match the head anchor — the record or the anchor was replaced' });
    }
  } else {
    const first = head.seq + 2;
    return fail(first - 1, {
      line: first,
      seq: first,
      reason: `is not covered by the head anchor, which names record ${head.seq} (more than one record back) — the anchor was replaced by an older copy`,
    });
  }

  if (torn) {
    const line = lines[complete] as (typeof lines)[number];
    const bytes = data.length - line.start;
    return fail(
      lastSeq,
      {
        line: tornLine,
        seq: null,
        reason: `is a torn final line (${bytes} byte${bytes === 1 ? '' : 's'}, ${line.terminated ? 'not JSON' : 'no newline'}) — an interrupted write; run "npm run audit -- seal"`,
      },
      true,
    );
  }
  return { ok: true, records: lastSeq };
}

/** Parses a trail file's complete lines without checking them (for tests and tools). Unreadable lines are skipped. */
export function readAuditRecords(path: string): AuditLine[] {
  const out: AuditLine[] = [];
  for (const text of readFileSync(path, 'utf8').split('\n')) {
    try {
      const value = JSON.parse(text) as AuditLine;
      if (typeof value === 'object' && value !== null) out.push(value);
    } catch {
      // torn or edited: verifyAuditFile reports it
    }
  }
  return out;
}
