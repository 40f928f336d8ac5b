/** `npm run staff -- mfa enroll|reset <username>`: a new second factor, shown once and confirmed by a code, or its removal. */
import QRCode from 'qrcode';
import { USERNAME_RULE } from '../../../common/staff';
import { checkUsername } from '../../core/staff/accounts';
import { matchTotp, newTotpSecret, totpUri } from '../../core/staff/totp';
import { CliError, readHidden } from '../cli';
import { EXIT_CODES, rejectOptions } from './args';
import type { ParsedArgs, StaffCliDeps } from './args';
import { HIDDEN } from './password';
import { openAccounts, openTrail, orExit, recordChange, requireAccount } from './store';
import type { RunState } from './store';

/** `mfa enroll|reset <username>`: the secret and the code are never arguments. */
export async function runMfa(args: ParsedArgs, deps: StaffCliDeps, state: RunState): Promise<void> {
  rejectOptions(args, 'mfa', []);
  const action = args.positional[1];
  if (action !== 'enroll' && action !== 'reset') throw new CliError(EXIT_CODES.USAGE, 'mfa takes enroll or reset, then a user name. See --help.');
  const typed = args.positional[2];
  if (typed === undefined) throw new CliError(EXIT_CODES.USAGE, `mfa ${action} needs a user name. See --help.`);
  if (args.positional.length > 3) {
    throw new CliError(EXIT_CODES.USAGE, 'too many arguments. A secret or code is never given on the command line.');
  }
  let username: string;
  try {
    username = checkUsername(typed);
  } catch {
    throw new CliError(EXIT_CODES.USAGE, `a user name is ${USERNAME_RULE}.`);
  }
  const accounts = await openAccounts(args, deps, state);
  const before = await requireAccount(accounts, username);
  if (action === 'reset') {
    if (!before.mfaEnrolled) {
      deps.stdout.write(`${username} has no second factor; nothing changed\n`);
      return;
    }
    const trail = await openTrail(args, deps, accounts, state);
    const after = await orExit(accounts.store.resetTotp(username), EXIT_CODES.UNKNOWN_ACCOUNT);
    deps.stdout.write(`second factor removed for ${username}: it cannot sign in until enrolled again (npm run staff -- mfa enroll ${username})\n`);
    await recordChange(trail, 'mfa-reset', username, before.roles, after.roles);
    return;
  }
  // The secret is shown once, for a person holding their phone: never into a pipe or a file.
  if (deps.stdin.isTTY !== true) {
    throw new CliError(EXIT_CODES.USAGE, 'mfa enroll needs a terminal: the secret is shown once and a code from the app is typed. Nothing was stored.');
  }
  const trail = await openTrail(args, deps, accounts, state);
  const secret = newTotpSecret();
  const uri = totpUri(secret, username, trail.stamp.stationId);
  const qr = await QRCode.toString(uri, { type: 'terminal', small: true, errorCorrectionLevel: 'M' });
  deps.stderr.write(`Scan this with ${username}'s authenticator app (or enter the URI by hand). It is shown only this once.\n\n${qr}\n${uri}\n\n`);
  const code = await readHidden(deps.stdin, deps.stderr, `Current 6-digit code shown by the app for ${username}: `, {
    ...HIDDEN,
    maxChars: 32,
    exitCodes: { ...HIDDEN.exitCodes, tooLong: EXIT_CODES.MFA_CODE_REJECTED },
  });
  const step = matchTotp(secret, code.replace(/\s+/g, ''), (deps.now ?? (() => new Date()))(), null);
  if (step === null) {
    throw new CliError(
      EXIT_CODES.MFA_CODE_REJECTED,
      `the code does not match the new secret (check the phone's clock, or that the right entry was read). Nothing was stored; run mfa enroll again for a new secret.`,
    );
  }
  const after = await orExit(accounts.store.enrolTotp(username, secret, step), EXIT_CODES.UNKNOWN_ACCOUNT);
  deps.stdout.write(`second factor enrolled for ${username}${before.mfaEnrolled ? ' (the earlier one no longer works)' : ''}\n`);
  await recordChange(trail, 'mfa-enroll', username, before.roles, after.roles);
}
