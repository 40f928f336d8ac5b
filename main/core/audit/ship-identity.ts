/**
 * The station's TLS identity towards the audit collector (mutual TLS): the
 * certificate from `audit.ship.certFile` and its private key, PEM, in the
 * keychain entry `ship-key` (`npm run keys -- import ship-key`), never in a
 * file. Checked at start-up so a missing, malformed or mismatched key is the
 * cannot-start screen, not a silent stream of handshake failures.
 */
import { X509Certificate, createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { StationError } from '../../../common/errors';
import type { KeyStore } from '../keystore';

export type ShipKeyCheck =
  { readonly ok: true; readonly kind: string; readonly bits: number | null; readonly fingerprint: string } | { readonly ok: false; readonly reason: string };

const PEM_PRIVATE_KEY = /^-----BEGIN (?:RSA |EC )?PRIVATE KEY-----\r?\n[\s\S]+\r?\n-----END (?:RSA |EC )?PRIVATE KEY-----\s*$/;

/** The first 10 hex characters (uppercase) of SHA-256 over the DER SubjectPublicKeyInfo: the same for the key and its certificate. */
export function spkiFingerprint(key: KeyObject): string {
  const der = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 10).toUpperCase();
}

/** Checks a `ship-key` value: an unencrypted PEM private key, RSA of 2048 bits or more, or EC. Never quotes the value. */
export function checkShipKey(pem: string): ShipKeyCheck {
  if (!PEM_PRIVATE_KEY.test(pem.trim())) {
    return { ok: false, reason: 'must be a PEM private key (-----BEGIN PRIVATE KEY-----, unencrypted)' };
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    return { ok: false, reason: 'could not be read as a private key (damaged, or protected by a passphrase)' };
  }
  const type = key.asymmetricKeyType;
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) return { ok: false, reason: `is an RSA key of ${bits} bits; at least 2048 are needed` };
    return { ok: true, kind: 'RSA', bits, fingerprint: spkiFingerprint(key) };
  }
  if (type === 'ec') return { ok: true, kind: `EC ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trim(), bits: null, fingerprint: spkiFingerprint(key) };
  return { ok: false, reason: 'must be an RSA or EC private key' };
}

/** Reads the certificate file and `ship-key`, and checks that they belong together. */
export async function loadShipIdentity(certFile: string, keyStore: KeyStore): Promise<{ cert: string; key: string }> {
  let cert: string;
  let parsed: X509Certificate;
  try {
    cert = await readFile(certFile, 'utf8');
    parsed = new X509Certificate(cert);
  } catch {
    throw new StationError('CONFIG_INVALID', 'audit.ship.certFile could not be read as a PEM certificate.');
  }
  const key = await keyStore.get('ship-key');
  if (key === null || key.length === 0) {
    throw new StationError(
      'KEYCHAIN_ENTRY_MISSING',
      'Entry "ship-key" was not found: the private key of audit.ship.certFile is needed to reach the collector. Import it with "npm run keys -- import ship-key".',
    );
  }
  const check = checkShipKey(key);
  if (!check.ok) throw new StationError('KEYCHAIN_ENTRY_MALFORMED', `Entry "ship-key" ${check.reason}.`);
  if (!parsed.checkPrivateKey(createPrivateKey(key))) {
    throw new StationError('KEYCHAIN_ENTRY_MALFORMED', 'Entry "ship-key" is not the private key of the certificate in audit.ship.certFile.');
  }
  return { cert, key };
}
