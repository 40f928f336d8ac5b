/**
 * `npm run keys -- import <pin-key|audit-key> --components 2|3`: PCI PIN Security Requirements' split knowledge
 * and dual control. No custodian sees another's component; each component is proved against its own KCV before
 * the next custodian is asked, so a typo is caught at the custodian who made it. Components and the key are bytes
 * wiped after use (the keychain itself takes a string, as for a whole key). The station's audit trail must be able
 * to take the key-load record before anyone is asked, so a key is never loaded without it.
 */
import { timingSafeEqual } from 'node:crypto';
import { StationError } from '../../../common/errors';
import { auditFilePath, AuditLog, CUSTODIAN_NAME_PATTERN, custodianIdentity } from '../../core/audit';
import type { AuditKeyLoadEntry } from '../../core/audit';
import { stampRecord } from '../../core/station-records';
import { bytesToHex, combineComponents, isAllZero, kcv, kcvMatches, normalizeAesKcv, parseAes256KeyHex } from '../../crypto';
import { clearTerminal, CliError, looksLikeKeyMaterial, pipedLines, readHidden, readTerminal } from '../cli';
import type { CliInput } from '../cli';
import { AES_ACCOUNTS, EXIT_CODES, hiddenOptions, MAX_INPUT_BYTES, normalizeKcv, rejectOptions, requireAccount } from './args';
import type { CliDeps, KeyAccount, ParsedArgs } from './args';
import { dataDirOf, stationKeychain, withTrailLock } from './station';
import { aesHexProblem } from './values';
import type { AesInfo } from './values';

/** Names, components and KCVs: from the terminal (prompts on stderr) or, piped, one line each. */
interface CustodianInput {
  /** A name, echoed (never a run of hex digits that looks like key material); null when the input has ended. */
  name(prompt: string): Promise<string | null>;
  /** A KCV, echoed as a name is; null when the input has ended. */
  kcv(prompt: string): Promise<string | null>;
  /** A component: never echoed; null (or empty) when nothing was read. */
  hidden(prompt: string): Promise<string | null>;
  /** A custodian is done: on a terminal the screen is cleared, then `message` shown. */
  handOver(message: string): void;
  close(): void;
}

/** Longest answer taken at a visible prompt (no name or KCV is that long); more is an error. */
const VISIBLE_MAX_CHARS = 256;
/** What a visible prompt echoes at most: a name needs NAME_CHARS_MAX, a KCV 10 hex digits and a few spaces. */
const NAME_SHOWN_MAX = 64;
const KCV_SHOWN_MAX = 14;

/** The terminal stays in raw mode from the first prompt to the end: nothing typed between prompts is echoed either. */
function terminalInput(deps: CliDeps, account: KeyAccount): CustodianInput {
  const options = { ...hiddenOptions(account), stayRaw: true };
  const visible = (prompt: string, maxShown: number): Promise<string | null> =>
    readTerminal(deps.stdin, deps.stderr, prompt, { ...options, multiline: false, maxChars: VISIBLE_MAX_CHARS, echo: { maxShown } });
  return {
    name: (prompt) => visible(prompt, NAME_SHOWN_MAX),
    kcv: (prompt) => visible(prompt, KCV_SHOWN_MAX),
    hidden: (prompt) => readHidden(deps.stdin, deps.stderr, prompt, options),
    handOver: (message) => {
      // Nothing the last custodian typed or was shown stays on screen for the next.
      clearTerminal(deps.stderr);
      deps.stderr.write(message);
    },
    close: () => void deps.stdin.setRawMode?.(false),
  };
}

/** Piped stdin, line by line (LF or CRLF); no prompt and no echo. */
function pipedInput(stdin: CliInput): CustodianInput {
  const lines = pipedLines(stdin, MAX_INPUT_BYTES, {
    tooLong: () => new CliError(EXIT_CODES.MALFORMED_VALUE, `a line of the input is longer than ${MAX_INPUT_BYTES} characters. Nothing was stored.`),
    unreadable: () => new CliError(EXIT_CODES.INTERNAL, 'stdin could not be read. Nothing was stored.'),
  });
  return { name: () => lines.next(), kcv: () => lines.next(), hidden: () => lines.next(), handOver: () => undefined, close: () => lines.close() };
}

function parseComponentCount(given: string | undefined): 2 | 3 {
  if (given === '2') return 2;
  if (given === '3') return 3;
  throw new CliError(EXIT_CODES.USAGE, '--components must be 2 or 3.');
}

/** AuditLog.check(): the trail can take a record now. Anything else is refused before a prompt. */
async function checkTrail(log: AuditLog, path: string, dataDir: string): Promise<number> {
  try {
    return await log.check();
  } catch (error) {
    if (error instanceof StationError && error.code !== 'KEYCHAIN_UNAVAILABLE') {
      throw new CliError(
        EXIT_CODES.AUDIT_UNAVAILABLE,
        `the audit trail at ${path} cannot take the key-load record (${error.code}): ${error.message} ` +
          `Check it with: npm run audit -- verify --data-dir ${dataDir}. A key is never loaded without its record: nobody was asked for a component and nothing was stored.`,
      );
    }
    throw error;
  }
}

const NAME_CHARS_MAX = 64;

/** The name as recorded: NFC, spaces collapsed and trimmed; refused names are never repeated in a message. */
function checkCustodianName(typed: string | null, n: number, earlier: readonly string[]): string {
  const who = `custodian ${n}`;
  if (typed === null) throw new CliError(EXIT_CODES.MALFORMED_VALUE, `the input ended before ${who}'s name. Nothing was stored.`);
  const name = typed.normalize('NFC').replace(/\s+/g, ' ').trim();
  const refuse = (why: string): never => {
    throw new CliError(EXIT_CODES.CUSTODIAN_REFUSED, `${who}'s name ${why}. Nothing was stored.`);
  };
  if (name.length === 0) refuse('is empty');
  if ([...name].length > NAME_CHARS_MAX) refuse(`is longer than ${NAME_CHARS_MAX} characters`);
  if (!CUSTODIAN_NAME_PATTERN.test(name)) refuse('must be printable characters only');
  // A component or KCV typed at the wrong prompt must not reach the output or the audit trail.
  if (!/\p{L}/u.test(name) || looksLikeKeyMaterial(name)) {
    refuse('looks like a value (digits, or hex like a component), not a name; it was not recorded');
  }
  const same = earlier.findIndex((other) => custodianIdentity(other) === custodianIdentity(name));
  if (same !== -1) refuse(`is the same as custodian ${same + 1}'s: each component needs its own custodian`);
  return name;
}

/** The component's bytes, refused when all zero or equal to an earlier one; the caller wipes them. */
function checkComponent(typed: string | null, account: KeyAccount, n: number, earlier: readonly Uint8Array[]): Uint8Array {
  const what = `custodian ${n}'s component`;
  if (typed === null || typed.length === 0) {
    throw new CliError(EXIT_CODES.MALFORMED_VALUE, `no value was read for ${what} (empty input). Nothing was stored.`);
  }
  const problem = aesHexProblem(typed);
  if (problem !== null) throw new CliError(EXIT_CODES.MALFORMED_VALUE, `${what} ${problem}. Nothing was stored.`);
  const component = parseAes256KeyHex(typed, account);
  const refusal = isAllZero(component)
    ? 'is all zero'
    : earlier.some((other) => timingSafeEqual(other, component))
      ? // Split knowledge is already broken: the components must be made again.
        'is equal to an earlier component; have new components made'
      : null;
  if (refusal !== null) {
    component.fill(0);
    throw new CliError(EXIT_CODES.COMPONENT_REFUSED, `${what} ${refusal}. Nothing was stored.`);
  }
  return component;
}

function checkComponentKcv(typed: string | null, component: Uint8Array, n: number): AesInfo {
  const what = `custodian ${n}'s component`;
  if (typed === null) throw new CliError(EXIT_CODES.MALFORMED_VALUE, `the input ended before the KCV of ${what}. Nothing was stored.`);
  const given = normalizeAesKcv(typed);
  if (given === null) {
    throw new CliError(EXIT_CODES.MALFORMED_VALUE, `the KCV of ${what} must be 10 hex characters (CMAC KCV) or 6 (legacy KCV). Nothing was stored.`);
  }
  if (!kcvMatches(component, given)) {
    throw new CliError(
      EXIT_CODES.COMPONENT_KCV_MISMATCH,
      `${what} does not match its KCV (checked against the CMAC and the legacy KCV); custodian ${n} should check both. Nothing was stored.`,
    );
  }
  const values = kcv(component);
  return { cmac: values.cmac, legacy: values.legacy };
}

export async function runComponentImport(args: ParsedArgs, deps: CliDeps): Promise<void> {
  rejectOptions(args, 'import', ['--service', '--kcv', '--replace', '--components', '--data-dir']);
  const account = requireAccount(args.positional, 'import');
  if (account !== 'pin-key' && account !== 'audit-key') throw new CliError(EXIT_CODES.USAGE, `--components applies only to ${AES_ACCOUNTS.join(' and ')}.`);
  const count = parseComponentCount(args.components);
  if (args.kcv === undefined) {
    throw new CliError(
      EXIT_CODES.KCV_REQUIRED,
      `--kcv is required: the KCV of the whole ${account} the components make (CMAC, 10 hex, or legacy, 6 hex). Nothing was stored.`,
    );
  }
  const keyKcv = normalizeKcv(args.kcv, account);
  const dataDir = dataDirOf(args, deps);
  const trail = auditFilePath(dataDir);
  // The key-load record goes into the station's trail, which has one writer at a time.
  await withTrailLock(dataDir, trail, 'npm run keys -- import --components', { then: 'load the key', nothingDone: 'Nothing was asked or stored.' }, () =>
    loadComponents(args, deps, account, count, keyKcv, dataDir, trail),
  );
}

async function loadComponents(
  args: ParsedArgs,
  deps: CliDeps,
  account: 'pin-key' | 'audit-key',
  count: 2 | 3,
  keyKcv: string,
  dataDir: string,
  trail: string,
): Promise<void> {
  const { config, service, store } = await stationKeychain(args, deps, dataDir, 'Nothing was stored.');
  const existed = (await store.get(account)) !== null;
  if (existed && !args.replace) {
    throw new CliError(EXIT_CODES.ENTRY_EXISTS, `${account} already exists in service "${service}". Use --replace to overwrite it. Nothing was stored.`);
  }
  const log = new AuditLog(trail, store, deps.now ? { now: deps.now } : {});
  const records = await checkTrail(log, trail, dataDir);
  if (account === 'audit-key' && records > 0) {
    throw new CliError(
      EXIT_CODES.AUDIT_UNAVAILABLE,
      `audit-key signs the audit trail at ${trail}, which already has records: with another key they could no longer be verified, ` +
        'and the key-load record could not join their chain. Load audit-key from components before the station writes its first record. Nothing was stored.',
    );
  }
  const auditKeyExisted = (await store.get('audit-key')) !== null;

  const input = deps.stdin.isTTY === true ? terminalInput(deps, account) : pipedInput(deps.stdin);
  const components: Uint8Array[] = [];
  let key: Uint8Array | null = null;
  let entry: AuditKeyLoadEntry;
  const verb = existed ? 'replaced' : 'stored';
  const where = `${account} in service "${service}"`;
  try {
    const custodians: string[] = [];
    const componentKcvs: string[] = [];
    for (let n = 1; n <= count; n++) {
      const name = checkCustodianName(await input.name(`Custodian ${n} of ${count}, your name (shown): `), n, custodians);
      custodians.push(name);
      const hiddenPrompt = `Custodian ${n} of ${count} (${name}), enter your component of ${account} (64 hex characters, input hidden), then press Enter: `;
      components.push(checkComponent(await input.hidden(hiddenPrompt), account, n, components));
      const values = checkComponentKcv(
        await input.kcv(`Custodian ${n} of ${count}, the KCV of your component (10 or 6 hex): `),
        components[n - 1] as Uint8Array,
        n,
      );
      componentKcvs.push(values.cmac);
      input.handOver(n < count ? `Custodian ${n} is done. Custodian ${n + 1} of ${count}, please take over.\n` : `Custodian ${n} is done.\n`);
      deps.stdout.write(`custodian ${n} (${name}): component ${n} matches its KCV; KCV (CMAC) ${values.cmac}, KCV (legacy) ${values.legacy}\n`);
    }
    key = combineComponents(components);
    if (isAllZero(key))
      throw new CliError(EXIT_CODES.COMPONENT_REFUSED, `the ${count} components make an all-zero key; have new components made. Nothing was stored.`);
    if (!kcvMatches(key, keyKcv)) {
      throw new CliError(
        EXIT_CODES.KCV_MISMATCH,
        `the ${account} the ${count} components make does not match --kcv (checked against the CMAC and the legacy KCV), though each component matched its own KCV. ` +
          'Check --kcv and that these are the components of this key. Nothing was stored.',
      );
    }
    const values = kcv(key);
    await store.set(account, bytesToHex(key));
    deps.stdout.write(`${verb} ${where} from ${count} components; KCV (CMAC) ${values.cmac}, KCV (legacy) ${values.legacy}\n`);
    entry = stampRecord(config, {
      type: 'key-load',
      account,
      components: count,
      custodians,
      componentKcvs,
      keyKcv: values.cmac,
      keyKcvLegacy: values.legacy,
    });
  } finally {
    for (const component of components) component.fill(0);
    key?.fill(0);
    input.close();
  }

  let seq: number;
  try {
    seq = (await log.append(entry)).seq;
    await log.flush();
  } catch (error) {
    const why = error instanceof StationError ? ` (${error.code}: ${error.message})` : '';
    throw new CliError(
      EXIT_CODES.AUDIT_RECORD_FAILED,
      `${account} WAS ${verb.toUpperCase()} in service "${service}", but its key-load record could not be written to the audit trail at ${trail}${why}. ` +
        `The key is in the keychain WITHOUT its audit record. Repair the trail (npm run audit -- verify --data-dir ${dataDir}), then either delete the key ` +
        `(npm run keys -- delete ${account} --service ${service}) and load it again, or record this key load by hand with the names and KCVs printed above.`,
    );
  }
  if (!auditKeyExisted && account !== 'audit-key') {
    deps.stdout.write('note: audit-key did not exist; it was created for the audit trail, as the station does for its first record\n');
  }
  deps.stdout.write(`key-load record ${seq} written to the audit trail at ${trail}\n`);
}
