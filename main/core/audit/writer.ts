/** The station's writer: one record per outcome, chained, on disk before append resolves. */
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KeyStore } from '../keystore';
import { AUDIT_GENESIS, signRecord, validateAuditEntry } from './format';
import type { AuditInput, AuditLine } from './format';
import { fsyncDir, wrapWrite, writeAll } from './files';
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
  append(entry: AuditInput): Promise<AuditLine> {
    let valid: AuditInput;
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
    return this.exclusive(() => sealAuditFile(this.path, this.keyStore, { now: this.now }));
  }

  /** Runs one task at a time; file-system errors surface as AUDIT_WRITE_FAILED, never as raw errors. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const guarded = (): Promise<T> => task().catch((error: unknown) => wrapWrite(error, 'file'));
    const run = this.queue.then(guarded, guarded);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async appendNow(entry: AuditInput): Promise<AuditLine> {
    const hasAnything = await hasRecordsOrHead(this.path);
    const key = await keyForAppend(this.keyStore, !hasAnything);
    try {
      const tail = await readTail(this.path, key);
      if (tail.tornStart !== null) throw tornTailError();
      await reconcileHead(this.path, tail.last, key).catch((error: unknown) => wrapWrite(error, 'head anchor'));
      const chain = { seq: (tail.last?.seq ?? 0) + 1, time: this.now().toISOString(), prev: tail.last?.mac ?? AUDIT_GENESIS };
      const { record, line } =
        // The MAC and the line take the record's fields in their documented order (bodyOf), whatever the order here.
        signRecord<AuditLine>({ ...chain, ...entry } as Omit<AuditLine, 'mac'>, key);
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
