/** The trail an audit command works on, its key, and how a failed verification is told. */
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { auditFilePath, auditHeadPath, readAuditKey } from '../../core/audit';
import type { AuditVerifyResult } from '../../core/audit';
import type { KeyStore } from '../../core/keystore';
import { CliError, stationDataDir, stationRunning } from '../cli';
import { EXIT_CODES } from './args';
import type { AuditCliDeps, ParsedArgs } from './args';

export function trailPath(args: ParsedArgs, deps: AuditCliDeps): string {
  const file = args.positional[1];
  if (args.positional.length > 2) throw new CliError(EXIT_CODES.USAGE, 'too many arguments. See --help.');
  if (file !== undefined && args.dataDir !== undefined) throw new CliError(EXIT_CODES.USAGE, 'give either a file or --data-dir, not both.');
  if (file !== undefined) return resolve(file);
  const dataDir = stationDataDir(args.dataDir, deps);
  return auditFilePath(resolve(dataDir));
}

export function requireTrail(path: string): void {
  if (!existsSync(path) && !existsSync(auditHeadPath(path))) {
    throw new CliError(EXIT_CODES.USAGE, `no audit trail at ${path} (neither the file nor its head anchor exists). Give the file, or --data-dir.`);
  }
}

/** "record 7 (line 7): mac does not match — the record was edited" */
export function describeFailure(result: Extract<AuditVerifyResult, { ok: false }>): string {
  const { line, seq, reason } = result.firstBad;
  const where = seq === null ? `line ${line}` : `record ${seq} (line ${line})`;
  let text = `${where}: ${reason}\n`;
  if (line === 1 && reason.startsWith('mac does not match')) {
    text += 'note: if the first record fails, the key may not be the one that wrote this trail (check --service).\n';
  }
  if (result.tornTail && !result.sealable) text += 'note: the file also ends in a torn line; it cannot be sealed until the problem above is understood.\n';
  return text;
}

export async function withKey<T>(store: KeyStore, use: (key: Buffer) => T | Promise<T>): Promise<T> {
  const key = await readAuditKey(store);
  try {
    return await use(key);
  } finally {
    key.fill(0);
  }
}

/**
 * The keychain's high-water mark belongs to the station's own trail (`--data-dir`, or the default data
 * directory). A file given by path is that trail only if it is the same file; a copy or a kept trail is
 * checked on its own, and seal never moves the station's mark for it.
 */
export function isStationTrail(path: string, args: ParsedArgs, deps: AuditCliDeps): boolean {
  if (args.positional[1] === undefined) return true;
  const dataDir = stationDataDir(args.dataDir, deps);
  const station = auditFilePath(resolve(dataDir));
  const real = (file: string): string => {
    try {
      return realpathSync(file);
    } catch {
      return resolve(file);
    }
  };
  return real(path) === real(station);
}

/** seal and reset write the station's trail, which has one writer at a time. */
export function refuseWhileRunning(args: ParsedArgs, deps: AuditCliDeps, command: string): void {
  const dataDir = stationDataDir(args.dataDir, deps);
  if (stationRunning(dataDir))
    throw new CliError(EXIT_CODES.STATION_RUNNING, `the station is running on ${dataDir}: close it first, then run ${command} again. Nothing was changed.`);
}
