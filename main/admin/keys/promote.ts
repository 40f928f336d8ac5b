/** `npm run keys -- promote`: the staged next pin-public-key becomes current now, with its record in the station's audit trail. */
import { StationError } from '../../../common/errors';
import { AuditLog, auditFilePath } from '../../core/audit';
import { stampRecord } from '../../core/station-records';
import { promoteNextProcessorKey, readNextProcessorKey } from '../../core/processor-key-rotation';
import { CliError } from '../cli';
import { EXIT_CODES, rejectOptions } from './args';
import type { CliDeps, ParsedArgs } from './args';
import { dataDirOf, stationKeychain, withTrailLock } from './station';

/** `promote`: the staged next key becomes pin-public-key now, with its record in the station's audit trail. */
export async function runPromote(args: ParsedArgs, deps: CliDeps): Promise<void> {
  rejectOptions(args, 'promote', ['--service', '--data-dir']);
  if (args.positional.length > 1) throw new CliError(EXIT_CODES.USAGE, 'promote takes no arguments.');
  const dataDir = dataDirOf(args, deps);
  const trail = auditFilePath(dataDir);
  // The switch's record goes into the station's trail: one writer at a time, as for a key ceremony.
  await withTrailLock(dataDir, trail, 'npm run keys -- promote', { then: 'promote the key', nothingDone: 'Nothing was changed.' }, () =>
    promote(args, deps, dataDir, trail),
  );
}

async function promote(args: ParsedArgs, deps: CliDeps, dataDir: string, trail: string): Promise<void> {
  const { config, service, store } = await stationKeychain(args, deps, dataDir, 'Nothing was changed.');
  const staged = await readNextProcessorKey(store).catch((error: unknown) => {
    throw new CliError(
      EXIT_CODES.MALFORMED_VALUE,
      `${error instanceof StationError ? error.message : 'the staged key could not be read.'} Nothing was changed.`,
    );
  });
  if (staged === null)
    throw new CliError(
      EXIT_CODES.NOTHING_STAGED,
      'no next pin-public-key is staged: import it with "import pin-public-key --next" first. Nothing was changed.',
    );
  const log = new AuditLog(trail, store, deps.now ? { now: deps.now } : {});
  try {
    await log.check();
  } catch (error) {
    if (error instanceof StationError && error.code === 'KEYCHAIN_UNAVAILABLE') throw error;
    throw new CliError(
      EXIT_CODES.AUDIT_UNAVAILABLE,
      `the audit trail at ${trail} cannot take the record of the switch (${error instanceof StationError ? error.code : 'unreadable'}). ` +
        `Check it with: npm run audit -- verify --data-dir ${dataDir}. Nothing was changed.`,
    );
  }
  const now = deps.now?.() ?? new Date();
  let seq = 0;
  const promoted = await promoteNextProcessorKey(store, 'promote', now, async (entry) => {
    seq = (await log.append(stampRecord(config, entry))).seq;
    await log.flush();
  });
  if (promoted === null) throw new CliError(EXIT_CODES.NOTHING_STAGED, 'no next pin-public-key is staged. Nothing was changed.');
  deps.stdout.write(
    `promoted the next pin-public-key in service "${service}": fingerprint KCV ${promoted.newKcv} is now current` +
      `${promoted.oldKcv ? ` (was ${promoted.oldKcv})` : ''}; record ${seq} written to the audit trail at ${trail}\n`,
  );
  const pins = config.processor.publicKeySha256;
  if (pins !== undefined && !(typeof pins === 'string' ? [pins] : pins).some((pin) => pin.toLowerCase() === staged.key.sha256)) {
    deps.stdout.write(
      `warning: the station's settings pin processor.publicKeySha256 to another key: the station will refuse to send until the pin is ${staged.key.sha256}\n`,
    );
  }
}
