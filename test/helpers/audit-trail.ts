/** A trail in a fresh temporary folder with its key in an in-memory keychain, for tests of the trail's reading and checking. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, auditFilePath } from '../../main/core/audit';
import { MemoryKeyStore } from '../../main/core/keystore';

export const TRAIL_KEY_HEX = '5B2E8C1D4F7A0936E5D2C8B1A4F7E0D3C6B9A2F5E8D1C4B7A0F3E6D9C2B5A819';
export const TRAIL_KEY = Buffer.from(TRAIL_KEY_HEX, 'hex');

export interface TempTrail {
  /** The folder; the caller removes it. */
  readonly dir: string;
  /** The trail file in it (not yet written). */
  readonly file: string;
  /** Holds `audit-key` (TRAIL_KEY). */
  readonly store: MemoryKeyStore;
}

/** A new folder named from `prefix`, the trail's path in it and a keychain holding its key. */
export function tempTrail(prefix: string): TempTrail {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, file: auditFilePath(dir), store: new MemoryKeyStore({ 'audit-key': TRAIL_KEY_HEX }) };
}

/**
 * An AuditLog that remembers itself, so a test file can flush every log it made before removing their folder: an
 * append resolves before its head anchor lands, and a clean-up that does not wait races that write.
 */
export class TrackedAuditLog extends AuditLog {
  private static readonly made: AuditLog[] = [];
  constructor(...args: ConstructorParameters<typeof AuditLog>) {
    super(...args);
    TrackedAuditLog.made.push(this);
  }

  /** Flushes (and forgets) every log made since the last call; a log whose flush fails is left as it is. */
  static async flushAll(): Promise<void> {
    await Promise.all(TrackedAuditLog.made.splice(0).map((log) => log.flush().catch(() => undefined)));
  }
}
