/** Sealing a torn final line: its bytes kept aside, a seal record in its place, never dropped silently. */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { KeyStore } from '../keystore';
import { AUDIT_GENESIS, AuditError, signRecord } from './format';
import type { AuditSealRecord } from './format';
import { wrapWrite } from './files';
import { fsyncDir, isErrno, writeAll, writeSynced } from '../durable-file';
import { readHead, reconcileHead, writeHead } from './head';
import { readAuditKey } from './keys';
import { lossError, readMark, trailFileAgainstMark, writeMark } from './mark';
import { readTail } from './tail';

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
export interface AuditSealOptions {
  readonly now?: () => Date;
  /**
   * True for the station's own trail: the keychain's high-water mark is checked first (a torn line after lost
   * records is not an interrupted write to seal over; sealing it would hide the loss) and follows the seal
   * record. False for any other file (a copy, a kept trail): the station's mark is neither read nor written.
   */
  readonly stationTrail: boolean;
}

export async function sealAuditFile(path: string, keyStore: KeyStore, opts: AuditSealOptions): Promise<AuditSealResult> {
  return sealNow(path, keyStore, opts.now ?? (() => new Date()), opts.stationTrail).catch((error: unknown) => wrapWrite(error, 'file'));
}

async function sealNow(path: string, keyStore: KeyStore, now: () => Date, stationTrail: boolean): Promise<AuditSealResult> {
  const key = await readAuditKey(keyStore);
  try {
    const tail = await readTail(path, key);
    if (stationTrail) {
      // Judged by verified records only: a forged line cannot pass for the reset or the mark's record here either.
      const { loss } = trailFileAgainstMark(path, key, await readMark(keyStore));
      if (loss) throw lossError(loss);
    }
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
      if (bytesRead !== torn.length) throw new AuditError('AUDIT_CHAIN_BROKEN', 'It changed while it was being sealed. Close the station and try again.');
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
      // The high-water mark follows (a mark left one behind is accepted and caught up by the station).
      if (stationTrail) await writeMark(keyStore, { seq: record.seq, mac: record.mac }).catch(() => undefined);
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
    try {
      await writeSynced(file, torn, 'wx');
    } catch (error) {
      if (isErrno(error, 'EEXIST')) continue;
      return wrapWrite(error, 'torn copy');
    }
    await fsyncDir(dirname(path)).catch((error: unknown) => wrapWrite(error, 'torn copy'));
    return file;
  }
  throw new AuditError('AUDIT_WRITE_FAILED', `Too many torn copies named ${basename(path)}.torn-${stamp}*.`);
}
