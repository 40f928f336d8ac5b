/** The station's writer: one record per outcome, chained, on disk before append resolves. */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KeyStore } from '../keystore';
import { AUDIT_GENESIS, AuditError, macEquals, signRecord, validateAuditEntry } from './format';
import type { AuditEntry, AuditInput, AuditLine } from './format';
import { auditPendingPath, readPendingOutcome, removePendingOutcome, writePendingOutcome } from './pending';
import { wrapWrite } from './files';
import { fsyncDir, writeAll } from '../durable-file';
import { reconcileHead, writeHead } from './head';
import { keyForAppend, keyForCheck } from './keys';
import { sealAuditFile } from './seal';
import type { AuditSealResult } from './seal';
import { hasRecordsOrHead, readTail, tornTailError } from './tail';
import { existsSync } from 'node:fs';
import { readAuditRecords } from './reader';
import { exportAuditTrail } from './export';
import type { AuditExport, AuditExportFormat } from './export';
import { readAuditKey } from './keys';
import { editedError, lossAgainstMark, lossError, readMark, verifiedForMark, writeMark } from './mark';
import { scanTrail } from './scan';
import { writeCheckpoint } from './scan-files';
import type { TrailScan, TrailVisitor } from './scan';
import type { HighWaterMark } from './mark';
import type { Tail } from './tail';
import { unchangedTail, writtenState } from './append-state';
import type { LastWritten } from './append-state';

export interface AuditLogOptions {
  readonly now?: () => Date;
}

export class AuditLog {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => Date;
  /** The high-water mark as this process last knew it; undefined until checked against the trail once. */
  private mark: HighWaterMark | null | undefined;
  private readonly appendListeners: (() => void)[] = [];
  private markWrites: Promise<void> = Promise.resolve();
  /** Once the whole chain was checked in this process: where it ends, the SHA-256 state of the bytes before, its last record. */
  private checkedChain: { end: number; hash: Hash; seq: number; mac: string; written: number } | null = null;
  /** Set when a record landed after bytes the check did not cover: no checkpoint until the next start. */
  private checkedChainStale = false;
  /**
   * The trail opened for appending, kept for this writer's life (closed by seal, flush and any failed write): opening
   * and closing it per record cost more than the record's own write and fdatasync.
   */
  private appendHandle: FileHandle | null = null;
  /** The trail and head as its last record left them (./append-state.ts); null: the next append takes the full path. */
  private lastWritten: LastWritten | null = null;

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
  append(entry: AuditInput): Promise<AuditLine> {
    let valid: AuditInput;
    try {
      valid = validateAuditEntry(entry);
    } catch (error) {
      return Promise.reject(error);
    }
    // The caller goes on once the record is durable; the head anchor that follows it is still written before the
    // next task of the queue (the next record sees it), but is not waited for by the request it precedes.
    let durable!: (record: AuditLine) => void;
    const written = new Promise<AuditLine>((resolve) => (durable = resolve));
    return Promise.race([written, this.exclusive(() => this.appendNow(valid, durable))]);
  }

  /**
   * The checks append makes, without writing a record (it may bring a
   * lagging head anchor up to date). For a Start-time check that the trail can
   * take the outcome. Resolves to the last seq (0 for an empty trail).
   */
  check(visitor?: TrailVisitor): Promise<number> {
    return this.exclusive(async () => {
      const hasAnything = await hasRecordsOrHead(this.path);
      await this.refuseMissingTrail(hasAnything);
      const key = await keyForCheck(this.keyStore, hasAnything);
      if (key === null) {
        this.checkedChain = { end: 0, hash: createHash('sha256'), seq: 0, mac: AUDIT_GENESIS, written: 0 };
        return 0;
      }
      try {
        const tail = await readTail(this.path, key);
        const scan = await this.scanOnce(key, tail, visitor);
        // The mark first, also before a torn tail or an edit: it names what was lost, where the head anchor, a
        // torn line or a broken chain could only say that something is wrong (and seal must not answer a loss).
        await this.checkMark(tail, key, scan);
        if (scan?.firstBad) throw editedError(scan.firstBad);
        if (tail.tornStart !== null) throw tornTailError();
        await reconcileHead(this.path, tail.last, key).catch((error: unknown) => wrapWrite(error, 'head anchor'));
        if (scan) await this.keepScan(scan, key);
        return tail.last?.seq ?? 0;
      } finally {
        key.fill(0);
      }
    });
  }

  /** Keeps an outcome the trail could not take, durably and under a MAC, beside the trail (./pending.ts). */
  keepPending(entry: AuditEntry): Promise<void> {
    return this.exclusive(async () => {
      const key = await readAuditKey(this.keyStore);
      try {
        await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
        await writePendingOutcome(this.path, entry, key);
      } finally {
        key.fill(0);
      }
    });
  }

  /** The outcome kept by keepPending in an earlier run (or this one), or null. */
  pendingOutcome(): Promise<AuditEntry | null> {
    return this.exclusive(async () => {
      // No file, no key needed (a new station has no audit-key until its first record).
      if (!existsSync(auditPendingPath(this.path))) return null;
      const key = await readAuditKey(this.keyStore);
      try {
        return await readPendingOutcome(this.path, key);
      } finally {
        key.fill(0);
      }
    });
  }

  /** Once the kept outcome is on record. */
  clearPending(): Promise<void> {
    return this.exclusive(() => removePendingOutcome(this.path));
  }

  /** Told after each record is on disk (the shipper's cue to look at the file); must return at once. */
  addAppendListener(listener: () => void): void {
    this.appendListeners.push(listener);
  }

  /** The trail's records as written (unchecked; for the approval rules' card history at start-up). */
  records(): AuditLine[] {
    return existsSync(this.path) ? readAuditRecords(this.path) : [];
  }

  /** The verified export (./export.ts), through this log's queue so no append interleaves. */
  export(format: AuditExportFormat, stationId?: string): Promise<AuditExport> {
    return this.exclusive(async () => {
      const key = await readAuditKey(this.keyStore);
      try {
        return exportAuditTrail(this.path, key, { format, now: this.now, ...(stationId ? { stationId } : {}) });
      } finally {
        key.fill(0);
      }
    });
  }

  /** sealAuditFile() through this log's queue, so it cannot interleave with an append. */
  seal(): Promise<AuditSealResult> {
    return this.exclusive(async () => {
      await this.releaseTrail();
      const result = await sealAuditFile(this.path, this.keyStore, { now: this.now, stationTrail: true });
      if (result.record) this.mark = { seq: result.record.seq, mac: result.record.mac };
      return result;
    });
  }

  /** Runs one task at a time; file-system errors surface as AUDIT_WRITE_FAILED, never as raw errors. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const guarded = (): Promise<T> => task().catch((error: unknown) => wrapWrite(error, 'file'));
    const run = this.queue.then(guarded, guarded);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Before any key is read or made: a trail that is gone while the mark says it had records is refused here,
   * so a deleted trail never gets a fresh chain (nor, with the key gone too, a fresh key).
   */
  private async refuseMissingTrail(hasAnything: boolean): Promise<void> {
    if (hasAnything) return;
    if (this.mark === undefined) this.mark = await readMark(this.keyStore);
    const loss = lossAgainstMark(this.mark, 0, () => null);
    if (loss) throw lossError(loss);
  }

  /**
   * The trail's end against the mark: once per process from the keychain, then from memory (a trail cut or
   * swapped while the station runs is refused too). A trail from before marks existed adopts its last record.
   */
  private async checkMark(tail: Tail, key: Uint8Array, scan: TrailScan | null): Promise<void> {
    if (this.mark === undefined) this.mark = await readMark(this.keyStore);
    const last = tail.last;
    const lastSeq = last?.seq ?? 0;
    // The mark lags the trail (a crash or a keychain failure after a record), or a reset acknowledged it: only the
    // trail's verified chain may show its record (or the reset), never a line that merely claims to be it.
    let verified: { readonly first: AuditLine | null; readonly markMac: string | null } | undefined = scan ?? undefined;
    const chain = (): { readonly first: AuditLine | null; readonly markMac: string | null } =>
      (verified ??= verifiedForMark(this.path, key, this.mark?.seq ?? null));
    const macAt = (seq: number): string | null => (last && seq === last.seq ? last.mac : seq === this.mark?.seq ? chain().markMac : null);
    const loss = lossAgainstMark(this.mark, lastSeq, macAt, () => chain().first);
    if (loss) throw lossError(loss);
    // Past the check, the mark either lags the trail or was acknowledged by the trail's reset record: catch it up.
    if (last && (this.mark === null || this.mark.seq !== last.seq || !macEquals(this.mark.mac, last.mac))) this.advanceMark(last);
  }

  /**
   * The record is durable already. The keychain write (several ms over D-Bus) is queued, not awaited, so it is
   * never between an attempt record and its request; marks go out in order. One that cannot be written lags,
   * and the next record's tries again; this process keeps the mark in memory meanwhile.
   */
  private advanceMark(record: AuditLine): void {
    const mark = { seq: record.seq, mac: record.mac };
    this.mark = mark;
    this.markWrites = this.markWrites.then(() => writeMark(this.keyStore, mark)).catch(() => undefined);
  }

  /** Resolves once every queued high-water mark write has been tried (at quit, and for tests). */
  flush(): Promise<void> {
    return this.exclusive(async () => {
      await this.releaseTrail();
      await this.saveCheckpoint();
    }).then(
      () => this.markWrites,
      () => this.markWrites,
    );
  }

  /**
   * The whole chain, checked once per process before its first check or record (read once, streamed; the
   * checkpoint lets the part checked at an earlier start go at disk speed). Null once done.
   */
  private async scanOnce(key: Uint8Array, tail: Tail, visitor?: TrailVisitor): Promise<TrailScan | null> {
    if (this.checkedChain !== null) return null;
    if (this.mark === undefined) this.mark = await readMark(this.keyStore);
    const scan = await scanTrail(this.path, key, this.mark?.seq ?? null, visitor);
    // Both reads must see the same end (one writer: a difference means the file changed under the check).
    if (scan.firstBad === null && scan.lastSeq !== (tail.last?.seq ?? 0)) {
      throw new AuditError('AUDIT_CHAIN_BROKEN', 'It changed while it was being checked. Close anything else writing it and restart.');
    }
    return scan;
  }

  /** After a start-up check that passed: remember where the checked chain ends, and save the checkpoint. */
  private async keepScan(scan: TrailScan, key: Uint8Array): Promise<void> {
    this.checkedChain = { end: scan.end, hash: scan.hash, seq: scan.lastSeq, mac: scan.lastMac, written: 0 };
    await this.writeCheckpointWith(key);
  }

  /** A record this process appended extends the checked chain, if it landed right after it. */
  private extendCheckedChain(tail: Tail, record: AuditLine, line: string): void {
    const checked = this.checkedChain;
    if (checked === null) return;
    if (checked.end !== tail.size) {
      // Not contiguous (bytes the check did not cover came before it): the next start checks them itself.
      this.checkedChainStale = true;
      return;
    }
    const bytes = Buffer.from(`${line}\n`, 'utf8');
    checked.hash.update(bytes);
    checked.end += bytes.length;
    checked.seq = record.seq;
    checked.mac = record.mac;
  }

  private async saveCheckpoint(): Promise<void> {
    const checked = this.checkedChain;
    if (checked === null || this.checkedChainStale || checked.end === checked.written || checked.seq === 0) return;
    const key = await readAuditKey(this.keyStore);
    try {
      await this.writeCheckpointWith(key);
    } finally {
      key.fill(0);
    }
  }

  private async writeCheckpointWith(key: Uint8Array): Promise<void> {
    const checked = this.checkedChain;
    if (checked === null || checked.seq === 0 || this.checkedChainStale) return;
    const point = { offset: checked.end, seq: checked.seq, mac: checked.mac, sha256: checked.hash.copy().digest('hex') };
    // Only time depends on it: a checkpoint that cannot be written means a slower next start, not a refusal.
    await writeCheckpoint(this.path, point, key).then(
      () => {
        checked.written = point.offset;
      },
      () => undefined,
    );
  }

  /** Closes the held trail handle and forgets what it wrote: the next append reads and checks everything again. */
  private async releaseTrail(): Promise<void> {
    const handle = this.appendHandle;
    this.appendHandle = null;
    this.lastWritten = null;
    await handle?.close().catch(() => undefined);
  }

  private async appendNow(entry: AuditInput, durable: (record: AuditLine) => void): Promise<AuditLine> {
    const unchanged = await unchangedTail(this.path, this.appendHandle, this.lastWritten);
    if (unchanged === null) await this.releaseTrail();
    const hasAnything = unchanged !== null || (await hasRecordsOrHead(this.path));
    await this.refuseMissingTrail(hasAnything);
    const key = await keyForAppend(this.keyStore, !hasAnything);
    try {
      const tail = unchanged ?? (await readTail(this.path, key));
      const scan = await this.scanOnce(key, tail);
      await this.checkMark(tail, key, scan);
      if (scan?.firstBad) throw editedError(scan.firstBad);
      if (tail.tornStart !== null) throw tornTailError();
      // The head this writer wrote and found unchanged needs no reading back.
      if (unchanged === null) await reconcileHead(this.path, tail.last, key).catch((error: unknown) => wrapWrite(error, 'head anchor'));
      if (scan) await this.keepScan(scan, key);
      const chain = { seq: (tail.last?.seq ?? 0) + 1, time: this.now().toISOString(), prev: tail.last?.mac ?? AUDIT_GENESIS };
      const { record, line } =
        // The MAC and the line take the record's fields in their documented order (bodyOf), whatever the order here.
        signRecord<AuditLine>({ ...chain, ...entry } as Omit<AuditLine, 'mac'>, key);
      const lineBytes = Buffer.from(`${line}\n`, 'utf8');
      this.lastWritten = null;
      try {
        if (this.appendHandle === null) {
          await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
          // a+: appends as 'a' does, and lets the next append read its own last line back (unchangedTail).
          this.appendHandle = await open(this.path, 'a+', 0o600);
        }
        await writeAll(this.appendHandle, lineBytes, null);
        // fdatasync: the line and the file's new size are on disk (its times need not be) before the caller goes on.
        await this.appendHandle.datasync();
        if (!tail.exists) {
          // A new file: make its directory entry (and a just-created audit folder's) durable too.
          await fsyncDir(dirname(this.path));
          await fsyncDir(dirname(dirname(this.path)));
        }
      } catch (error) {
        // A write that failed may have left part of a line: the next append must read the tail again.
        await this.releaseTrail();
        wrapWrite(error, 'record');
      }
      this.extendCheckedChain(tail, record, line);
      this.advanceMark(record);
      for (const listener of this.appendListeners) {
        try {
          listener();
        } catch {
          // A listener's fault (the shipper) never fails a record that is already on disk.
        }
      }
      durable(record);
      // The record is durable. If the head update fails, the head lags by one
      // record — the same state as a crash at this point, which verify accepts
      // and the next append repairs (or refuses loudly, before writing).
      const headWritten = await writeHead(this.path, record.seq, record.mac, key).then(
        () => true,
        () => false,
      );
      await this.noteWritten(record, lineBytes, tail.size + lineBytes.length, headWritten);
      return record;
    } finally {
      key.fill(0);
    }
  }

  /** Remembers the trail and head as this record left them, for the next append's shortcut (./append-state.ts). */
  private async noteWritten(record: AuditLine, lineBytes: Buffer, end: number, headWritten: boolean): Promise<void> {
    const handle = this.appendHandle;
    if (!headWritten || handle === null) return;
    this.lastWritten = await writtenState(this.path, handle, record, lineBytes, end);
  }
}
