/**
 * The sandbox processor `npm start` runs inside the app when
 * `processor.baseUrl` is "sandbox": keys of its own under the
 * pin-station-sandbox keychain service, made on first run.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { SandboxKeychain } from './provision';
import { issueProcessorCertificate } from './certificate';
import { SandboxProcessor } from './processor';
import type { SandboxFault, SandboxProfile } from './processor';
import { ensureSandboxKeys } from './provision';

export { SANDBOX_KEYCHAIN_SERVICE } from './provision';

/** Demo cards the sandbox knows the PAN of (for the iso4 profile); the PANs pass the Luhn check. */
export const SANDBOX_DEMO_CARDS: readonly { readonly cardId: string; readonly pan: string }[] = [
  { cardId: 'DEMO-0001', pan: '4000001234567899' },
  { cardId: 'DEMO-0002', pan: '5500000000000004' },
  { cardId: 'DEMO-0003', pan: '4111111111111111' },
];

const DAY_MS = 86_400_000;

export async function startEmbeddedSandbox(
  keyStore: SandboxKeychain,
  profile: SandboxProfile,
  faults: readonly SandboxFault[] = [],
): Promise<{ sandbox: SandboxProcessor; baseUrl: string }> {
  const keys = await ensureSandboxKeys(keyStore, profile);
  let privateKeyPem: string | undefined;
  if (profile === 'public-key') {
    // A fresh processor key pair per run: the private half never leaves this process; the station gets only the
    // public key, in a certificate the processor signs (valid for a year), as a real processor would send it.
    const pair = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const now = Date.now();
    const certificate = issueProcessorCertificate({
      publicKeyPem: pair.publicKey,
      signingKeyPem: pair.privateKey,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + 365 * DAY_MS),
    });
    await keyStore.set('pin-public-key', certificate);
    privateKeyPem = pair.privateKey;
  }
  // With the public-key profile the station holds no AES key; the emulator's own is then never used.
  const processorKeys = { ...keys, pinKeyHex: keys.pinKeyHex ?? randomBytes(32).toString('hex') };
  const sandbox = new SandboxProcessor(privateKeyPem ? { ...processorKeys, privateKeyPem } : processorKeys, { profile, faults, testHooks: false });
  for (const card of SANDBOX_DEMO_CARDS) sandbox.registerCard(card.cardId, card.pan);
  return { sandbox, baseUrl: await sandbox.start() };
}
