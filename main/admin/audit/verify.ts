/** `npm run audit -- verify [file]`: every record's MAC, the chain, the head anchor and the high-water mark. */
import { OpenAttemptTracker, readMark, trailFileAgainstMark } from '../../core/audit';
import type { HighWaterMark } from '../../core/audit';
import { openStoreChecked } from '../cli';
import { EXIT_CODES, rejectOptions } from './args';
import type { AuditCliDeps, ParsedArgs } from './args';
import { describeFailure, isStationTrail, requireTrail, trailPath, withKey } from './trail';

export async function runVerify(args: ParsedArgs, deps: AuditCliDeps): Promise<number> {
  rejectOptions(args, 'verify');
  const path = trailPath(args, deps);
  const store = openStoreChecked(deps, args.service, EXIT_CODES.USAGE);
  const stationTrail = isStationTrail(path, args, deps);
  const mark: HighWaterMark | null = stationTrail ? await readMark(store) : null;
  // With a mark, a trail that is gone is a loss to report, not a wrong path.
  if (mark === null) requireTrail(path);
  // Open attempts gathered on verify's one streamed read (only a trail that verifies lists them).
  const attempts = new OpenAttemptTracker();
  const { verify: result, loss } = await withKey(store, (key) => trailFileAgainstMark(path, key, mark, (record) => attempts.note(record)));
  // The mark before a torn line: after lost records, "run seal" would be the wrong advice. Records cut off (or a
  // forged line put first to hide that) are the loss to report, not just the first line that fails.
  if (loss && (result.ok || result.sealable || loss.cause !== 'trail-replaced')) {
    deps.stdout.write(`FAILED: ${path}\n${loss.detail}\n`);
    if (!result.ok && !result.sealable) deps.stdout.write(describeFailure(result));
    return EXIT_CODES.TRAIL_LOST;
  }
  if (!result.ok) {
    deps.stdout.write(`FAILED: ${path}\n${describeFailure(result)}`);
    if (result.sealable) {
      deps.stdout.write(
        `${result.records} record${result.records === 1 ? '' : 's'} before it verified. Close the station and run "npm run audit -- seal" to seal the torn line.\n`,
      );
      return EXIT_CODES.TORN_TAIL;
    }
    return EXIT_CODES.VERIFY_FAILED;
  }
  deps.stdout.write(`ok: ${result.records} record${result.records === 1 ? '' : 's'} verified: ${path}\n`);
  if (mark) {
    deps.stdout.write(
      `high-water mark (keychain): record ${mark.seq}, matches${mark.seq < result.records ? ' (it lags the trail, which a stop between a record and its mark leaves)' : ''}\n`,
    );
  } else if (stationTrail) {
    deps.stdout.write('high-water mark (keychain): none yet; the station sets it with its next record\n');
  } else {
    deps.stdout.write("high-water mark (keychain): not compared; this file is not the data directory's trail\n");
  }
  for (const attempt of attempts.list()) {
    // Not a failure: the request may still be in flight, or the station stopped during it; its next start closes it.
    deps.stdout.write(
      `attempt without an outcome: record ${attempt.seq} (${attempt.time}, card ${attempt.cardId}, operator ${attempt.operator}, attempt ${attempt.attemptId}) — the station stopped during the request, or is sending it now; its next start records the outcome as unknown\n`,
    );
  }
  return EXIT_CODES.OK;
}
