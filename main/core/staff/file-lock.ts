/** The accounts file's lock between processes: the station and the admin CLI (npm run staff). */
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname } from 'node:path';
import { StationError } from '../../../common/errors';
import { isErrno } from '../durable-file';

/**
 * `<file>.lock`, made with O_EXCL, around every read-to-write, so the station and the admin CLI never
 * overwrite each other's change. A lock older than 30 s was left by a process that died and is taken over.
 */
export async function withFileLock<T>(path: string, task: () => Promise<T>): Promise<T> {
  const lockPath = `${path}.lock`;
  const deadline = Date.now() + 5_000;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 }).catch(() => undefined);
  for (;;) {
    try {
      await (await open(lockPath, 'wx', 0o600)).close();
      break;
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw new StationError('STAFF_STORE_INVALID', 'Its lock file could not be made: check the data directory.');
      const held = await stat(lockPath).catch(() => null);
      if (held && Date.now() - held.mtimeMs > 30_000) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new StationError('STAFF_STORE_BUSY');
      await sleep(20);
    }
  }
  try {
    return await task();
  } finally {
    await rm(lockPath, { force: true }).catch(() => undefined);
  }
}
