/** Where the trail lives on disk, and how a failed write of it is reported. */
import { join } from 'node:path';
import { StationError } from '../../../common/errors';
import { AuditError } from './format';

/** Where the station keeps its trail: `<dataDir>/audit/audit.jsonl`. */
export function auditFilePath(dataDir: string): string {
  return join(dataDir, 'audit', 'audit.jsonl');
}

/** The head anchor next to a trail file. */
export function auditHeadPath(path: string): string {
  return `${path}.head`;
}

/** How far the shipper got (main/core/audit/ship.ts), next to the trail; a reset drops it with the old trail. */
export function auditShippedPath(path: string): string {
  return `${path}.shipped`;
}

export function wrapWrite(error: unknown, what: string): never {
  if (error instanceof AuditError || error instanceof StationError) throw error;
  throw new AuditError('AUDIT_WRITE_FAILED', `(${what}) Check the disk and the data directory's permissions.`);
}
