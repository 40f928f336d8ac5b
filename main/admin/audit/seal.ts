/** `npm run audit -- seal [file]`: a torn final line moves out of the way under a seal record, then the trail is verified. */
import { sealAuditFile, verifyAuditFile } from '../../core/audit';
import { openStoreChecked } from '../cli';
import { EXIT_CODES, rejectOptions } from './args';
import type { AuditCliDeps, ParsedArgs } from './args';
import { describeFailure, isStationTrail, refuseWhileRunning, requireTrail, trailPath, withKey } from './trail';

export async function runSeal(args: ParsedArgs, deps: AuditCliDeps): Promise<number> {
  rejectOptions(args, 'seal');
  const path = trailPath(args, deps);
  requireTrail(path);
  if (isStationTrail(path, args, deps)) refuseWhileRunning(args, deps, 'seal');
  const store = openStoreChecked(deps, args.service, EXIT_CODES.USAGE);
  const before = await withKey(store, (key) => verifyAuditFile(path, key));
  if (before.ok) {
    deps.stdout.write(`nothing to seal: ${before.records} record${before.records === 1 ? '' : 's'} verified: ${path}\n`);
    return EXIT_CODES.OK;
  }
  if (!before.sealable) {
    deps.stdout.write(`FAILED: ${path}\n${describeFailure(before)}seal only repairs a torn final line from an interrupted write; nothing was changed.\n`);
    return EXIT_CODES.VERIFY_FAILED;
  }
  const sealed = await sealAuditFile(path, store, { stationTrail: isStationTrail(path, args, deps), ...(deps.now ? { now: deps.now } : {}) });
  if (sealed.sealed && sealed.record) {
    deps.stdout.write(
      `sealed: ${sealed.tornBytes} torn byte${sealed.tornBytes === 1 ? '' : 's'} copied to ${sealed.tornFile} and replaced by seal record ${sealed.record.seq} (sha256 ${sealed.record.tornSha256})\n`,
    );
  }
  const after = await withKey(store, (key) => verifyAuditFile(path, key));
  if (after.ok) {
    deps.stdout.write(`ok: ${after.records} record${after.records === 1 ? '' : 's'} verified: ${path}\n`);
    return EXIT_CODES.OK;
  }
  deps.stdout.write(`FAILED after sealing: ${path}\n${describeFailure(after)}`);
  return after.sealable ? EXIT_CODES.TORN_TAIL : EXIT_CODES.VERIFY_FAILED;
}
