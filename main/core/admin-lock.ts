/**
 * The audit trail's admin lock: an admin command that writes the station's trail (a key-load record) holds it
 * for its whole run, as `<trail>.admin-lock`, made with O_EXCL and naming "<host> <pid> <command>". The station
 * refuses to start while a live process holds it. The station's own flag is Electron's single-instance lock,
 * which the command checks after taking this one: each side sets its flag and then looks at the other's, so of
 * two that start at once at least one sees the other, and the trail keeps one writer at a time.
 *
 * A lock whose process is gone (a crash, a kill) is removed by the next look at it, on the same computer; one
 * from another computer (a shared folder) is never taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

export function adminLockPath(trail: string): string {
  return `${trail}.admin-lock`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Who holds the trail's admin lock, for a message ("npm run keys ... (process 123 on host)"), or null when nobody
 * alive does. A lock left by a process of this computer that is gone is removed here.
 */
export function adminLockHolder(trail: string): string | null {
  const path = adminLockPath(trail);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return `the lock file ${path}, which cannot be read`;
  }
  const match = /^(\S+) (\d+) (.+)$/.exec(text.trim());
  if (!match) return `the lock file ${path} (remove it if no admin command is running)`;
  const [, host, pid, command] = match as unknown as [string, string, string, string];
  if (host === hostname() && !alive(Number(pid))) {
    rmSync(path, { force: true });
    return null;
  }
  return `${command} (process ${pid} on ${host})`;
}

export interface AdminLock {
  /** Gives the lock up (only if it is still this process's). */
  release(): void;
}

/** Takes the trail's admin lock for `command`; when someone alive holds it, says who. */
export function takeAdminLock(trail: string, command: string): AdminLock | { readonly heldBy: string } {
  const path = adminLockPath(trail);
  const mine = `${hostname()} ${process.pid} ${command.replace(/\s+/g, ' ')}\n`;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = adminLockHolder(trail);
      // Once: a stale lock was just removed. Twice means someone else took it meanwhile.
      if (holder === null && attempt === 0) continue;
      return { heldBy: holder ?? `another admin command (${path})` };
    }
    try {
      writeSync(fd, mine);
    } finally {
      closeSync(fd);
    }
    return {
      release() {
        try {
          if (readFileSync(path, 'utf8') === mine) rmSync(path, { force: true });
        } catch {
          // Already gone.
        }
      },
    };
  }
}
