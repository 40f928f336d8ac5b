/**
 * Error codes shared by every process. A StationErrorInfo is the only error
 * shape that crosses IPC: a code plus a message written for staff, which never
 * carries a PIN, a PIN block, a key or a stack trace.
 */
export const ERROR_MESSAGES = {
  INVALID_REQUEST: 'The request was not understood.',
  WRONG_WINDOW: 'This window may not perform that action.',
  CARD_ID_INVALID: 'The card ID is not in the expected format.',
  PAN_INVALID: 'The card number (PAN) must be 12 to 19 digits with a valid check digit.',
  SESSION_BUSY: 'A PIN session is already in progress. Finish or cancel it first.',
  NO_SESSION: 'No PIN session is in progress.',
  PIN_TOO_SHORT: 'The PIN is too short.',
  PIN_TOO_LONG: 'The PIN cannot have more digits.',
  PIN_MISMATCH: 'The two PINs did not match. Please enter the same PIN again.',
  PIN_MISMATCH_LIMIT: 'The PINs did not match several times. Please start again with a new PIN.',
  PIN_REPEATED: 'A PIN cannot be one digit repeated. Please choose another PIN.',
  PIN_SEQUENCE: 'A PIN cannot be a run of consecutive digits, up or down. Please choose another PIN.',
  PIN_DENIED: 'This PIN is too easy to guess. Please choose another PIN.',
  PIN_CANCELLED: 'PIN entry was cancelled.',
  PIN_TIMEOUT: 'PIN entry timed out. Nothing was sent.',
  KEYCHAIN_ENTRY_MISSING: 'A required key is missing from the keychain.',
  KEYCHAIN_ENTRY_MALFORMED: 'A key in the keychain has the wrong format.',
  KEYCHAIN_UNAVAILABLE: 'The keychain could not be reached or is locked.',
  CRYPTO_FAILED: 'The PIN could not be encrypted. Nothing was sent.',
  PROCESSOR_KEY_EXPIRED: "The card processor's public key (pin-public-key) has expired, or its certificate is not valid yet. Nothing was sent.",
  PROCESSOR_KEY_MISMATCH: "The card processor's public key in the keychain is not the one pinned by processor.publicKeySha256. Nothing was sent.",
  PROFILE_DEFAULT_CHANGED: "The default encryption profile is now public-key (the card processor's public key), but this keychain holds only a pin-key.",
  PROCESSOR_URL_INSECURE: 'The processor address must use HTTPS (plain HTTP is allowed only on this computer).',
  PROCESSOR_UNREACHABLE: 'The card processor could not be reached. Nothing was sent.',
  PROCESSOR_TLS_UNTRUSTED: "The card processor's certificate is not trusted (self-signed, expired or unknown issuer). Nothing was sent.",
  PROCESSOR_TLS_NAME_MISMATCH: "The card processor's certificate is for another address. Nothing was sent.",
  PROCESSOR_TLS_PIN_MISMATCH: "The card processor's key does not match the pinned key (api pins). Nothing was sent.",
  OUTCOME_UNKNOWN: 'No answer from the card processor: the outcome is unknown. Check with the processor before trying again.',
  PROCESSOR_HTTP_ERROR: 'The card processor refused the request.',
  PROCESSOR_BAD_RESPONSE: 'The card processor sent an answer that could not be read: the outcome is unknown. Check with the processor before trying again.',
  PROCESSOR_REJECTED: 'The card processor answered with an error.',
  CONFIG_INVALID: 'The station configuration is invalid.',
  POLICY_INVALID: 'The settings policy set by your organisation cannot be used, so the station does not start.',
  AUDIT_FAILED: 'The audit trail could not record this. Tell your supervisor (npm run audit -- verify).',
  AUDIT_TORN_TAIL: 'The audit trail ends in an incomplete record (an interrupted write), so nothing more can be recorded.',
  AUDIT_CHAIN_BROKEN: 'The audit trail is damaged or was changed, so nothing more can be recorded.',
  AUDIT_TRAIL_LOST: 'Audit records are missing: the trail is not the one this station last wrote, so nothing more can be recorded.',
  AUDIT_WRITE_FAILED: 'The audit trail could not be read or written.',
  AUDIT_INVALID_ENTRY: 'The audit record was refused.',
  SIGN_IN_REQUIRED: 'Sign in first.',
  SIGN_IN_FAILED: 'The user name, password or authentication code is wrong.',
  MFA_NOT_ENROLLED: 'This account has no authentication app set up yet, so it cannot sign in. Ask an administrator to enrol it.',
  ACCOUNT_LOCKED_OUT: 'Too many failed sign-ins: this account is locked.',
  ACCOUNT_DISABLED: 'This account is disabled. Ask an administrator.',
  ROLE_NOT_ALLOWED: 'Your role does not allow this.',
  SESSION_LOCKED: 'The screen is locked. Unlock it first.',
  UNLOCK_WRONG_PERSON: 'Only the person signed in can unlock. Anyone else signs them out first.',
  SIGNED_OUT_IDLE: 'You were away too long: the screen locked.',
  SIGNED_OUT_BY_OTHER: 'The previous person was signed out when another person signed in.',
  STAFF_STORE_BUSY: 'The staff accounts file is in use by another program (npm run staff?). Try again.',
  STAFF_STORE_INVALID: 'The staff accounts file is damaged or was changed outside the station.',
  SSO_FAILED: 'Single sign-on did not complete.',
  SSO_UNREACHABLE: 'The identity provider could not be reached.',
  SSO_CANCELLED: 'Single sign-on was cancelled or timed out.',
  SSO_STATE_MISMATCH: 'The sign-in answer does not belong to this sign-in (state mismatch). Try again.',
  SSO_TOKEN_INVALID: "The identity provider's ID token failed its checks (signature, issuer, audience or nonce).",
  SSO_TOKEN_EXPIRED: "The identity provider's ID token has expired or its sign-in is too old.",
  SSO_MFA_MISSING: 'The identity provider did not confirm a second factor (multi-factor authentication) for this sign-in.',
  SSO_NO_ROLE: 'Your groups at the identity provider grant no role on this station.',
  APPROVAL_REQUIRED: "This needs a supervisor's approval.",
  APPROVAL_SELF: 'You cannot approve your own action: another supervisor must approve it.',
  APPROVAL_ROLE: 'Only a supervisor can approve this.',
  APPROVAL_EXPIRED: 'The approval expired before it was used. Ask for a new one.',
  APPROVAL_INVALID: 'The approval is not valid for this action.',
  APPROVAL_REASON_REQUIRED: 'Give a reason for this approval.',
  AUDIT_PENDING:
    'The last outcome is not in the audit trail yet, so nothing new can start. It is retried every few seconds: free disk space or fix the trail (npm run audit -- verify).',
  STATION_STOPPED: 'The station stopped during the request: the outcome is unknown. Check with the processor before trying again.',
  STATION_CLOSING: 'The station is closing. Nothing new can start.',
  INTERNAL: 'An internal error occurred. Nothing was sent.',
} as const;

export type ErrorCode = keyof typeof ERROR_MESSAGES;

export interface StationErrorInfo {
  readonly code: ErrorCode;
  readonly message: string;
  /** For a lockout: whole minutes until it ends, so each window can say it in its own language. */
  readonly minutesLeft?: number;
}

/** An error that is safe to show: its message was written, never interpolated from a secret. */
export class StationError extends Error {
  readonly code: ErrorCode;
  constructor(
    code: ErrorCode,
    detail?: string,
    readonly minutesLeft?: number,
  ) {
    super(detail ? `${ERROR_MESSAGES[code]} ${detail}` : ERROR_MESSAGES[code]);
    this.name = 'StationError';
    this.code = code;
  }
  toInfo(): StationErrorInfo {
    return this.minutesLeft === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, minutesLeft: this.minutesLeft };
  }
}

/** Any thrown value becomes safe info; unknown errors lose their message on purpose. */
export function toErrorInfo(error: unknown): StationErrorInfo {
  if (error instanceof StationError) return error.toInfo();
  return { code: 'INTERNAL', message: ERROR_MESSAGES.INTERNAL };
}
