/**
 * Node's (OpenSSL's) certificate-verification error codes, grouped by what they
 * tell staff: for the processor connection (card-api-client.ts) and the audit
 * shipper's (audit/ship.ts). Kept once, so both name the same failures alike.
 */

/** The chain does not lead to a CA this connection trusts, or a certificate in it is refused. */
export const UNTRUSTED_CHAIN_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'INVALID_CA',
  'INVALID_PURPOSE',
]);

/** A certificate outside its validity period (expired, or not valid yet: also a wrong clock here). */
export const CERT_DATE_CODES: ReadonlySet<string> = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
