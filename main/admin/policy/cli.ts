/**
 * Managed policy CLI (docs/admin-guide.md, "Managed policy"): `npm run policy -- report`.
 *
 *   report   every setting with its value and where it came from: the
 *            organisation's policy, the station's config.json, or the default
 *
 * The policy is read from the operating system's fixed location
 * (main/core/policy/sources.ts), exactly as the station reads it, so a policy
 * the station would refuse is refused here too, with the same message.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StationError } from '../../../common/errors';
import { resolveSettings } from '../../core/policy/resolve';
import { osPolicySource } from '../../core/policy/sources';
import type { PolicySource } from '../../core/policy/sources';
import { BASE_EXIT_CODES, CliError, stationDataDir, exitCodesHelp, isEntryPoint, parseCliArgs, runCli } from '../cli';
import type { CliArgs, CliBaseDeps, DataDirDeps } from '../cli';

export const EXIT_CODES = { ...BASE_EXIT_CODES, POLICY_INVALID: 3, CONFIG_INVALID: 4 } as const;
type ExitCodeName = keyof typeof EXIT_CODES;
const EXIT_CODE_HELP: Record<ExitCodeName, string> = {
  OK: 'the report was printed',
  INTERNAL: 'unexpected internal error',
  USAGE: 'usage error',
  POLICY_INVALID: 'the policy cannot be used (the station refuses to start with it): the message names the file or setting and the fix',
  CONFIG_INVALID: "the station's config.json is invalid (the station refuses to start with it)",
};

export interface PolicyCliDeps extends CliBaseDeps, DataDirDeps {
  /** The policy; the operating system's fixed location unless a test gives one. */
  readonly policySource?: PolicySource;
}

export function helpText(): string {
  return `Usage: npm run policy -- report [--data-dir <dir>]

Prints every setting of the station with its value and where it came from:
"policy" (set by your organisation: Linux /etc/pin-station/policy.json,
Windows HKLM\\SOFTWARE\\Policies\\PINStation, macOS managed preferences for
app.pinstation.station), "config" (the station's config.json) or "default".
A policy value cannot be overridden by config.json.

Options:
  --data-dir <dir>   the station's data directory (where config.json is)
  -h, --help         show this text

${exitCodesHelp(EXIT_CODES, EXIT_CODE_HELP)}`;
}

interface ParsedArgs extends CliArgs {
  readonly dataDir: string | undefined;
}

function parseArgs(argv: readonly string[]): ParsedArgs {
  const { help, positional, values } = parseCliArgs(argv, { 'data-dir': 'string' }, EXIT_CODES.USAGE);
  return { help, positional, dataDir: values['data-dir'] };
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

async function runReport(args: ParsedArgs, deps: PolicyCliDeps): Promise<number> {
  if (args.positional.length > 1) throw new CliError(EXIT_CODES.USAGE, 'report takes no arguments. See --help.');
  const dataDir = stationDataDir(args.dataDir, deps);
  const configPath = join(dataDir, 'config.json');
  let configText = '';
  try {
    configText = await readFile(configPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(EXIT_CODES.CONFIG_INVALID, `${configPath} could not be read.`);
  }
  const source = deps.policySource ?? osPolicySource(deps.platform ?? process.platform);
  const resolved = resolveSettings(configText, await source.read(), source.location);
  const width = Math.max(...resolved.settings.map((setting) => setting.path.length));
  deps.stdout.write(`policy: ${resolved.policyLocation ?? `none (${source.location} does not exist)`}\n`);
  deps.stdout.write(`config: ${configText === '' ? `none (${configPath})` : configPath}\n\n`);
  for (const setting of resolved.settings) {
    deps.stdout.write(`${setting.path.padEnd(width)}  ${setting.source.padEnd(7)}  ${show(setting.value)}\n`);
  }
  deps.stdout.write(`\n${resolved.managed.length} setting${resolved.managed.length === 1 ? '' : 's'} set by the policy.\n`);
  return EXIT_CODES.OK;
}

export function runPolicyCli(argv: readonly string[], deps: PolicyCliDeps): Promise<number> {
  return runCli(
    {
      name: 'policy',
      exitCodes: EXIT_CODES,
      parse: parseArgs,
      helpText,
      commands: { report: (args: ParsedArgs) => runReport(args, deps) },
      describeError: (error: unknown) => {
        if (error instanceof StationError && error.code === 'POLICY_INVALID') return { code: EXIT_CODES.POLICY_INVALID, message: error.message };
        if (error instanceof StationError && error.code === 'CONFIG_INVALID') return { code: EXIT_CODES.CONFIG_INVALID, message: error.message };
        return { code: EXIT_CODES.INTERNAL, message: 'an unexpected internal error occurred.' };
      },
    },
    argv,
    deps,
  );
}

export async function main(): Promise<void> {
  process.exitCode = await runPolicyCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
}

if (isEntryPoint(import.meta.url)) void main();
