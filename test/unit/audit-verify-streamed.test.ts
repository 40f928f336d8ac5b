/**
 * verify reads a trail in 4 MiB chunks (main/core/audit/verify.ts), never the whole file: a trail several chunks
 * long verifies, and what it finds past a chunk boundary (an edit, records swapped, a torn line, a line longer than
 * a chunk) is named as before. streamTrailLines splits a file exactly as splitTrailLines splits its bytes.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES, runAuditCli } from '../../main/admin/audit/cli';
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
let store: MemoryKeyStore;
let original: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pin-station-verify-stream-'));
  file = auditFilePath(dir);
  store = new MemoryKeyStore({});
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

  it('export streams too: the text comes in pieces as it is made, the same text as a whole export, JSON exactly as JSON.stringify writes it', async () => {
    writeFileSync(file, original);
    const now = () => new Date('2026-12-01T00:00:00.000Z');
    for (const format of ['csv', 'json'] as const) {
      const pieces: string[] = [];
      const result = await writeAuditExport(file, key, { format, now }, (piece) => void pieces.push(piece));
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

  /** A stdout that asks to wait (write returns false) every few pieces and drains later, as a slow pipe does. */
  class SlowPipe extends EventEmitter {
    readonly pieces: string[] = [];
    waiting = false;
    writesWhileWaiting = 0;
    onFirstWrite: (() => void) | null = null;
    write(text: string): boolean {
      if (this.waiting) this.writesWhileWaiting++;
      this.onFirstWrite?.();
      this.onFirstWrite = null;
      this.pieces.push(text);
      if (this.pieces.length % 3 !== 0) return true;
      this.waiting = true;
      setTimeout(() => {
        this.waiting = false;
        this.emit('drain');
      }, 1);
      return false;
    }
  }

  const cliDeps = (stdout: SlowPipe, stderr: string[], now: () => Date) => ({
    stdout,
    stderr: { write: (text: string) => stderr.push(text) },
    openStore: () => store,
    now,
    env: {},
    homedir: dir,
    platform: 'linux' as const,
  });

  it('export to stdout waits for drain when the pipe is full, and the pipe gets every byte in order', async () => {
    writeFileSync(file, original);
    const now = () => new Date('2026-12-01T00:00:00.000Z');
    const stdout = new SlowPipe();
    const stderr: string[] = [];
    expect(await runAuditCli(['export', file, '--format', 'csv'], cliDeps(stdout, stderr, now))).toBe(EXIT_CODES.OK);
    expect(stderr.join('')).toBe('');
    expect(stdout.writesWhileWaiting).toBe(0);
    expect(stdout.pieces.length).toBeGreaterThan(6);
    expect(stdout.pieces.join('')).toBe(exportAuditTrail(file, key, { format: 'csv', now }).text);
  });

  it('export to stdout: a trail changed after output began says the output is incomplete and must be discarded', async () => {
    writeFileSync(file, original);
    const stdout = new SlowPipe();
    // After the first pass verified and output began, before the second pass reads that far: the last record edited.
    stdout.onFirstWrite = () => withLines((lines) => (lines[RECORDS - 1] = (lines[RECORDS - 1] as string).replace(`BACKLOG-${RECORDS}"`, 'BACKLOG-X"')));
    const stderr: string[] = [];
    try {
      const code = await runAuditCli(
        ['export', file, '--format', 'json'],
        cliDeps(stdout, stderr, () => new Date()),
      );
      expect(code).toBe(EXIT_CODES.VERIFY_FAILED);
    } finally {
      writeFileSync(file, original);
    }
    expect(stdout.pieces.length).toBeGreaterThan(0);
    expect(stderr.join('')).toMatch(/INCOMPLETE and must be discarded/);
    expect(stderr.join('')).not.toMatch(/Nothing was exported/);
  });
});
