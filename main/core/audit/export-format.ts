/**
 * What an audit export holds and how it is written: the record fields and the
 * JSON and CSV formats. export.ts verifies the trail and drives these.
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
import type { AuditExportFilter } from './export';
import { AUDIT_RECORD_FIELDS } from './format';
import type { AuditLine } from './format';

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

/** The exportable fields of one record, in export order: the known fields, then the others as the record has them. */
export function toExportRecord(record: AuditLine): ExportRecord {
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

export interface ExportMeta {
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
export function jsonWriter(meta: ExportMeta, write: (chunk: string) => void): FormatWriter {
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

export function csvWriter(meta: ExportMeta, extras: readonly string[], write: (chunk: string) => void): FormatWriter {
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
