/** `npm run audit -- reset [file] --acknowledge`: after records were lost, keep the old trail aside and start a new one naming the loss. */
import { userInfo } from 'node:os';
import { AuditNothingToReset, resetAuditTrail } from '../../core/audit';
import { CliError, openStoreChecked } from '../cli';
import { EXIT_CODES, rejectOptions } from './args';
import type { AuditCliDeps, ParsedArgs } from './args';
import { isStationTrail, refuseWhileRunning, trailPath } from './trail';

export async function runReset(args: ParsedArgs, deps: AuditCliDeps): Promise<number> {
  rejectOptions(args, 'reset', ['--acknowledge']);
  if (!args.acknowledge) {
    throw new CliError(
      EXIT_CODES.USAGE,
      'reset starts a new audit trail and cannot be undone: give --acknowledge to confirm that the lost records are accounted for. Close the station first.',
    );
  }
  const path = trailPath(args, deps);
  if (!isStationTrail(path, args, deps)) {
    throw new CliError(
      EXIT_CODES.USAGE,
      `reset works on the station's own trail only (its high-water mark is the station's): give --data-dir, or no file. ${path} is not the trail of the data directory.`,
    );
  }
  refuseWhileRunning(args, deps, 'reset');
  const store = openStoreChecked(deps, args.service, EXIT_CODES.USAGE);
  let result;
  try {
    result = await resetAuditTrail(path, store, { acknowledgedBy: deps.osUser ?? userInfo().username, ...(deps.now ? { now: deps.now } : {}) });
  } catch (error) {
    if (error instanceof AuditNothingToReset) {
      deps.stdout.write(`${error.message}\nNothing was changed.\n`);
      return EXIT_CODES.NOTHING_TO_RESET;
    }
    throw error;
  }
  const { loss, record, keptAs, markWritten } = result;
  const range =
    loss.lostFrom === null
      ? 'an unknown range'
      : loss.lostTo === null
        ? `records ${loss.lostFrom} onwards`
        : loss.lostFrom === loss.lostTo
          ? `record ${loss.lostFrom}`
          : `records ${loss.lostFrom} to ${loss.lostTo}`;
  deps.stdout.write(`${loss.detail.replace(/ An admin may acknowledge.*$/, '')}\n`);
  deps.stdout.write(
    `reset: a new trail was started at ${path}; its record 1 (${record.time}) names ${range} as lost (${loss.cause}), acknowledged by ${record.acknowledgedBy}.\n`,
  );
  if (keptAs) deps.stdout.write(`the old trail was kept as ${keptAs} (verify it with: npm run audit -- verify ${keptAs})\n`);
  if (!markWritten) {
    deps.stdout.write(
      "note: the keychain's high-water mark could not be updated now; the station accepts the new trail anyway (its reset record names the mark it acknowledged) and updates the mark at its next record.\n",
    );
  }
  return EXIT_CODES.OK;
}
