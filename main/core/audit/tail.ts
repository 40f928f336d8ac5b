/**
 * The end of the trail, read without reading the whole file: the last
 * complete record (checked) and where a torn final line starts, if any.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { AuditError, checkLine, isTornFinalLine, TAIL_WINDOW } from './format';
import type { AuditLine } from './format';
import { auditHeadPath } from './files';
import { isErrno } from '../durable-file';

export interface Tail {
  readonly exists: boolean;
  readonly size: number;
  /** The last complete record, as checked by checkLine. */
  readonly last: AuditLine | null;
  /** Byte offset where a torn final line starts (it runs to the end of the file). */
  readonly tornStart: number | null;
}

/** Finds the last line ending at `end` (exclusive, just past its '\n'), or 'more' if the window starts mid-line. */
function lineBefore(buf: Buffer, end: number, windowIsWholeFile: boolean): { start: number } | 'none' | 'more' {
  if (end === 0) return windowIsWholeFile ? 'none' : 'more';
  const cut = end >= 2 ? buf.lastIndexOf(0x0a, end - 2) : -1;
  if (cut === -1 && !windowIsWholeFile) return 'more';
  return { start: cut + 1 };
}

function analyseTail(buf: Buffer, base: number, windowIsWholeFile: boolean, key: Uint8Array): Tail | 'more' | { readonly broken: string } {
  const size = base + buf.length;
  let tornStart: number | null = null;
  let end = buf.length; // end of the region holding complete lines
  // A final line without its newline is torn (isTornFinalLine's first case); one that ends in one is torn if it is not JSON.
  if (buf.length > 0 && buf[buf.length - 1] !== 0x0a) {
    const cut = buf.lastIndexOf(0x0a);
    if (cut === -1 && !windowIsWholeFile) return 'more';
    end = cut + 1;
    tornStart = base + end;
  } else if (buf.length > 0) {
    const line = lineBefore(buf, end, windowIsWholeFile);
    if (line === 'more') return 'more';
    if (line !== 'none' && isTornFinalLine(buf.subarray(line.start, end - 1), true)) {
      tornStart = base + line.start;
      end = line.start;
    }
  }
  const line = lineBefore(buf, end, windowIsWholeFile);
  if (line === 'more') return 'more';
  if (line === 'none') return { exists: true, size, last: null, tornStart };
  const check = checkLine(buf.subarray(line.start, end - 1), key);
  if (!check.ok) return { broken: `its last complete record ${check.reason}` };
  return { exists: true, size, last: check.record, tornStart };
}

export async function readTail(path: string, key: Uint8Array): Promise<Tail> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { exists: false, size: 0, last: null, tornStart: null };
    throw error;
  }
  try {
    const size = (await handle.stat()).size;
    let length = Math.min(size, TAIL_WINDOW);
    for (;;) {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, size - length);
      const result = analyseTail(buf.subarray(0, bytesRead), size - length, length === size, key);
      if (result === 'more') {
        length = size; // a line longer than the window: read everything once
        continue;
      }
      if ('broken' in result) {
        throw new AuditError('AUDIT_CHAIN_BROKEN', `(${result.broken}) Run "npm run audit -- verify".`);
      }
      return result;
    }
  } finally {
    await handle.close();
  }
}

/** True when the trail file is non-empty or a head anchor exists: the key must already exist then. */
export async function hasRecordsOrHead(path: string): Promise<boolean> {
  const exists = async (file: string): Promise<boolean> => {
    try {
      const handle = await open(file, 'r');
      try {
        return (await handle.stat()).size > 0;
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
  };
  return (await exists(path)) || (await exists(auditHeadPath(path)));
}

export function tornTailError(): AuditError {
  return new AuditError('AUDIT_TORN_TAIL', 'Close the station and run "npm run audit -- seal".');
}
