/** `npm run keys -- import <account>`: one whole value, typed at a hidden prompt or piped, checked, then stored. */
import { NEXT_PROCESSOR_KEY_ACCOUNT } from '../../core/keystore';
import { checkShipKey } from '../../core/audit';
import { CliError, openStoreChecked, pipedText, readHidden } from '../cli';
import { AES_ACCOUNTS, EXIT_CODES, hiddenOptions, MAX_INPUT_BYTES, normalizeKcv, rejectOptions, requireAccount } from './args';
import type { CliDeps, KeyAccount, ParsedArgs } from './args';
import { checkAesKey, checkApiToken, checkPublicKey, describeShipKey, validityText } from './values';

/** All of piped stdin: one trailing line ending is dropped. */
function readPiped(deps: CliDeps): Promise<string> {
  return pipedText(deps.stdin, MAX_INPUT_BYTES, {
    tooLong: () => new CliError(EXIT_CODES.MALFORMED_VALUE, `the input is longer than ${MAX_INPUT_BYTES} characters. Nothing was stored.`),
    unreadable: () => new CliError(EXIT_CODES.INTERNAL, 'stdin could not be read. Nothing was stored.'),
  });
}

function promptFor(account: KeyAccount): string {
  switch (account) {
    case 'pin-key':
    case 'audit-key':
      return `Enter ${account} (64 hex characters, input hidden), then press Enter: `;
    case 'pin-public-key':
      return 'Paste pin-public-key (PEM, input hidden); input ends after the -----END line or Ctrl-D: ';
    case 'api-token':
      return 'Enter api-token (input hidden), then press Enter: ';
    case 'ship-key':
      return 'Paste ship-key (PEM private key, input hidden); input ends after the -----END line or Ctrl-D: ';
  }
}

export async function runImport(args: ParsedArgs, deps: CliDeps): Promise<void> {
  if (args.seen.has('--data-dir')) throw new CliError(EXIT_CODES.USAGE, '--data-dir applies to import only with --components.');
  rejectOptions(args, 'import', ['--service', '--kcv', '--replace', '--next']);
  const account = requireAccount(args.positional, 'import');
  if (args.next && account !== 'pin-public-key') throw new CliError(EXIT_CODES.USAGE, '--next applies only to pin-public-key.');
  // --next stages the key in an entry of its own; the current one is untouched until the switch.
  const target = args.next ? NEXT_PROCESSOR_KEY_ACCOUNT : account;
  const isAes = AES_ACCOUNTS.includes(account);
  if (isAes && args.kcv === undefined) {
    throw new CliError(
      EXIT_CODES.KCV_REQUIRED,
      `--kcv is required for ${account}: give the key check value from the key custodian (CMAC, 10 hex, or legacy, 6 hex). Nothing was stored.`,
    );
  }
  const givenKcv = args.kcv === undefined ? undefined : normalizeKcv(args.kcv, account);
  const store = openStoreChecked(deps, args.service, EXIT_CODES.USAGE);
  const existed = (await store.get(target)) !== null;
  if (existed && !args.replace) {
    throw new CliError(EXIT_CODES.ENTRY_EXISTS, `${target} already exists in service "${args.service}". Use --replace to overwrite it. Nothing was stored.`);
  }

  const value = deps.stdin.isTTY === true ? await readHidden(deps.stdin, deps.stderr, promptFor(account), hiddenOptions(account)) : await readPiped(deps);
  if (value.length === 0) throw new CliError(EXIT_CODES.MALFORMED_VALUE, `no value was read for ${account} (empty input). Nothing was stored.`);

  const verb = existed ? 'replaced' : 'stored';
  const where = `${account} in service "${args.service}"`;
  if (isAes) {
    const check = checkAesKey(value, account, givenKcv);
    if (!check.ok) throw new CliError(EXIT_CODES.MALFORMED_VALUE, `${account} ${check.reason}. Nothing was stored.`);
    if (!check.value.matches) {
      throw new CliError(
        EXIT_CODES.KCV_MISMATCH,
        `the ${account} value does not match --kcv (checked against the CMAC and the legacy KCV). Check the key and the KCV with the key custodian. Nothing was stored.`,
      );
    }
    await store.set(account, value.toUpperCase());
    deps.stdout.write(`${verb} ${where}; KCV (CMAC) ${check.value.cmac}, KCV (legacy) ${check.value.legacy}\n`);
    return;
  }
  if (account === 'pin-public-key') {
    const check = checkPublicKey(value);
    if (!check.ok) throw new CliError(EXIT_CODES.MALFORMED_VALUE, `${account} ${check.reason}. Nothing was stored.`);
    if (givenKcv !== undefined && givenKcv !== check.value.fingerprint) {
      throw new CliError(
        EXIT_CODES.KCV_MISMATCH,
        'the pin-public-key does not match --kcv (SHA-256 fingerprint of the SubjectPublicKeyInfo). Check the key and the KCV with the key custodian. Nothing was stored.',
      );
    }
    const key = check.value.key;
    const validity = key.notAfter === null ? '' : validityText(key, deps.now?.() ?? new Date());
    await store.set(target, check.value.pem);
    if (!args.next) {
      deps.stdout.write(`${verb} ${where}; RSA ${check.value.bits} bits, fingerprint KCV (SHA-256 of SPKI) ${check.value.fingerprint}${validity}\n`);
      return;
    }
    const when =
      key.notBefore === null
        ? 'it has no date of its own: it becomes current only with "npm run keys -- promote"'
        : `it becomes current on ${key.notBefore.toISOString()} (or earlier with "npm run keys -- promote")`;
    deps.stdout.write(
      `${verb} the next pin-public-key (${target}) in service "${args.service}"; RSA ${check.value.bits} bits, fingerprint KCV (SHA-256 of SPKI) ${check.value.fingerprint}${validityText(key, deps.now?.() ?? new Date())}; ${when}\n`,
    );
    return;
  }
  if (account === 'ship-key') {
    const check = checkShipKey(value);
    if (!check.ok) throw new CliError(EXIT_CODES.MALFORMED_VALUE, `${account} ${check.reason}. Nothing was stored.`);
    if (givenKcv !== undefined && givenKcv !== check.fingerprint) {
      throw new CliError(
        EXIT_CODES.KCV_MISMATCH,
        'the ship-key does not match --kcv (SHA-256 fingerprint of its SubjectPublicKeyInfo). Check the key and its certificate. Nothing was stored.',
      );
    }
    await store.set(account, `${value.trim()}\n`);
    // The station checks at start that the key belongs to audit.ship.certFile; the fingerprint lets one check now.
    deps.stdout.write(`${verb} ${where}; ${describeShipKey(check)}\n`);
    return;
  }
  const check = checkApiToken(value);
  if (!check.ok) throw new CliError(EXIT_CODES.MALFORMED_VALUE, `${account} ${check.reason}. Nothing was stored.`);
  await store.set(account, value);
  deps.stdout.write(`${verb} ${where} (${check.value.length} characters)\n`);
}
