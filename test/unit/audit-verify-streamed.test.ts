/**
 * verify reads a trail in 4 MiB chunks (main/core/audit/verify.ts), never the whole file: a trail several chunks
 * long verifies, and what it finds past a chunk boundary (an edit, records swapped, a torn line, a line longer than
 * a chunk) is named as before. streamTrailLines splits a file exactly as splitTrailLines splits its bytes.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditFilePath, exportAuditTrail, readAuditKey, verifyAuditFile, writeAuditExport } from '../../main/core/audit';
import { splitTrailLines } from '../../main/core/audit/format';
import { streamTrailLines } from '../../main/core/audit/verify';
import { MemoryKeyStore } from '../../main/core/keystore';
import { writeBacklog } from '../../scripts/bench/shipping';

// ~377 bytes a record: 25,000 records span three 4 MiB chunks.
const RECORDS = 25_000;
let dir: string;
let file: string;
let key: Buffer;
let original: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pin-station-verify-stream-'));
  file = auditFilePath(dir);
  const store = new MemoryKeyStore({});
  await writeBacklog(file, store, RECORDS);
  key = await readAuditKey(store);
  original = readFileSync(file);
  expect(original.length).toBeGreaterThan(2 * 4 * 1024 * 1024);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function withLines(edit: (lines: string[]) => void): void {
  const lines = original.toString('utf8').split('\n');
  edit(lines);
  writeFileSync(file, lines.join('\n'));
}

// A few full reads of a 9 MB trail each: generous for a busy machine.
describe('verify, streamed', { timeout: 60_000 }, () => {
  it('a trail three chunks long verifies, every record told in order', () => {
    writeFileSync(file, original);
    const seen: number[] = [];
    expect(verifyAuditFile(file, key, (record) => seen.push(record.seq))).toEqual({ ok: true, records: RECORDS });
    expect(seen).toHaveLength(RECORDS);
    expect(seen.every((seq, i) => seq === i + 1)).toBe(true);
  });

  it('an edit past the first chunk is named', () => {
    withLines((lines) => (lines[19_999] = (lines[19_999] as string).replace('"BACKLOG-20000"', '"BACKLOG-2000X"')));
    const result = verifyAuditFile(file, key);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.records).toBe(19_999);
    expect(result.firstBad).toMatchObject({ line: 20_000, seq: 20_000 });
    expect(result.firstBad.reason).toContain('mac does not match');
  });

  it('records swapped across a chunk boundary: the missing one is found further on, by its line', () => {
    withLines((lines) => ([lines[10_999], lines[23_999]] = [lines[23_999] as string, lines[10_999] as string]));
    const result = verifyAuditFile(file, key);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.firstBad).toEqual({
      line: 11_000,
      seq: 24_000,
      reason: 'is out of order: record 11000 belongs here and is at line 24000 — records were reordered',
    });
  });

  it('a torn final line after three chunks is sealable; an edit before it is reported with the torn tail noted', () => {
    writeFileSync(file, Buffer.concat([original, Buffer.from('{"seq":25001,"ti')]));
    const torn = verifyAuditFile(file, key);
    expect(torn).toMatchObject({ ok: false, records: RECORDS, sealable: true, tornTail: true, firstBad: { line: RECORDS + 1, seq: null } });
    withLines((lines) => {
      lines[4] = (lines[4] as string).replace('"BACKLOG-5"', '"BACKLOG-6"');
      lines[lines.length - 1] = '{"seq":25001,"ti';
    });
    expect(verifyAuditFile(file, key)).toMatchObject({ ok: false, records: 4, sealable: false, tornTail: true, firstBad: { line: 5, seq: 5 } });
  });

  it('splits a file exactly as splitTrailLines, a line longer than a chunk and a last line without its newline included', () => {
    const data = Buffer.concat([original.subarray(0, 5000), Buffer.alloc(9 * 1024 * 1024, 0x61), Buffer.from('\n\nlast')]);
    writeFileSync(file, data);
    const fd = openSync(file, 'r');
    try {
      const streamed = [...streamTrailLines(fd, statSync(file).size)].map((line) => ({
        start: line.start,
        end: line.start + line.bytes.length,
        terminated: line.terminated,
        last: line.last,
      }));
      const split = splitTrailLines(data);
      expect(streamed.map(({ start, end, terminated }) => ({ start, end, terminated }))).toEqual(split);
      expect(streamed.filter((line) => line.last)).toEqual([streamed[streamed.length - 1]]);
    } finally {
      closeSync(fd);
    }
  });

  it('export streams too: the text comes in pieces as it is made, the same text as a whole export, JSON exactly as JSON.stringify writes it', () => {
    writeFileSync(file, original);
    const now = () => new Date('2026-12-01T00:00:00.000Z');
    for (const format of ['csv', 'json'] as const) {
      const pieces: string[] = [];
      const result = writeAuditExport(file, key, { format, now }, (piece) => void pieces.push(piece));
      expect(result).toEqual({ records: RECORDS, verifiedRecords: RECORDS });
      expect(pieces.length).toBeGreaterThan(2);
      const whole = exportAuditTrail(file, key, { format, now });
      expect(pieces.join('')).toBe(whole.text);
      if (format === 'json') {
        expect(whole.text).toBe(`${JSON.stringify(JSON.parse(whole.text), null, 2)}\n`);
        const none = exportAuditTrail(file, key, { format, now, filter: { cardId: 'NO-SUCH-CARD' } }).text;
        expect(none).toBe(`${JSON.stringify(JSON.parse(none), null, 2)}\n`);
        expect((JSON.parse(none) as { records: unknown[] }).records).toEqual([]);
      }
    }
  });
});
