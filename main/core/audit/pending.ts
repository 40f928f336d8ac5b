/**
 * An outcome the trail could not take (a full disk, a failing write): kept durably beside the trail,
 * `<file>.pending`, under a MAC with `audit-key`, so a restart (or a crash) does not turn a processor-confirmed
 * answer into "outcome unknown". Written before the operator is told; removed once the record is on disk;
 * retried every few seconds, at quit and at the next start. A file that fails its MAC is refused, never used.
 */
import { readFile, unlink } from 'node:fs/promises';
import { z } from 'zod';
import { AuditError, hmacHex, macEquals, validateAuditEntry } from './format';
import type { AuditEntry } from './format';
import { isErrno, replaceFileDurably } from '../durable-file';

export const AUDIT_PENDING_DOMAIN = 'pin-station-audit-pending-v1\n';

export function auditPendingPath(path: string): string {
  return `${path}.pending`;
}

const fileSchema = z.strictObject({ entry: z.record(z.string(), z.unknown()), mac: z.string().regex(/^[0-9a-f]{64}$/) });

export async function writePendingOutcome(path: string, entry: AuditEntry, key: Uint8Array): Promise<void> {
  const body = JSON.stringify(entry);
  const text = `{"entry":${body},"mac":"${hmacHex(key, AUDIT_PENDING_DOMAIN, body)}"}\n`;
  await replaceFileDurably(auditPendingPath(path), text);
}

/** The kept outcome, or null when there is none. Throws AUDIT_CHAIN_BROKEN for a file that fails its MAC or form. */
export async function readPendingOutcome(path: string, key: Uint8Array): Promise<AuditEntry | null> {
  let text: string;
  try {
    text = await readFile(auditPendingPath(path), 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
  const refused = new AuditError(
    'AUDIT_CHAIN_BROKEN',
    `The outcome kept beside the trail for recording (${auditPendingPath(path).split(/[\\/]/).pop() ?? ''}) fails its check: it was edited or forged. Move it aside for investigation, then restart.`,
  );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw refused;
  }
  const parsed = fileSchema.safeParse(value);
  if (!parsed.success) throw refused;
  const body = JSON.stringify(parsed.data.entry);
  if (!macEquals(hmacHex(key, AUDIT_PENDING_DOMAIN, body), parsed.data.mac)) throw refused;
  const entry = (() => {
    try {
      return validateAuditEntry(parsed.data.entry);
    } catch {
      throw refused;
    }
  })();
  if (entry.type !== undefined) throw refused;
  return entry;
}

export async function removePendingOutcome(path: string): Promise<void> {
  await unlink(auditPendingPath(path)).catch((error: unknown) => {
    if (!isErrno(error, 'ENOENT')) throw error;
  });
}
