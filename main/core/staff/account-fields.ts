/** What a local account's name, roles and display name may be, and how a typed name may be shown. */
import { StationError } from '../../../common/errors';
import { normaliseUsername, ROLES, USERNAME_PATTERN, USERNAME_RULE } from '../../../common/staff';
import type { Role } from '../../../common/staff';

export function checkUsername(typed: string): string {
  const username = normaliseUsername(typed);
  if (!USERNAME_PATTERN.test(username)) throw new StationError('INVALID_REQUEST', `A user name is ${USERNAME_RULE}.`);
  return username;
}

export function checkRoles(roles: readonly Role[]): Role[] {
  const known = ROLES.filter((role) => roles.includes(role));
  if (known.length === 0 || known.length !== new Set(roles).size)
    throw new StationError('INVALID_REQUEST', `Roles must be one or more of: ${ROLES.join(', ')}.`);
  return known;
}

export function checkDisplayName(name: string | null): string | null {
  if (name === null || name.trim() === '') return null;
  const trimmed = name.trim();
  if (trimmed.length > 128 || /\p{Cc}/u.test(trimmed))
    throw new StationError('INVALID_REQUEST', 'A display name has at most 128 characters and no control characters.');
  return trimmed;
}

/** The stand-in recorded for a user name that names no account. */
export const UNKNOWN_USERNAME = '(unknown user name)';

/** A typed user name as it may appear in a message: only when it is a valid name. */
export function safeName(typed: string): string {
  const username = normaliseUsername(typed);
  return USERNAME_PATTERN.test(username) ? username : '(not a valid user name)';
}
