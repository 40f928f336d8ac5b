/**
 * The append shortcut's state: the trail and its head anchor as the writer's last record left them, and the check
 * that lets the next append take its tail from memory instead of reading the tail and the head back.
 */
import { stat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { auditHeadPath } from './files';
import type { AuditLine } from './format';
import type { Tail } from './tail';

/** Which file a path named, and its state: a rename, truncation or append changes one; an edit whose times were restored may not. */
interface FileState {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly ctimeNs: bigint;
  readonly mtimeNs: bigint;
}

/**
 * The trail and its head anchor as this writer left them after its last record, and that record's line bytes.
 * While a stat of both shows the same device, inode, size, ctime and mtime, and the trail's last line read back
 * through the held handle is byte for byte the line written, the next append skips re-reading the tail and the
 * head; anything else takes the full path, which reads and checks both. A same-size edit of an earlier record with
 * its times restored (or within one timestamp tick) is caught by verify and the next start, not here.
 */
export interface LastWritten {
  readonly trail: FileState;
  readonly head: FileState;
  readonly last: AuditLine;
  readonly lineBytes: Buffer;
}

function fileStateOf(stats: BigIntStats): FileState {
  return { dev: stats.dev, ino: stats.ino, size: stats.size, ctimeNs: stats.ctimeNs, mtimeNs: stats.mtimeNs };
}

function sameFileState(a: FileState, b: FileState): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.ctimeNs === b.ctimeNs && a.mtimeNs === b.mtimeNs;
}

/** The path's state now, or null when it is gone (or cannot be looked at: the caller then takes the full path). */
async function fileStateAt(path: string): Promise<FileState | null> {
  try {
    return fileStateOf(await stat(path, { bigint: true }));
  } catch {
    return null;
  }
}

/** Whether the file behind handle, size bytes long, ends with exactly these bytes (one positional read). */
async function lastLineIs(handle: FileHandle, size: number, expected: Buffer): Promise<boolean> {
  if (size < expected.length) return false;
  const found = Buffer.alloc(expected.length);
  try {
    let filled = 0;
    while (filled < found.length) {
      const { bytesRead } = await handle.read(found, filled, found.length - filled, size - expected.length + filled);
      if (bytesRead === 0) return false;
      filled += bytesRead;
    }
  } catch {
    return false;
  }
  return found.equals(expected);
}

/**
 * The tail as this writer left it, when the trail and its head anchor still stat as its last append left them
 * and the trail's last line reads back as written; null otherwise.
 */
export async function unchangedTail(path: string, handle: FileHandle | null, known: LastWritten | null): Promise<Tail | null> {
  if (known === null || handle === null) return null;
  const [trail, head] = await Promise.all([fileStateAt(path), fileStateAt(auditHeadPath(path))]);
  if (trail === null || head === null || !sameFileState(trail, known.trail) || !sameFileState(head, known.head)) return null;
  // Times can be restored (Windows ChangeTime) or too coarse to see an edit: the last line's bytes cannot.
  if (!(await lastLineIs(handle, Number(trail.size), known.lineBytes))) return null;
  return { exists: true, size: Number(trail.size), last: known.last, tornStart: null };
}

/**
 * The trail and head as this record left them (fstat of the held handle: the file it wrote), if the trail ends
 * where this record does: a change since the write is never taken as this writer's own. Null when not known, so
 * the next append reads and checks the tail and head itself.
 */
export async function writtenState(path: string, handle: FileHandle, record: AuditLine, lineBytes: Buffer, end: number): Promise<LastWritten | null> {
  try {
    const [trail, head] = await Promise.all([handle.stat({ bigint: true }), stat(auditHeadPath(path), { bigint: true })]);
    if (trail.size !== BigInt(end)) return null;
    return { trail: fileStateOf(trail), head: fileStateOf(head), last: record, lineBytes };
  } catch {
    return null;
  }
}
