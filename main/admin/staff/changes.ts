/** The staff commands that change one account: add, passwd, disable, enable, unlock, roles. Each is recorded in the trail. */
import { CliError } from '../cli';
import { EXIT_CODES, parseDisplayName, parseRoles, rejectOptions, requireUsername } from './args';
import type { ParsedArgs, StaffCliDeps } from './args';
import { readNewPassword } from './password';
import { isLocked, openAccounts, openTrail, orExit, recordChange, requireAccount } from './store';
import type { RunState } from './store';

export async function runAdd(args: ParsedArgs, deps: StaffCliDeps, state: RunState): Promise<void> {
  rejectOptions(args, 'add', ['--roles', '--name']);
  const username = requireUsername(args, 'add');
  const roles = parseRoles(args.roles);
  const displayName = parseDisplayName(args.name);
  const accounts = await openAccounts(args, deps, state);
  if ((await accounts.store.list()).some((account) => account.username === username)) {
    throw new CliError(EXIT_CODES.ACCOUNT_EXISTS, `an account named "${username}" already exists in ${accounts.path}. Nothing was stored.`);
  }
  const trail = await openTrail(args, deps, accounts, state);
  const password = await readNewPassword(deps, username);
  const account = await orExit(accounts.store.add({ username, roles, displayName, password }), EXIT_CODES.ACCOUNT_EXISTS);
  deps.stdout.write(`added ${account.username} (${account.roles.join(', ')}) to ${accounts.path}\n`);
  await recordChange(trail, 'add', account.username, null, account.roles);
}

export async function runPasswd(args: ParsedArgs, deps: StaffCliDeps, state: RunState): Promise<void> {
  rejectOptions(args, 'passwd', []);
  const username = requireUsername(args, 'passwd');
  const accounts = await openAccounts(args, deps, state);
  const before = await requireAccount(accounts, username);
  const trail = await openTrail(args, deps, accounts, state);
  const password = await readNewPassword(deps, username);
  const after = await orExit(accounts.store.setPassword(username, password), EXIT_CODES.UNKNOWN_ACCOUNT);
  const cleared = before.failures > 0 || before.lockedUntil !== null ? '; failed attempts and lockout cleared' : '';
  deps.stdout.write(`password changed for ${username}${cleared}\n`);
  await recordChange(trail, 'passwd', username, before.roles, after.roles);
}

export async function runSetDisabled(args: ParsedArgs, deps: StaffCliDeps, state: RunState, disabled: boolean): Promise<void> {
  const command = disabled ? 'disable' : 'enable';
  rejectOptions(args, command, []);
  const username = requireUsername(args, command);
  const accounts = await openAccounts(args, deps, state);
  const before = await requireAccount(accounts, username);
  if (before.disabled === disabled) {
    deps.stdout.write(`${username} is already ${disabled ? 'disabled' : 'enabled'}; nothing changed\n`);
    return;
  }
  const trail = await openTrail(args, deps, accounts, state);
  const after = await orExit(accounts.store.setDisabled(username, disabled), EXIT_CODES.UNKNOWN_ACCOUNT);
  deps.stdout.write(`${disabled ? 'disabled' : 'enabled'} ${username}\n`);
  await recordChange(trail, command, username, before.roles, after.roles);
}

export async function runUnlock(args: ParsedArgs, deps: StaffCliDeps, state: RunState): Promise<void> {
  rejectOptions(args, 'unlock', []);
  const username = requireUsername(args, 'unlock');
  const accounts = await openAccounts(args, deps, state);
  const before = await requireAccount(accounts, username);
  if (before.failures === 0 && before.lockedUntil === null) {
    deps.stdout.write(`${username} has no failed attempts or lockout; nothing changed\n`);
    return;
  }
  const now = (deps.now ?? (() => new Date()))();
  const was = isLocked(before, now)
    ? `it was locked until ${before.lockedUntil}`
    : `${before.failures} failed attempt${before.failures === 1 ? '' : 's'} cleared`;
  const trail = await openTrail(args, deps, accounts, state);
  const after = await orExit(accounts.store.unlock(username), EXIT_CODES.UNKNOWN_ACCOUNT);
  deps.stdout.write(`unlocked ${username} (${was})\n`);
  await recordChange(trail, 'unlock', username, before.roles, after.roles);
}

export async function runRoles(args: ParsedArgs, deps: StaffCliDeps, state: RunState): Promise<void> {
  rejectOptions(args, 'roles', ['--roles']);
  const username = requireUsername(args, 'roles');
  const roles = parseRoles(args.roles, 'roles');
  const accounts = await openAccounts(args, deps, state);
  const before = await requireAccount(accounts, username);
  if (before.roles.length === roles.length && before.roles.every((role) => roles.includes(role))) {
    deps.stdout.write(`${username} already has the roles ${roles.join(', ')}; nothing changed\n`);
    return;
  }
  const trail = await openTrail(args, deps, accounts, state);
  const after = await orExit(accounts.store.setRoles(username, roles), EXIT_CODES.UNKNOWN_ACCOUNT);
  deps.stdout.write(`roles of ${username}: ${before.roles.join(', ')} -> ${after.roles.join(', ')}\n`);
  await recordChange(trail, 'roles', username, before.roles, after.roles);
}
