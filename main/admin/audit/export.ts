/** `npm run audit -- export [file] --format csv|json`: verify, then write the records (filtered) for auditors. */
import { once } from 'node:events';
import type { EventEmitter } from 'node:events';
import { closeSync, existsSync, fchmodSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { AUDIT_EXPORT_FORMATS, AuditError, AuditExportRefusedError, parseAuditExportDate, writeAuditExport } from '../../core/audit';
import type { AuditExportFilter, AuditExportFormat } from '../../core/audit';
import { CliError, openStoreChecked } from '../cli';
import { EXIT_CODES, rejectOptions } from './args';
import type { AuditCliDeps, ParsedArgs } from './args';
import { describeFailure, requireTrail, trailPath, withKey } from './trail';

/** --from/--to as a filter bound; a bad date is a usage error that does not repeat it. */
function exportDate(text: string | undefined, bound: 'from' | 'to'): Date | undefined {
  if (text === undefined) return undefined;
  const date = parseAuditExportDate(text, bound);
  if (date === null) {
    throw new CliError(
      EXIT_CODES.USAGE,
      `--${bound} is not a date: give YYYY-MM-DD (a whole UTC day) or an ISO 8601 time with a zone, e.g. 2025-01-31T09:30:00Z.`,
    );
  }
  return date;
}

function exportFilter(args: ParsedArgs): AuditExportFilter {
  const from = exportDate(args.from, 'from');
  const to = exportDate(args.to, 'to');
  if (from && to && from.getTime() >= to.getTime()) throw new CliError(EXIT_CODES.USAGE, '--from must be before --to.');
  const filter: AuditExportFilter = {};
  if (from) filter.from = from;
  if (to) filter.to = to;
  if (args.operator !== undefined) filter.operator = args.operator;
  if (args.card !== undefined) filter.cardId = args.card;
  return filter;
}

/**
 * Creates `path` (never an existing file) with mode 0600 and hands `fill` a writer for it; the file is made durable
 * after, and a partial file is removed.
 */
async function writeNewFile<T>(path: string, fill: (write: (text: string) => void) => Promise<T>): Promise<T> {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CliError(EXIT_CODES.OUT_EXISTS, `${path} already exists; the export never overwrites a file. Nothing was written.`);
    }
    throw error;
  }
  try {
    fchmodSync(fd, 0o600); // exactly 0600, whatever the umask
    const result = await fill((text) => {
      const data = Buffer.from(text, 'utf8');
      for (let offset = 0; offset < data.length;) offset += writeSync(fd, data, offset, data.length - offset);
    });
    fsyncSync(fd);
    closeSync(fd);
    return result;
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    unlinkSync(path);
    throw error;
  }
}

/** When a stream's write() said to wait: its next 'drain' (rejected on 'error', e.g. the reader went away). */
function drained(output: AuditCliDeps['stdout']): Promise<void> | undefined {
  const emitter = output as Partial<EventEmitter>;
  if (typeof emitter.once !== 'function' || typeof emitter.on !== 'function') return undefined;
  return once(emitter as EventEmitter, 'drain').then(() => undefined);
}

export async function runExport(args: ParsedArgs, deps: AuditCliDeps): Promise<number> {
  rejectOptions(args, 'export', ['--format', '--from', '--to', '--operator', '--card', '--out']);
  if (args.format === undefined) throw new CliError(EXIT_CODES.USAGE, '--format is required: csv or json.');
  if (!(AUDIT_EXPORT_FORMATS as readonly string[]).includes(args.format)) throw new CliError(EXIT_CODES.USAGE, '--format must be csv or json.');
  const format = args.format as AuditExportFormat;
  const filter = exportFilter(args);
  const path = trailPath(args, deps);
  requireTrail(path);
  const out = args.out === undefined ? undefined : resolve(args.out);
  if (out !== undefined && existsSync(out)) {
    throw new CliError(EXIT_CODES.OUT_EXISTS, `${out} already exists; the export never overwrites a file. Nothing was written.`);
  }
  const store = openStoreChecked(deps, args.service, EXIT_CODES.USAGE);
  const options = { format, filter, ...(deps.now ? { now: deps.now } : {}) };
  // Streamed to its destination as it is made (a long trail never sits in memory). Nothing is written before the
  // trail verified: the first piece comes after verification.
  const exportTo = (write: (text: string) => void | Promise<void>) => withKey(store, (key) => writeAuditExport(path, key, options, write));
  let stdoutBegan = false;
  // A slow reader (a pipe) makes write() return false: wait for 'drain' rather than hold the export in memory.
  const toStdout = (text: string): Promise<void> | undefined => {
    stdoutBegan = true;
    return deps.stdout.write(text) === false ? drained(deps.stdout) : undefined;
  };
  let result;
  try {
    result = out === undefined ? await exportTo(toStdout) : await writeNewFile(out, exportTo);
  } catch (error) {
    if (stdoutBegan && error instanceof AuditError && error.code === 'AUDIT_CHAIN_BROKEN') {
      // Unlike a file, what already went to stdout cannot be taken back.
      throw new CliError(
        EXIT_CODES.VERIFY_FAILED,
        'the trail changed while it was being exported: the output on stdout is INCOMPLETE and must be discarded; run the export again.',
      );
    }
    if (!(error instanceof AuditExportRefusedError)) throw error;
    const code = error.failure.sealable ? EXIT_CODES.TORN_TAIL : EXIT_CODES.VERIFY_FAILED;
    // Not on stdout: that may be the export's destination. Nothing was written anywhere.
    deps.stderr.write(`FAILED: ${path}\n${describeFailure(error.failure)}`);
    throw new CliError(code, 'the trail does not verify, so nothing was exported.');
  }
  if (out === undefined) return EXIT_CODES.OK;
  deps.stdout.write(
    `ok: ${result.verifiedRecords} record${result.verifiedRecords === 1 ? '' : 's'} verified; ${result.records} exported as ${format} to ${out}\n`,
  );
  return EXIT_CODES.OK;
}
