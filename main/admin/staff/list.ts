/** `npm run staff -- list [--json]`: every account and its state; never a hash. */
import type { StaffAccount } from '../../core/staff/accounts';
import { CliError } from '../cli';
import { EXIT_CODES, rejectOptions } from './args';
import type { ParsedArgs, StaffCliDeps } from './args';
import { isLocked, openAccounts } from './store';
import type { RunState } from './store';

export async function runList(args: ParsedArgs, deps: StaffCliDeps, state: RunState): Promise<void> {
  rejectOptions(args, 'list', ['--json']);
  if (args.positional.length > 1) throw new CliError(EXIT_CODES.USAGE, 'list takes no arguments.');
  const accounts = await openAccounts(args, deps, state);
  const list = await accounts.store.list();
  const now = (deps.now ?? (() => new Date()))();
  if (args.json) {
    // Each field named here, so nothing the store adds later (a hash) can slip out.
    const view = list.map((account) => ({
      username: account.username,
      displayName: account.displayName,
      roles: account.roles,
      disabled: account.disabled,
      locked: isLocked(account, now),
      lockedUntil: account.lockedUntil,
      failures: account.failures,
      mfaEnrolled: account.mfaEnrolled,
      createdAt: account.createdAt,
      passwordChangedAt: account.passwordChangedAt,
    }));
    deps.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    return;
  }
  if (list.length === 0) {
    deps.stdout.write(`no local staff accounts in ${accounts.path}\n`);
    return;
  }
  const rows = [
    ['USER NAME', 'ROLES', 'DISPLAY NAME', 'STATE'],
    ...list.map((account) => [account.username, account.roles.join(','), account.displayName ?? '-', describeState(account, now)]),
  ];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const lines = rows.map((row) => row.map((cell, column) => (column < widths.length ? cell.padEnd(widths[column] ?? 0) : cell)).join('  '));
  deps.stdout.write(`${lines.join('\n')}\n`);
}

/** "active", "disabled", "locked until <ISO time>", "N failed attempts", or several joined by ", ". */
export function describeState(account: StaffAccount, now: Date): string {
  const parts: string[] = [];
  if (account.disabled) parts.push('disabled');
  if (isLocked(account, now)) parts.push(`locked until ${account.lockedUntil}`);
  else if (account.failures > 0) parts.push(`${account.failures} failed attempt${account.failures === 1 ? '' : 's'}`);
  return parts.length > 0 ? parts.join(', ') : 'active';
}
