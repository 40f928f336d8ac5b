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
 * The record fields and the JSON and CSV formats: export-format.ts.
 *
 * Filters: `from` is inclusive and `to` exclusive, both compared with the
 * record's `time`. parseAuditExportDate() turns `YYYY-MM-DD` into a whole
 * UTC day (a `to` date means the end of that day, so from 2025-01-01 to
 * 2025-01-31 covers all of January 1 to 31) and accepts a full ISO 8601 time
 * with a zone as is. `operator` matches a record's `operator` (card records)
 * or `username` (staff records); `cardId` matches `cardId`. Matching is
 * exact. Records a filter cannot apply to (a seal has neither) are left out
 * when that filter is given.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import type { AuditExportFormat } from '../../../common/domain';
import { EXPORT_FIELDS, csvWriter, jsonWriter, toExportRecord } from './export-format';
import type { ExportMeta } from './export-format';
import { AUDIT_GENESIS, AuditError, checkLine, isTornFinalLine } from './format';
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

/** Verifies the whole trail, then exports the records that match the filter. See export-format.ts for the formats. */
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
