/**
 * Crash consistency of the audit trail (main/core/audit) and its write-ahead
 * rule: a writer process (test/fixtures/audit-writer.ts) writes what the
 * station writes per card — an attempt record, a pause for the request, the
 * outcome record naming the attempt — and is killed with SIGKILL at a random
 * moment, at least 50 times, always on the same file. After every kill, as at
 * the station's start-up: a torn tail is sealed, every attempt left without an
 * outcome is closed by the station's own closeOpenAttempts (an
 * outcome-unknown record, STATION_STOPPED), and then every attempt has exactly
 * one outcome, the trail verifies, and the high-water mark (kept by the writer
 * in a file standing in for the keychain) never leads the trail. At the end,
 * every record whose append had resolved — the writer prints its seq only
 * then — must be in the file.
 *
 * SIGKILL cannot tear a single write() to a regular file (the kernel finishes
 * it), so a torn tail from power loss or a full disk is also simulated every
 * few rounds by appending a partial record; it must be reported, sealed and
 * the chain continued by the next writer.
 *
 * Random delays come from a seeded generator; the seed is printed and can be
 * fixed with AUDIT_CRASH_SEED=<n> to replay a run.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AuditLog,
  auditFilePath,
  auditHeadPath,
  closeOpenAttempts,
  openAttempts,
  readAuditRecords,
  readMark,
  sealAuditFile,
  verifyAuditFile,
} from '../../main/core/audit';
import type { AuditVerifyResult } from '../../main/core/audit';
import { JsonFileKeyStore } from '../fixtures/json-file-key-store';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const WRITER = join(ROOT, 'test', 'fixtures', 'audit-writer.ts');
const KEY_HEX = '3C1D5E7F9A0B2C4D6E8F0A1B3C5D7E9F1A2B3C4D5E6F708192A3B4C5D6E7F809';
const KEY = Buffer.from(KEY_HEX, 'hex');
const KILLS = 55;
const TORN_EVERY = 7;

const seed = Number(process.env.AUDIT_CRASH_SEED ?? Date.now() % 2 ** 31);
/** mulberry32: small, seedable, good enough to spread kill times. */
function rng(start: number): () => number {
  let state = start >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const dir = mkdtempSync(join(tmpdir(), 'pin-station-audit-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface RoundResult {
  readonly appended: { seq: number; cardId: string }[];
  readonly errors: string[];
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly stderr: string;
  readonly killedAfterReady: boolean;
  readonly startupMs: number;
}

/** Starts a writer, kills it `delayMs` after it reports ready, and collects what it printed. */
function runWriter(file: string, keysFile: string, round: number, delayMs: number): Promise<RoundResult> {
  return new Promise((resolveRound, rejectRound) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER], {
      cwd: ROOT,
      env: { ...process.env, AUDIT_WRITER_FILE: file, AUDIT_WRITER_KEYS: keysFile, AUDIT_WRITER_ROUND: String(round) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const appended: { seq: number; cardId: string }[] = [];
    const errors: string[] = [];
    let stdout = '';
    let stderr = '';
    let killedAfterReady = false;
    const spawnedAt = Date.now();
    let startupMs = 0;
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000); // never ready: fail below
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      let nl: number;
      while ((nl = stdout.indexOf('\n')) !== -1) {
        const line = stdout.slice(0, nl);
        stdout = stdout.slice(nl + 1);
        const match = /^appended (\d+) (\S+)$/.exec(line);
        if (match) appended.push({ seq: Number(match[1]), cardId: match[2] as string });
        else if (line === 'ready') {
          killedAfterReady = true;
          startupMs = Date.now() - spawnedAt;
          setTimeout(() => child.kill('SIGKILL'), delayMs);
        } else errors.push(line);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', rejectRound);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolveRound({ appended, errors, signal, code, stderr, killedAfterReady, startupMs });
    });
  });
}

function lastCompleteSeq(file: string): number {
  const records = readAuditRecords(file);
  return records[records.length - 1]?.seq ?? 0;
}

function headSeq(file: string): number | null {
  if (!existsSync(auditHeadPath(file))) return null;
  return (JSON.parse(readFileSync(auditHeadPath(file), 'utf8')) as { seq: number }).seq;
}

function describeResult(result: AuditVerifyResult): string {
  return result.ok ? `ok (${result.records})` : `record ${result.firstBad.seq} (line ${result.firstBad.line}): ${result.firstBad.reason}`;
}

describe('audit trail under SIGKILL', () => {
  it(`keeps every completed record and verifies after ${KILLS} kills at random points (seed ${seed})`, async () => {
    const file = auditFilePath(dir);
    const keysFile = join(dir, 'keychain.json');
    const store = new JsonFileKeyStore(keysFile);
    await store.set('audit-key', KEY_HEX);
    const random = rng(seed);
    const printed = new Map<number, string>();
    const stats = {
      startupMs: 0,
      kills: 0,
      appended: 0,
      roundsWithAppends: 0,
      headLagging: 0,
      markLagging: 0,
      naturalTorn: 0,
      simulatedTorn: 0,
      seals: 0,
      attemptsClosed: 0,
    };
    const started = Date.now();

    for (let round = 1; round <= KILLS; round++) {
      const delay = 20 + Math.floor(random() * 281); // 20..300 ms after the writer is ready
      const result = await runWriter(file, keysFile, round, delay);
      const context = `seed ${seed}, round ${round}, delay ${delay} ms`;
      expect(result.killedAfterReady, `${context}: writer never became ready: ${result.stderr}`).toBe(true);
      expect(result.errors, `${context}: writer reported ${result.errors.join('; ')} ${result.stderr}`).toEqual([]);
      expect(result.signal, `${context}: writer exited by itself (code ${result.code}): ${result.stderr}`).toBe('SIGKILL');
      stats.kills++;
      stats.startupMs += result.startupMs;
      stats.appended += result.appended.length;
      if (result.appended.length > 0) stats.roundsWithAppends++;
      for (const { seq, cardId } of result.appended) {
        expect(printed.has(seq), `${context}: seq ${seq} printed twice`).toBe(false);
        printed.set(seq, cardId);
      }

      // Killed before its first write created the file (a slow start under load): nothing to check yet.
      if (!existsSync(file)) {
        expect(result.appended, `${context}: appends printed but no trail`).toEqual([]);
        continue;
      }
      let verdict = verifyAuditFile(file, KEY);
      if (!verdict.ok && verdict.tornTail && verdict.sealable) {
        stats.naturalTorn++;
        await sealAuditFile(file, store, { stationTrail: true });
        stats.seals++;
        verdict = verifyAuditFile(file, KEY);
      }
      expect(verdict.ok, `${context}: ${describeResult(verdict)}`).toBe(true);

      // The mark may lag the trail (killed between a record and its mark), never lead it.
      const mark = await readMark(store);
      const lastBefore = lastCompleteSeq(file);
      expect(mark === null || mark.seq <= lastBefore, `${context}: mark ${mark?.seq} leads the trail (${lastBefore})`).toBe(true);
      if (mark && mark.seq < lastBefore) stats.markLagging++;
      // Start-up, as the station does it: the trail is checked against the mark, then open attempts are closed.
      const startup = new AuditLog(file, store);
      await startup.check();
      const closed = await closeOpenAttempts(startup, readAuditRecords(file));
      // As the station at quit: its head anchor has landed before the next writer starts (one writer at a time).
      await startup.flush();
      stats.attemptsClosed += closed.length;
      expect(closed.length, `${context}: more than one attempt was open`).toBeLessThanOrEqual(1);
      const records = readAuditRecords(file);
      expect(openAttempts(records), `${context}: attempts without an outcome`).toEqual([]);
      const outcomes = new Map<string, number>();
      for (const record of records)
        if (record.type === undefined && record.attemptId) outcomes.set(record.attemptId, (outcomes.get(record.attemptId) ?? 0) + 1);
      expect(
        [...outcomes.values()].every((count) => count === 1),
        `${context}: an attempt has two outcomes`,
      ).toBe(true);
      for (const { written } of closed) printed.set((written as { seq: number }).seq, (written as { cardId: string }).cardId);
      verdict = verifyAuditFile(file, KEY);
      expect(verdict.ok, `${context} after closing attempts: ${describeResult(verdict)}`).toBe(true);
      const last = lastCompleteSeq(file);
      const head = headSeq(file);
      if (head !== last) stats.headLagging++;
      expect(head === null ? last <= 1 : head === last || head === last - 1, `${context}: head ${head}, last ${last}`).toBe(true);

      if (round % TORN_EVERY === 0) {
        // Power loss or a full disk mid-write: a prefix of a record, no newline.
        const lines = readFileSync(file, 'utf8').split('\n');
        const model = (lines[lines.length - 2] ?? '{"seq":1,"time":"2025-01-01T00:00:00.000Z"}').replace(/"seq":\d+/, `"seq":${last + 1}`);
        appendFileSync(file, model.slice(0, 1 + Math.floor(random() * (model.length - 1))));
        stats.simulatedTorn++;
        const torn = verifyAuditFile(file, KEY);
        expect(torn.ok === false && torn.tornTail && torn.sealable, `${context}: simulated torn tail: ${describeResult(torn)}`).toBe(true);
        const sealed = await sealAuditFile(file, store, { stationTrail: true });
        stats.seals++;
        expect(sealed.sealed).toBe(true);
        expect(sealed.tornFile !== null && existsSync(sealed.tornFile)).toBe(true);
        expect(verifyAuditFile(file, KEY), context).toEqual({ ok: true, records: last + 1 });
      }
    }

    // Every record whose append resolved is in the file, unchanged.
    const records = new Map(readAuditRecords(file).map((record) => [record.seq, record]));
    for (const [seq, cardId] of printed) {
      const record = records.get(seq);
      expect(record, `seed ${seed}: completed record ${seq} is missing`).toBeDefined();
      expect(record && 'cardId' in record ? record.cardId : null, `seed ${seed}: record ${seq}`).toBe(cardId);
    }
    const final = verifyAuditFile(file, KEY);
    expect(final.ok, describeResult(final)).toBe(true);

    expect(stats.kills).toBeGreaterThanOrEqual(50);
    expect(stats.appended).toBeGreaterThan(0);
    expect(stats.roundsWithAppends).toBeGreaterThan(KILLS / 2);
    // The kills must land between an attempt and its outcome often enough for the test to mean something.
    expect(stats.attemptsClosed).toBeGreaterThan(KILLS / 10);
    console.info(
      `audit crash test (seed ${seed}): ${stats.kills} kills, ${stats.appended} completed appends, ${final.ok ? final.records : '?'} records in the file, ` +
        `head lagging after ${stats.headLagging} kills, mark lagging after ${stats.markLagging}, ${stats.attemptsClosed} attempts closed as stopped, torn tails ${stats.naturalTorn} from kills + ${stats.simulatedTorn} simulated, ${stats.seals} seals, ` +
        `writer start-up ${Math.round(stats.startupMs / stats.kills)} ms on average, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 300_000); // 55 writer processes, each a few seconds to start on a loaded machine
});
