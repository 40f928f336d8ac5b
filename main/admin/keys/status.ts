/** `npm run keys -- status`: every account, absent or present with its KCVs; never a value. */
import { KEY_ACCOUNTS, NEXT_PROCESSOR_KEY_ACCOUNT } from '../../core/keystore';
import type { KeyStore } from '../../core/keystore';
import { CliError, openStoreChecked } from '../cli';
import { EXIT_CODES, rejectOptions } from './args';
import type { CliDeps, ParsedArgs } from './args';
import { checkPublicKey, describeStored, validityText } from './values';

export async function runStatus(args: ParsedArgs, deps: CliDeps): Promise<void> {
  rejectOptions(args, 'status', ['--service']);
  if (args.positional.length > 1) throw new CliError(EXIT_CODES.USAGE, 'status takes no arguments.');
  const store = openStoreChecked(deps, args.service, EXIT_CODES.USAGE);
  const lines = [`service "${args.service}"`];
  const now = deps.now?.() ?? new Date();
  for (const account of KEY_ACCOUNTS) {
    const value = await store.get(account);
    lines.push(`${account}: ${value === null ? 'absent' : describeStored(account, value, now)}`);
    if (account === 'pin-public-key') lines.push(`pin-public-key (next): ${await describeNext(store, now)}`);
  }
  deps.stdout.write(`${lines.join('\n')}\n`);
}

async function describeNext(store: KeyStore, now: Date): Promise<string> {
  const value = await store.get(NEXT_PROCESSOR_KEY_ACCOUNT);
  if (value === null) return 'none staged';
  const check = checkPublicKey(value);
  if (!check.ok) return `present but malformed: ${check.reason}`;
  const key = check.value.key;
  const when = key.notBefore === null ? 'becomes current on "promote"' : `becomes current on ${key.notBefore.toISOString()}`;
  return `staged; RSA ${key.bits} bits, fingerprint KCV (SHA-256 of SPKI) ${key.kcv}${validityText(key, now)}; ${when}`;
}
