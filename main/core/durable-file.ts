/**
 * Durable writes, one way for every file the station keeps (the audit trail and the small files beside it, the
 * staff accounts file): written whole, fsynced, and a new or renamed file's folder fsynced too.
 */
import { open, rename } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export function isErrno(error: unknown, ...codes: string[]): boolean {
  return typeof error === 'object' && error !== null && codes.includes(String((error as NodeJS.ErrnoException).code));
}

export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there; NTFS journals the rename
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (error) {
    if (!isErrno(error, 'EINVAL', 'EISDIR', 'EPERM', 'ENOTSUP')) throw error;
  } finally {
    await handle.close();
  }
}

export async function writeAll(handle: FileHandle, data: Buffer, position: number | null): Promise<void> {
  // One write call in practice; the loop only finishes a short write (which leaves a torn tail if it fails).
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset, position === null ? null : position + offset);
    if (bytesWritten <= 0) throw new Error('short write');
    offset += bytesWritten;
  }
}

/**
 * The one durable write of a line or a small file: opened with `flag` (`a` to append to the trail, `wx` for a
 * file that must be new, `w` for a temporary file), written whole, fsynced, closed. The caller fsyncs the
 * folder when the file is new.
 */
export async function writeSynced(file: string, data: Buffer, flag: 'a' | 'wx' | 'w'): Promise<void> {
  const handle = await open(file, flag, 0o600);
  try {
    await writeAll(handle, data, null);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces a small file beside the trail so that a crash leaves the old one or the new one, never a mix: written
 * to a temporary file, fsynced, renamed over, and the folder fsynced so the rename itself survives.
 */
export async function replaceFileDurably(file: string, text: string): Promise<void> {
  const temp = `${file}.tmp`;
  await writeSynced(temp, Buffer.from(text, 'utf8'), 'w');
  await rename(temp, file);
  await fsyncDir(dirname(file));
}
