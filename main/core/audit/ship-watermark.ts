/**
 * The shipper's watermark, `<trail>.shipped`: the last record known to have reached the collector, as
 * `{"seq":N,"mac":"…","offset":BYTES}`, offset being where that record's line starts. At start the record must
 * still be there (same seq and mac at that offset); if not (the trail was reset, the file is garbage), shipping
 * starts again at the first record. Saved durably, at most once a second while running; the latest mark wins.
 */
import { open, readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log';
import { auditShippedPath } from './files';
import { isErrno, replaceFileDurably } from '../durable-file';
import { errnoCode } from './ship-link';
import { parseTrailRecordFields } from './syslog';

/** A record's place in the trail. `offset` is where its line starts; `next` is just past its newline. */
export interface Mark {
  readonly seq: number;
  readonly mac: string;
  readonly offset: number;
  readonly next: number;
}

/** The mark to resume from, or why shipping starts again at the first record (`restart` null: never shipped). */
export type WatermarkLoad = { readonly mark: Mark } | { readonly mark: null; readonly restart: string | null };

const WATERMARK_EVERY_MS = 1000;
/** Records are under 2 KiB; the watermark's line is looked for in this much of the file. */
const LINE_BYTES = 64 * 1024;

/** Reads the watermark and checks that its record is still where it says. Never throws for a file problem. */
export async function loadWatermark(trailPath: string): Promise<WatermarkLoad> {
  let text: Buffer;
  try {
    text = await readFile(auditShippedPath(trailPath));
  } catch (error) {
    return { mark: null, restart: isErrno(error, 'ENOENT') ? null : 'WATERMARK_UNREADABLE' };
  }
  let saved: { seq: number; mac: string; offset: number } | null = null;
  try {
    const value = JSON.parse(text.toString('utf8')) as unknown;
    const { seq, mac, offset } = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    if (Number.isSafeInteger(seq) && (seq as number) >= 1 && typeof mac === 'string' && Number.isSafeInteger(offset) && (offset as number) >= 0) {
      saved = { seq: seq as number, mac, offset: offset as number };
    }
  } catch {
    saved = null;
  }
  if (saved === null) return { mark: null, restart: 'WATERMARK_INVALID' };
  let line: Buffer | null = null;
  try {
    const handle = await open(trailPath, 'r');
    try {
      const buf = Buffer.allocUnsafe(LINE_BYTES);
      const { bytesRead } = await handle.read(buf, 0, buf.length, saved.offset);
      const end = buf.subarray(0, bytesRead).indexOf(0x0a);
      if (end !== -1) line = buf.subarray(0, end);
    } finally {
      await handle.close();
    }
  } catch {
    line = null;
  }
  const fields = line === null ? null : parseTrailRecordFields(line);
  if (line === null || fields === null || fields.seq !== saved.seq || fields.mac !== saved.mac) return { mark: null, restart: 'WATERMARK_MISMATCH' };
  return { mark: { ...saved, next: saved.offset + line.length + 1 } };
}

/**
 * Writes the committed mark: one write at a time, at most one a second while running (the trail's own fsyncs come
 * first), the latest mark wins. After a crash, at most that second's committed records are sent again; flush()
 * writes the last one at close.
 */
export class WatermarkWriter {
  private readonly path: string;
  private latest: Mark | null = null;
  private dirty = false;
  private saving: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private writtenAt = -Infinity;
  private closing = false;

  constructor(
    trailPath: string,
    private readonly log: Logger,
  ) {
    this.path = auditShippedPath(trailPath);
  }

  save(mark: Mark): void {
    this.latest = mark;
    this.schedule();
  }

  /** Writes `mark` now and waits for every write; no timed write follows. */
  async flush(mark: Mark | null): Promise<void> {
    this.stop();
    while (this.saving) await this.saving;
    if (mark) this.save(mark);
    while (this.saving) await this.saving;
  }

  /** Stops the timed write; flush() still writes. */
  stop(): void {
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    this.dirty = true;
    if (this.saving || this.timer) return;
    const wait = this.closing ? 0 : this.writtenAt + WATERMARK_EVERY_MS - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, Math.ceil(wait));
      this.timer.unref();
      return;
    }
    this.saving = (async () => {
      while (this.dirty) {
        this.dirty = false;
        const mark = this.latest;
        if (!mark) continue;
        this.writtenAt = performance.now();
        try {
          await replaceFileDurably(this.path, `${JSON.stringify({ seq: mark.seq, mac: mark.mac, offset: mark.offset })}\n`);
        } catch (error) {
          // A lost watermark only means records are sent again; shipping goes on.
          this.log.warn('audit.ship.watermark-failed', { code: errnoCode(error) });
        }
        if (!this.closing) break; // the next one waits its turn (above)
      }
    })().finally(() => {
      this.saving = null;
      if (this.dirty) this.schedule();
    });
  }
}
