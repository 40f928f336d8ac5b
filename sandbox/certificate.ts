/**
 * The certificate a processor issues for its PIN-encryption key: X.509 with
 * the key's validity period, signed by the processor (here, self-signed by the
 * same key). node:crypto reads certificates but cannot make them, so
 * node-forge builds it.
 */
import { randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface ProcessorCertificateOptions {
  readonly publicKeyPem: string;
  /** The key that signs the certificate (PKCS#8 or PKCS#1 PEM). */
  readonly signingKeyPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly commonName?: string;
}

export function issueProcessorCertificate(options: ProcessorCertificateOptions): string {
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(options.publicKeyPem);
  // A positive serial number: the first byte's top bit clear.
  certificate.serialNumber = `01${randomBytes(15).toString('hex')}`;
  certificate.validity.notBefore = options.notBefore;
  certificate.validity.notAfter = options.notAfter;
  const name = [{ name: 'commonName', value: options.commonName ?? 'Sandbox processor PIN encryption' }];
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', keyEncipherment: true, digitalSignature: false },
  ]);
  certificate.sign(forge.pki.privateKeyFromPem(options.signingKeyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(certificate);
}
