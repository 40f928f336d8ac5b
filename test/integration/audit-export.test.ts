/**
 * Audit export (main/core/audit/export.ts, `npm run audit -- export`): a real
 * trail written by AuditLog, exported through the CLI in-process, and read
 * back with a CSV parser (csv-parse) and JSON.parse, never by splitting
 * strings. The keychain is a MemoryKeyStore: nothing here touches the
 * Secret Service.
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditError, AuditLog, auditFilePath, readAuditRecords } from '../../main/core/audit';
import type { AuditEntry, AuditInput, AuditStaffEntry } from '../../main/core/audit';
import { exportAuditTrail, parseAuditExportDate } from '../../main/core/audit/export';
import { EXPORT_FIELDS, isExportableField } from '../../main/core/audit/export-format';
import { MemoryKeyStore } from '../../main/core/keystore';
import { EXIT_CODES, runAuditCli } from '../../main/admin/audit/cli';

const KEY_HEX = '3E7A1C9B5D2F4086A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718';
const KEY = Buffer.from(KEY_HEX, 'hex');
const GENERATED = '2025-02-01T10:00:00.000Z';
const FORMULA_CARD = '=HYPERLINK("https://example.invalid/x","open")';
const QUOTE_CARD = 'ACME, "Gold" 7';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pin-station-audit-export-'));
  file = auditFilePath(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 }));

function card(time: string, operator: string, cardId: string, overrides: Partial<AuditEntry> = {}): [string, AuditInput] {
  const entry: AuditEntry = {
    stationId: 'branch-01',
    operator,
    cardId,
    mode: 'customer',
    profile: 'gcm',
    outcome: 'pin-set',
    requestStatus: 'REQ-1',
    errorCode: null,
    ...overrides,
  };
  return [time, entry];
}
function staff(time: string, username: string, event: AuditStaffEntry['event'], reason: string | null = null): [string, AuditInput] {
  return [time, { type: 'staff', stationId: 'branch-01', event, username, provider: 'local', reason }];
}

/** Eleven records over three days, by alice and bob, with the awkward card IDs. */
const TRAIL: readonly [string, AuditInput][] = [
  staff('2025-01-01T08:59:00.000Z', 'alice', 'sign-in'),
  card('2025-01-01T09:00:00.000Z', 'alice', 'CARD-0001'),
  card('2025-01-01T23:59:59.999Z', 'alice', FORMULA_CARD, { mode: 'processor', outcome: 'pin-generated', requestStatus: null }),
  card('2025-01-02T00:00:00.000Z', 'alice', 'CARD-0004'),
  staff('2025-01-02T08:00:00.000Z', 'alice', 'sign-out', 'manual'),
  staff('2025-01-02T08:01:00.000Z', 'bob', 'sign-in'),
  card('2025-01-02T09:00:00.000Z', 'bob', QUOTE_CARD, { outcome: 'rejected', requestStatus: 'DECLINED', errorCode: 'PROCESSOR_REJECTED' }),
  card('2025-01-02T13:00:00.000Z', 'bob', '@SUM(A1:A9)'),
  card('2025-01-02T14:00:00.000Z', 'bob', '-2+3'),
  staff('2025-01-03T07:00:00.000Z', 'bob', 'lock', 'idle'),
  card('2025-01-03T09:00:00.000Z', 'bob', 'CARD-0001', { outcome: 'failed', requestStatus: null, errorCode: 'PROCESSOR_UNREACHABLE' }),
];

async function writeTrail(): Promise<void> {
  let next = 0;
  const log = new AuditLog(file, new MemoryKeyStore({ 'audit-key': KEY_HEX }), { now: () => new Date((TRAIL[next - 1] as [string, AuditInput])[0]) });
  for (const [, entry] of TRAIL) {
    next++;
    await log.append(entry);
  }
  // Appends resolve before the head anchor lands: the tests read, tear and remove the folder only after it.
  await log.flush();
}

type Raw = Record<string, unknown>;
function rawRecords(): Raw[] {
  return readAuditRecords(file) as unknown as Raw[];
}
/** The export's view of a record, built here independently: card records get type "card". */
function expected(record: Raw): Raw {
  return { ...record, type: typeof record.type === 'string' ? record.type : 'card' };
}
/** OWASP CSV-injection neutralisation, as the export must apply it. */
function neutralised(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}
async function run(argv: readonly string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const store = new MemoryKeyStore({ 'audit-key': KEY_HEX });
  const code = await runAuditCli(argv, {
    stdout: { write: (t: string) => out.push(t) },
    stderr: { write: (t: string) => err.push(t) },
    openStore: () => store,
    now: () => new Date(GENERATED),
    env: {},
    homedir: dir,
    platform: 'linux',
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

interface Csv {
  readonly header: string[];
  readonly rows: Record<string, string>[];
  readonly unquoted: number;
}
function parseCsv(text: string): Csv {
  let unquoted = 0;
  const table = parse(text, {
    record_delimiter: '\r\n',
    cast: (value, context) => {
      if (!context.quoting) unquoted++;
      return value;
    },
  }) as string[][];
  const [header, ...body] = table;
  if (!header) throw new Error('no header row');
  return { header, rows: body.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i] as string]))), unquoted };
}

interface JsonExport {
  export: { generated: string; trail: string; verifiedRecords: number; records: number; stationId: string | null; filter: Record<string, string | null> };
  records: Raw[];
}

describe('npm run audit -- export', () => {
  it('CSV: RFC 4180 with CRLF and every field quoted; the verification row first; every record, neutralised', async () => {
    await writeTrail();
    const result = await run(['export', file, '--format', 'csv']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(EXIT_CODES.OK);
    expect(result.stdout.endsWith('\r\n')).toBe(true);
    expect(result.stdout).not.toMatch(/(^|[^\r])\n/);

    const csv = parseCsv(result.stdout);
    expect(csv.unquoted).toBe(0);
    expect(csv.header).toEqual(['row', ...EXPORT_FIELDS, 'note']);
    const [statement, ...rows] = csv.rows;
    expect(statement?.row).toBe('export');
    expect(statement?.time).toBe(GENERATED);
    expect(statement?.seq).toBe('');
    expect(statement?.note).toBe(
      `PIN Station audit export: the audit trail verified (MACs, chain and head anchor): 11 records. 11 records exported. Filter: none. Generated ${GENERATED}.`,
    );

    const records = rawRecords();
    expect(records).toHaveLength(TRAIL.length);
    expect(rows).toHaveLength(records.length);
    rows.forEach((row, i) => {
      const want = expected(records[i] as Raw);
      expect(row.row).toBe('record');
      expect(row.note).toBe('');
      for (const name of EXPORT_FIELDS) expect(row[name], `record ${i + 1}, ${name}`).toBe(neutralised(want[name]));
    });
    expect(rows.map((row) => row.seq)).toEqual(TRAIL.map((_, i) => String(i + 1)));
    expect(rows.map((row) => row.type)).toEqual(['staff', 'card', 'card', 'card', 'staff', 'staff', 'card', 'card', 'card', 'staff', 'card']);

    // The awkward card IDs, spelled out.
    expect(rows[2]?.cardId).toBe(`'${FORMULA_CARD}`);
    expect(rows[6]?.cardId).toBe(QUOTE_CARD);
    expect(rows[7]?.cardId).toBe("'@SUM(A1:A9)");
    expect(rows[8]?.cardId).toBe("'-2+3");
    expect(rows[6]).toMatchObject({ operator: 'bob', outcome: 'rejected', requestStatus: 'DECLINED', errorCode: 'PROCESSOR_REJECTED' });
    expect(rows[4]).toMatchObject({ type: 'staff', username: 'alice', event: 'sign-out', reason: 'manual', operator: '', cardId: '' });
    expect(rows[2]?.requestStatus).toBe('');
    // No cell anywhere is a formula.
    for (const row of csv.rows) for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    expect(result.stdout).not.toMatch(new RegExp(KEY_HEX, 'i'));
  });

  it('JSON: the "export" header says verified; records as in the trail, numbers as numbers, fields in a fixed order', async () => {
    await writeTrail();
    const result = await run(['export', file, '--format', 'json']);
    expect(result.code).toBe(EXIT_CODES.OK);
    const doc = JSON.parse(result.stdout) as JsonExport;
    expect(Object.keys(doc)).toEqual(['export', 'records']);
    expect(doc.export).toEqual({
      generated: GENERATED,
      trail: 'verified',
      verifiedRecords: 11,
      records: 11,
      stationId: null,
      filter: { from: null, to: null, operator: null, cardId: null },
    });
    expect(doc.records).toEqual(rawRecords().map(expected));
    expect(doc.records[2]?.cardId).toBe(FORMULA_CARD);
    expect(doc.records[6]?.cardId).toBe(QUOTE_CARD);
    expect(typeof doc.records[0]?.seq).toBe('number');
    expect(doc.records[2]?.requestStatus).toBeNull();
    expect(Object.keys(doc.records[1] as Raw)).toEqual([
      'seq',
      'time',
      'type',
      'stationId',
      'operator',
      'cardId',
      'mode',
      'profile',
      'outcome',
      'requestStatus',
      'errorCode',
      'prev',
      'mac',
    ]);
    expect(Object.keys(doc.records[0] as Raw)).toEqual(['seq', 'time', 'type', 'stationId', 'event', 'username', 'provider', 'reason', 'prev', 'mac']);
    expect(result.stdout).toBe(`${JSON.stringify(doc, null, 2)}\n`);

    // Same content as the CSV, cell by cell.
    const csv = parseCsv((await run(['export', file, '--format', 'csv'])).stdout);
    doc.records.forEach((record, i) => {
      for (const name of EXPORT_FIELDS) expect(csv.rows[i + 1]?.[name]).toBe(neutralised(record[name]));
    });
  });

  it('filters by operator (card operator or staff user name), card ID and date, in both formats', async () => {
    await writeTrail();
    const seqs = async (...options: string[]): Promise<number[]> => {
      const json = await run(['export', file, '--format', 'json', ...options]);
      expect(json.code, json.stderr).toBe(EXIT_CODES.OK);
      const doc = JSON.parse(json.stdout) as JsonExport;
      expect(doc.export.records).toBe(doc.records.length);
      expect(doc.export.verifiedRecords).toBe(11);
      const csv = await run(['export', file, '--format', 'csv', ...options]);
      expect(csv.code).toBe(EXIT_CODES.OK);
      const rows = parseCsv(csv.stdout).rows.slice(1);
      expect(rows.map((row) => Number(row.seq))).toEqual(doc.records.map((record) => record.seq));
      return doc.records.map((record) => record.seq as number);
    };
    const records = rawRecords();
    const where = (test: (record: Raw) => boolean): number[] => records.filter(test).map((record) => record.seq as number);

    expect(await seqs('--operator', 'bob')).toEqual([6, 7, 8, 9, 10, 11]);
    expect(where((r) => r.operator === 'bob' || r.username === 'bob')).toEqual([6, 7, 8, 9, 10, 11]);
    expect(await seqs('--operator', 'alice')).toEqual([1, 2, 3, 4, 5]);
    expect(await seqs('--operator', 'nobody')).toEqual([]);
    expect(await seqs('--card', FORMULA_CARD)).toEqual([3]);
    expect(await seqs('--card', QUOTE_CARD)).toEqual([7]);
    expect(await seqs('--card', 'CARD-0001')).toEqual([2, 11]);
    expect(await seqs('--card', 'CARD-0001', '--operator', 'bob')).toEqual([11]);
    // A bare date is a whole UTC day; --to is exclusive, but a bare --to date includes its day.
    expect(await seqs('--from', '2025-01-02', '--to', '2025-01-02')).toEqual([4, 5, 6, 7, 8, 9]);
    expect(await seqs('--to', '2025-01-01')).toEqual([1, 2, 3]);
    expect(await seqs('--from', '2025-01-03')).toEqual([10, 11]);
    expect(await seqs('--from', '2025-01-02T09:00:00Z', '--to', '2025-01-02T14:00:00Z')).toEqual([7, 8]);
    expect(await seqs('--from', '2025-01-02T10:00:00+01:00', '--to', '2025-01-02T10:00:00.001+01:00')).toEqual([7]);

    const csv = parseCsv((await run(['export', file, '--format', 'csv', '--operator', 'bob', '--from', '2025-01-02', '--to', '2025-01-02'])).stdout);
    expect(csv.rows[0]?.note).toBe(
      'PIN Station audit export: the audit trail verified (MACs, chain and head anchor): 11 records. 4 records exported. ' +
        'Filter: time from 2025-01-02T00:00:00.000Z (inclusive); time to 2025-01-03T00:00:00.000Z (exclusive); operator or user name "bob". ' +
        `Generated ${GENERATED}.`,
    );
    const doc = JSON.parse((await run(['export', file, '--format', 'json', '--card', QUOTE_CARD, '--from', '2025-01-02'])).stdout) as JsonExport;
    expect(doc.export.filter).toEqual({ from: '2025-01-02T00:00:00.000Z', to: null, operator: null, cardId: QUOTE_CARD });
  });

  it('usage errors (exit 2): format, dates, options of other commands; a bad date is not repeated', async () => {
    await writeTrail();
    const usage = async (...argv: string[]): Promise<string> => {
      const result = await run(argv);
      expect(result.code, argv.join(' ')).toBe(EXIT_CODES.USAGE);
      expect(result.stdout).toBe('');
      return result.stderr;
    };
    expect(await usage('export', file)).toMatch(/--format is required/);
    expect(await usage('export', file, '--format', 'xml')).toMatch(/--format must be csv or json/);
    expect(await usage('export', file, '--format', 'csv', '--from', '2025-02-30')).toMatch(/--from is not a date/);
    const secretish = await usage('export', file, '--format', 'csv', '--to', '4111111111111111');
    expect(secretish).toMatch(/--to is not a date/);
    expect(secretish).not.toContain('4111111111111111');
    expect(await usage('export', file, '--format', 'csv', '--from', '2025-01-02T09:00:00')).toMatch(/--from is not a date/);
    expect(await usage('export', file, '--format', 'csv', '--from', '2025-01-03', '--to', '2025-01-02')).toMatch(/--from must be before --to/);
    expect(await usage('export', file, '--format', 'csv', '--card', '')).toMatch(/--card needs a value/);
    expect(await usage('verify', file, '--format', 'csv')).toMatch(/--format does not apply to "verify"/);
    expect(await usage('seal', file, '--out', join(dir, 'x'))).toMatch(/--out does not apply to "seal"/);
    expect(await usage('export', join(dir, 'missing.jsonl'), '--format', 'csv')).toMatch(/no audit trail/);

    expect(parseAuditExportDate('2024-02-29', 'from')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(parseAuditExportDate('2024-02-29', 'to')?.toISOString()).toBe('2024-03-01T00:00:00.000Z');
    expect(parseAuditExportDate('2025-02-29', 'from')).toBeNull();
    expect(parseAuditExportDate('2025-01-01T24:00:00Z', 'from')).toBeNull();
  });

  it('a tampered trail: exit 3, the first bad record named (never its value), nothing written', async () => {
    await writeTrail();
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('"cardId":"CARD-0004"');
    writeFileSync(file, text.replace('"cardId":"CARD-0004"', '"cardId":"CARD-9999"'));
    const out = join(dir, 'export.csv');

    const result = await run(['export', file, '--format', 'csv', '--out', out]);
    expect(result.code).toBe(EXIT_CODES.VERIFY_FAILED);
    expect(result.stderr).toContain('record 4 (line 4): mac does not match — the record was edited');
    expect(result.stderr).toMatch(/nothing was exported/);
    expect(result.stderr + result.stdout).not.toContain('CARD-9999');
    expect(result.stdout).toBe('');
    expect(existsSync(out)).toBe(false);

    const toStdout = await run(['export', file, '--format', 'json']);
    expect(toStdout.code).toBe(EXIT_CODES.VERIFY_FAILED);
    expect(toStdout.stdout).toBe('');

    let error: unknown;
    try {
      exportAuditTrail(file, KEY, { format: 'json' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AuditError);
    expect((error as AuditError).code).toBe('AUDIT_CHAIN_BROKEN');
    expect((error as AuditError).message).toContain('record 4 (line 4): mac does not match');
    expect((error as AuditError).message).not.toContain('CARD-9999');
  });

  it('a torn tail: exit 4 (run seal), nothing written', async () => {
    await writeTrail();
    appendFileSync(file, '{"seq":12,"time"');
    const out = join(dir, 'export.json');
    const result = await run(['export', file, '--format', 'json', '--out', out]);
    expect(result.code).toBe(EXIT_CODES.TORN_TAIL);
    expect(result.stderr).toContain('line 12: is a torn final line');
    expect(existsSync(out)).toBe(false);
    expect(() => exportAuditTrail(file, KEY, { format: 'csv' })).toThrow(expect.objectContaining({ code: 'AUDIT_TORN_TAIL' }));
  });

  it('--out: creates the file with mode 0600, the same bytes as stdout; never overwrites', async () => {
    await writeTrail();
    const out = join(dir, 'export.csv');
    const result = await run(['export', '--data-dir', dir, '--format', 'csv', '--out', out]);
    expect(result.code, result.stderr).toBe(EXIT_CODES.OK);
    expect(result.stdout).toBe(`ok: 11 records verified; 11 exported as csv to ${out}\n`);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const written = readFileSync(out, 'utf8');
    expect(written).toBe((await run(['export', file, '--format', 'csv'])).stdout);
    expect(parseCsv(written).rows).toHaveLength(12);

    const again = await run(['export', file, '--format', 'json', '--out', out]);
    expect(again.code).toBe(EXIT_CODES.OUT_EXISTS);
    expect(again.stderr).toMatch(/already exists.*never overwrites/);
    expect(readFileSync(out, 'utf8')).toBe(written);

    const other = join(dir, 'notes.txt');
    writeFileSync(other, 'keep me\n');
    expect((await run(['export', file, '--format', 'csv', '--out', other])).code).toBe(EXIT_CODES.OUT_EXISTS);
    expect(readFileSync(other, 'utf8')).toBe('keep me\n');
  });

  it('the field allowlist: known fields, and new ones only with a plain name that names no secret', () => {
    for (const name of EXPORT_FIELDS) expect(isExportableField(name)).toBe(true);
    expect(isExportableField('approvalCode')).toBe(true);
    expect(isExportableField('terminal')).toBe(true);
    for (const name of [
      'pin',
      'pinBlock',
      'pan',
      'maskedPan',
      'key',
      'keyId',
      'password',
      'apiToken',
      'track',
      'Approval',
      'approval_code',
      'x1',
      'a'.repeat(33),
    ]) {
      expect(isExportableField(name), name).toBe(false);
    }
  });
});
