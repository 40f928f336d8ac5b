/** Reading records for tools and tests, with the same line reader as verify. */
import { readFileSync } from 'node:fs';
import { splitTrailLines } from './format';
import type { AuditLine } from './format';

/** Parses a trail file's complete lines without checking them (for tests and tools). Unreadable lines are skipped. */
export function readAuditRecords(path: string): AuditLine[] {
  const out: AuditLine[] = [];
  const data = readFileSync(path);
  for (const line of splitTrailLines(data)) {
    try {
      const value = JSON.parse(data.subarray(line.start, line.end).toString('utf8')) as AuditLine;
      if (typeof value === 'object' && value !== null) out.push(value);
    } catch {
      // torn or edited: verifyAuditFile reports it
    }
  }
  return out;
}
