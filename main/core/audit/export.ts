/**
 * Exporting the audit trail for auditors (`npm run audit -- export`; the
 * station's main process may call it too). Plain Node, no Electron.
 *
 * Verify first, then export. exportAuditTrail() runs verifyAuditFile() on the
 * whole trail and refuses (AuditExportRefusedError, an AuditError with code
 * AUDIT_CHAIN_BROKEN, or AUDIT_TORN_TAIL for a torn tail that seal can
 * repair) when it does not verify, naming the first bad record and why, never
 * a value. It then reads the file once more and exports only the first N
 * records that verified, re-checking each exported line's MAC and chain link
 * on the very bytes it exports, so a record appended or swapped in between
 * cannot slip into an export that says "verified".
 *
 * What is exported: every record type. Card records (which have no `type`)
 * get `type: "card"`; `seal` and `staff` records and any type added later are
 * exported field by field. Field names are an allowlist: the known fields
 * (EXPORT_FIELDS below, plus AUDIT_RECORD_FIELDS), and a new field only if its
 * name matches /^[a-z][A-Za-z]{0,31}$/ and none of its camelCase words names
 * a secret (pin, pan, key, block, password, ...). Only strings, numbers,
 * booleans and null are exported; a nested value is dropped, since the
 * allowlist cannot vet the names inside it. `prev` is kept: with a filter,
 * it still shows how each exported record links to the one before it.
 *
 * Filters: `from` is inclusive and `to` exclusive, both compared with the
 * record's `time`. parseAuditExportDate() turns `YYYY-MM-DD` into a whole
 * UTC day (a `to` date means the end of that day, so from 2025-01-01 to
 * 2025-01-31 covers all of January 1 to 31) and accepts a full ISO 8601 time
 * with a zone as is. `operator` matches a record's `operator` (card records)
 * or `username` (staff records); `cardId` matches `cardId`. Matching is
 * exact. Records a filter cannot apply to (a seal has neither) are left out
 * when that filter is given.
 *
 * JSON: pretty-printed, `{ "export": { generated, trail: "verified",
 * verifiedRecords, records, stationId, filter }, "records": [...] }`; each
 * record's fields in the column order below, numbers as numbers, null kept,
 * absent fields left out. No formula neutralisation: JSON is not executed by
 * spreadsheets.
 *
 * CSV (RFC 4180): UTF-8 without a BOM, CRLF after every row, every field in
 * double quotes with inner quotes doubled. RFC 4180 has no comments, so the
 * verification statement travels as data: the first column `row` says what a
 * row is, and the first row after the header is the one row with
 * `row` = "export", its `time` the generation time and its `note` column the
 * statement ("PIN Station audit export: the audit trail verified (MACs, chain
 * and head anchor): N records. M records exported. Filter: ..."). Every
 * other row has `row` = "record" and an empty `note`. A spreadsheet filter on
 * `row` = "record" gives the records alone; a record type added later can
 * never be mistaken for the statement, whatever it is called. Columns: `row`,
 * the known fields in a fixed order, `note`, then any other field names found,
 * in first-seen order (a record field named `row` or `note` goes to a column
 * `record.row` / `record.note`). A null and an absent field are both empty.
 * Formula neutralisation (OWASP, CSV injection): a cell that starts with `=`,
 * `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so a card ID
 * such as `=HYPERLINK(...)` is shown as text and never evaluated.
 *
 * The CSV writer is the ~20 lines below rather than a library: quoting every
 * field is the whole of RFC 4180's writing side, the neutralisation is ours
 * anyway, and the main process gains no dependency.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import type { AuditExportFormat } from '../../../common/domain';
import { AUDIT_GENESIS, AUDIT_RECORD_FIELDS, AuditError, checkLine, isTornFinalLine } from './format';
import type { AuditLine } from './format';
import { streamTrailLines, verifyAuditFile } from './verify';
import type { AuditVerifyResult } from './verify';

export interface AuditExportFilter {
  from?: Date;
  to?: Date;
  operator?: string;
  cardId?: string;
}
export { AUDIT_EXPORT_FORMATS } from '../../../common/domain';
export type { AuditExportFormat } from '../../../common/domain';

export interface AuditExport {
  readonly text: string;
  /** Records in the export (after the filter). */
  readonly records: number;
  /** Records in the trail that verified (all of them: an export is refused otherwise). */
  readonly verifiedRecords: number;
}

export interface AuditExportOptions {
  format: AuditExportFormat;
  filter?: AuditExportFilter;
  /** The station making the export, named in its metadata (null when not given). */
  stationId?: string;
  now?: () => Date;
}

/** The export was refused because the trail does not verify; `failure` says where and why. */
export class AuditExportRefusedError extends AuditError {
  constructor(readonly failure: Extract<AuditVerifyResult, { ok: false }>) {
    super(failure.sealable ? 'AUDIT_TORN_TAIL' : 'AUDIT_CHAIN_BROKEN', `Nothing was exported: ${describeBadRecord(failure)}.`);
    this.name = 'AuditExportRefusedError';
  }
}

/** "record 7 (line 7): mac does not match — the record was edited" (verify's reasons never quote file content). */
export function describeBadRecord(failure: Extract<AuditVerifyResult, { ok: false }>): string {
  const { line, seq, reason } = failure.firstBad;
  return `${seq === null ? `line ${line}` : `record ${seq} (line ${line})`}: ${reason}`;
}

/**
 * The known fields, in export order: the fixed columns between `row` and `note`. Taken from the trail's own
 * field list (format.ts), so a field added there is a column here; chain fields go last.
 */
const CHAIN_FIELDS = ['seq', 'time', 'type', 'prev', 'mac'];
export const EXPORT_FIELDS: readonly string[] = ['seq', 'time', 'type', ...AUDIT_RECORD_FIELDS.filter((name) => !CHAIN_FIELDS.includes(name)), 'prev', 'mac'];

const KNOWN_FIELDS: ReadonlySet<string> = new Set<string>([...EXPORT_FIELDS, ...AUDIT_RECORD_FIELDS]);
const NEW_FIELD_NAME = /^[a-z][A-Za-z]{0,31}$/;
/** camelCase words that may name a secret: a new field carrying one of them is never exported. */
const SECRET_WORDS: ReadonlySet<string> = new Set([
  'pin',
  'pins',
  'pan',
  'pans',
  'key',
  'keys',
  'block',
  'secret',
  'password',
  'passcode',
  'passphrase',
  'token',
  'track',
  'cvv',
  'cvc',
  'otp',
]);
/** Columns of the CSV that are not record fields. */
const ROW_COLUMN = 'row';
const NOTE_COLUMN = 'note';

/** Lists (a key load's custodians and their KCVs) stay lists in JSON and are joined with "; " in CSV. */
type ExportValue = string | number | boolean | null | readonly string[];
type ExportRecord = ReadonlyMap<string, ExportValue>;

/** Whether a field may leave the trail in an export. */
export function isExportableField(name: string): boolean {
  if (KNOWN_FIELDS.has(name)) return true;
  if (!NEW_FIELD_NAME.test(name)) return false;
  return !name
    .split(/(?=[A-Z])/)
    .map((word) => word.toLowerCase())
    .some((word) => SECRET_WORDS.has(word));
}

/**
 * `YYYY-MM-DD` (a whole UTC day: its start for `from`, the start of the next
 * day for `to`, which is exclusive) or a full ISO 8601 time with a zone
 * (`2025-01-31T09:30:00Z`, `...+01:00`, seconds and milliseconds optional).
 * Null for anything else, including impossible dates such as 2025-02-30.
 */
export function parseAuditExportDate(text: string, bound: 'from' | 'to'): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/.exec(text);
  if (!match) return null;
  const [, y, m, d, hh, mm, ss, zone] = match;
  const year = Number(y);
  const month = Number(m);
  const day = Number(d);
  const start = new Date(Date.UTC(year, month - 1, day));
  if (start.getUTCFullYear() !== year || start.getUTCMonth() !== month - 1 || start.getUTCDate() !== day) return null;
  if (hh === undefined) return bound === 'to' ? new Date(start.getTime() + 86_400_000) : start;
  if (Number(hh) > 23 || Number(mm) > 59 || Number(ss ?? '0') > 59) return null;
  if (zone !== undefined && zone !== 'Z' && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4, 6)) > 59)) return null;
  const time = new Date(text);
  return Number.isNaN(time.getTime()) ? null : time;
}

/** Verifies the whole trail, then exports the records that match the filter. See the file comment for the formats. */
export function exportAuditTrail(path: string, key: Uint8Array, options: AuditExportOptions): AuditExport {
  const chunks: string[] = [];
  const steps = exportSteps(path, key, options, (chunk) => void chunks.push(chunk));
  for (;;) {
    const step = steps.next();
    if (step.done) return { text: chunks.join(''), ...step.value };
  }
}

/**
 * exportAuditTrail with the text handed to `write` piece by piece as it is made (the CLI writes it straight to its
 * file): the trail is read twice, streamed, and never held in memory, however long it is. The first read verifies it
 * and counts what the filter takes (the header says how many, and the CSV's columns); the second exports. When
 * `write` returns a promise (a destination asking to wait), the next record waits for it.
 */
export async function writeAuditExport(
  path: string,
  key: Uint8Array,
  options: AuditExportOptions,
  write: (chunk: string) => void | Promise<void>,
): Promise<Omit<AuditExport, 'text'>> {
  let waitFor: Promise<void> | undefined;
  const steps = exportSteps(path, key, options, (chunk) => {
    waitFor = write(chunk) ?? waitFor;
  });
  try {
    for (;;) {
      const step = steps.next();
      if (step.done) {
        await waitFor;
        return step.value;
      }
      if (waitFor !== undefined) {
        const pending = waitFor;
        waitFor = undefined;
        await pending;
      }
    }
  } finally {
    // A destination that failed leaves the steps suspended: close the trail they hold open.
    steps.return({ records: 0, verifiedRecords: 0 });
  }
}

/** The export, one step per record written: its driver may wait between records (writeAuditExport) or not. */
function* exportSteps(path: string, key: Uint8Array, options: AuditExportOptions, write: (chunk: string) => void): Generator<void, Omit<AuditExport, 'text'>> {
  const filter = options.filter ?? {};
  if (filter.from && filter.to && filter.from.getTime() >= filter.to.getTime()) {
    throw new RangeError('the export filter has from at or after to');
  }
  let matched = 0;
  const extras: string[] = [];
  const verified = verifyAuditFile(path, key, (record) => {
    if (!matches(record, filter)) return;
    matched++;
    if (options.format !== 'csv') return;
    for (const name of Object.keys(record)) {
      if (!(EXPORT_FIELDS as readonly string[]).includes(name) && !extras.includes(name) && toExportRecord(record).has(name)) extras.push(name);
    }
  });
  if (!verified.ok) throw new AuditExportRefusedError(verified);
  const generated = (options.now ?? (() => new Date()))().toISOString();
  const meta: ExportMeta = { generated, verifiedRecords: verified.records, records: matched, stationId: options.stationId ?? null, filter };
  const format = options.format === 'csv' ? csvWriter(meta, extras, write) : jsonWriter(meta, write);
  let exported = 0;
  for (const record of verifiedRecords(path, key, verified.records)) {
    if (!matches(record, filter)) continue;
    exported++;
    format.record(toExportRecord(record));
    yield;
  }
  if (exported !== matched) {
    throw new AuditError('AUDIT_CHAIN_BROKEN', 'Nothing was exported: the trail changed while it was being exported; run the export again.');
  }
  format.end();
  return { records: matched, verifiedRecords: verified.records };
}

/**
 * The first `count` records, read again and checked line by line (MAC, exact
 * form, seq, prev) on the bytes that will be exported: the file may have
 * grown since verify, and only what verified is exported.
 */
function* verifiedRecords(path: string, key: Uint8Array, count: number): Generator<AuditLine, void> {
  if (count === 0) return;
  const changed = (seq: number): AuditError =>
    new AuditError('AUDIT_CHAIN_BROKEN', `Nothing was exported: record ${seq} (line ${seq}) changed while the trail was being exported; run the export again.`);
  const fd = openSync(path, 'r');
  try {
    let prev = AUDIT_GENESIS;
    let i = 0;
    for (const line of streamTrailLines(fd, fstatSync(fd).size)) {
      if (i === count) break;
      const check = !(line.last && isTornFinalLine(line.bytes, line.terminated)) ? checkLine(line.bytes, key) : null;
      if (!check?.ok || check.record.seq !== i + 1 || check.record.prev !== prev) throw changed(i + 1);
      yield check.record;
      prev = check.record.mac;
      i++;
    }
    if (i < count) throw changed(i + 1);
  } finally {
    closeSync(fd);
  }
}

function field(record: AuditLine, name: string): unknown {
  return (record as unknown as Record<string, unknown>)[name];
}

function matches(record: AuditLine, filter: AuditExportFilter): boolean {
  const time = Date.parse(String(field(record, 'time')));
  if (filter.from && !(time >= filter.from.getTime())) return false;
  if (filter.to && !(time < filter.to.getTime())) return false;
  if (filter.operator !== undefined && field(record, 'operator') !== filter.operator && field(record, 'username') !== filter.operator) return false;
  if (filter.cardId !== undefined && field(record, 'cardId') !== filter.cardId) return false;
  return true;
}

/** The exportable fields of one record, in export order: the known fields, then the others as the record has them. */
function toExportRecord(record: AuditLine): ExportRecord {
  const source = record as unknown as Record<string, unknown>;
  const out = new Map<string, ExportValue>();
  const put = (name: string, value: unknown): void => {
    if (value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
      out.set(name, value);
    } else if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
      out.set(name, [...(value as string[])]);
    }
  };
  for (const name of EXPORT_FIELDS) {
    if (name === 'type') put(name, typeof source.type === 'string' ? source.type : 'card');
    else if (Object.hasOwn(source, name)) put(name, source[name]);
  }
  for (const [name, value] of Object.entries(source)) {
    if (!out.has(name) && !(EXPORT_FIELDS as readonly string[]).includes(name) && isExportableField(name)) put(name, value);
  }
  return out;
}

interface ExportMeta {
  readonly generated: string;
  readonly verifiedRecords: number;
  readonly records: number;
  readonly stationId: string | null;
  readonly filter: AuditExportFilter;
}

function filterJson(filter: AuditExportFilter): Record<string, string | null> {
  return {
    from: filter.from?.toISOString() ?? null,
    to: filter.to?.toISOString() ?? null,
    operator: filter.operator ?? null,
    cardId: filter.cardId ?? null,
  };
}

interface FormatWriter {
  record(record: ExportRecord): void;
  end(): void;
}

/** Hands out text in pieces of about 1 MiB. */
function batched(write: (chunk: string) => void): { add(text: string): void; flush(): void } {
  let parts: string[] = [];
  let length = 0;
  const flush = (): void => {
    if (parts.length > 0) write(parts.join(''));
    parts = [];
    length = 0;
  };
  return {
    add(text) {
      parts.push(text);
      length += text.length;
      if (length >= 1 << 20) flush();
    },
    flush,
  };
}

/** `JSON.stringify({ export, records }, null, 2)`, one record at a time. */
function jsonWriter(meta: ExportMeta, write: (chunk: string) => void): FormatWriter {
  const head = {
    export: {
      generated: meta.generated,
      trail: 'verified',
      verifiedRecords: meta.verifiedRecords,
      records: meta.records,
      stationId: meta.stationId,
      filter: filterJson(meta.filter),
    },
    records: [],
  };
  const empty = `${JSON.stringify(head, null, 2)}\n`;
  const out = batched(write);
  let count = 0;
  return {
    record(record) {
      // An element of the top-level object's "records" array sits two levels deep: four spaces before each line.
      const element = JSON.stringify(Object.fromEntries(record), null, 2).replace(/^/gm, '    ');
      out.add(count === 0 ? `${empty.slice(0, -'[]\n}\n'.length)}[\n${element}` : `,\n${element}`);
      count++;
    },
    end() {
      out.add(count === 0 ? empty : '\n  ]\n}\n');
      out.flush();
    },
  };
}

/** The verification statement of the CSV's "export" row. */
export function verificationStatement(meta: Pick<ExportMeta, 'verifiedRecords' | 'records' | 'stationId' | 'filter' | 'generated'>): string {
  const plural = (n: number): string => `${n} record${n === 1 ? '' : 's'}`;
  const { from, to, operator, cardId } = meta.filter;
  const parts = [
    from && `time from ${from.toISOString()} (inclusive)`,
    to && `time to ${to.toISOString()} (exclusive)`,
    operator !== undefined && `operator or user name ${JSON.stringify(operator)}`,
    cardId !== undefined && `card ID ${JSON.stringify(cardId)}`,
  ].filter((part): part is string => typeof part === 'string');
  return (
    `PIN Station audit export: the audit trail verified (MACs, chain and head anchor): ${plural(meta.verifiedRecords)}. ` +
    `${plural(meta.records)} exported. Filter: ${parts.length > 0 ? parts.join('; ') : 'none'}. Generated ${meta.generated}` +
    `${meta.stationId === null ? '' : ` by station ${meta.stationId}`}.`
  );
}

function csvCell(value: ExportValue | undefined): string {
  let text = value === null || value === undefined ? '' : Array.isArray(value) ? value.join('; ') : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replaceAll('"', '""')}"`;
}

function csvRow(cells: readonly (ExportValue | undefined)[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

function csvWriter(meta: ExportMeta, extras: readonly string[], write: (chunk: string) => void): FormatWriter {
  const reserved = new Set([ROW_COLUMN, NOTE_COLUMN]);
  const columnOf = (name: string): string => (reserved.has(name) ? `record.${name}` : name);
  const header = [ROW_COLUMN, ...EXPORT_FIELDS, NOTE_COLUMN, ...extras.map(columnOf)];
  const exportRow = new Map<string, ExportValue>([
    [ROW_COLUMN, 'export'],
    ['time', meta.generated],
    [NOTE_COLUMN, verificationStatement(meta)],
  ]);
  const out = batched(write);
  out.add(csvRow(header));
  out.add(csvRow(header.map((column) => exportRow.get(column))));
  return {
    record(record) {
      out.add(csvRow(['record', ...EXPORT_FIELDS.map((name) => record.get(name)), undefined, ...extras.map((name) => record.get(name))]));
    },
    end() {
      out.flush();
    },
  };
}
