/**
 * Where managed policy comes from: the operating system's own place for it,
 * which only an administrator can write. The product reads only these fixed
 * locations (no setting or environment variable moves them); tests hand
 * bootStation a source of their own.
 *
 *   Linux   /etc/pin-station/policy.json (JSON, the config file's schema)
 *   Windows HKLM\SOFTWARE\Policies\PINStation (registry.ts; ADMX in docs/policy)
 *   macOS   /Library/Managed Preferences/app.pinstation.station.plist (plist.ts)
 *
 * A policy file that anyone but its owner could change would let the signed-in
 * user override the bank's settings, so on Linux and macOS the file and every
 * folder above it must be owned by root and not writable by group or others;
 * otherwise the station refuses to start, naming the file and the fix.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StationError } from '../../../common/errors';
import { parsePlistPolicy } from './plist';
import { parseRegQuery, REGISTRY_POLICY_KEY } from './registry';
import { isTree } from './tree';
import type { SettingTree } from './tree';
import { parseJsonText } from '../json-text';

export interface PolicySource {
  /** Where the policy lives, for messages, the report and the audit record. */
  readonly location: string;
  /** The policy's settings, or null when there is none. Throws POLICY_INVALID. */
  read(): Promise<SettingTree | null>;
}

export const LINUX_POLICY_FILE = '/etc/pin-station/policy.json';
export const MACOS_BUNDLE_ID = 'app.pinstation.station';
export const MACOS_POLICY_FILE = `/Library/Managed Preferences/${MACOS_BUNDLE_ID}.plist`;
const MAX_POLICY_BYTES = 1024 * 1024;

export interface OwnershipRule {
  /** The only owner a policy file and its folders may have: root (0) in the product. */
  readonly ownerUid: number;
  /** The last folder checked going up: "/" in the product; a test's own temporary folder in tests. */
  readonly upTo?: string;
}

type Stat = { readonly uid: number; readonly mode: number };

function fixFor(path: string): string {
  return `Fix: sudo chown root:root "${path}" && sudo chmod 644 "${path}" (and the same owner, mode 755, for its folders).`;
}

/** One file or folder: owned by `ownerUid`, not writable by group or others. */
function checkOne(target: string, info: Stat, rule: OwnershipRule, fix: string): void {
  if (info.uid !== rule.ownerUid) {
    throw new StationError('POLICY_INVALID', `${target} is owned by user ${info.uid}, not by root: a policy must be writable only by an administrator. ${fix}`);
  }
  if ((info.mode & 0o022) !== 0) {
    throw new StationError(
      'POLICY_INVALID',
      `${target} is writable by ${(info.mode & 0o002) !== 0 ? 'everyone' : 'its group'} (mode ${(info.mode & 0o777).toString(8)}): a policy must be writable only by an administrator. ${fix}`,
    );
  }
}

/**
 * Each folder from `dir` up (to `rule.upTo`, or "/"): whoever could write one of them could replace the policy
 * in it, or remove it. Folders that do not exist are skipped (their parent is checked).
 */
async function checkFolders(dir: string, rule: OwnershipRule, fix: string): Promise<void> {
  for (let target = dir; ; target = dirname(target)) {
    try {
      checkOne(target, await lstat(target), rule, fix);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (dirname(target) === target || target === rule.upTo) return;
  }
}

/**
 * The policy's bytes, read through one handle that was checked: the path may not be a symbolic link (O_NOFOLLOW),
 * the open file must be a regular file owned by `ownerUid` and not writable by group or others (fstat of that
 * same handle, so nothing can be swapped in between), and so must every folder above it, also when there is no
 * file (a folder others can write would let them remove the policy).
 */
async function readGuarded(path: string, rule: OwnershipRule): Promise<Buffer | null> {
  const fix = fixFor(path);
  await checkFolders(dirname(path), rule, fix);
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new StationError('POLICY_INVALID', `${path} is a symbolic link: the policy must be the file itself. ${fix}`);
    throw new StationError('POLICY_INVALID', `${path} cannot be read (${String(code ?? 'error')}).`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new StationError('POLICY_INVALID', `${path} is not a regular file.`);
    checkOne(path, info, rule, fix);
    if (info.size > MAX_POLICY_BYTES) throw new StationError('POLICY_INVALID', `${path} is larger than 1 MiB.`);
    return await handle.readFile();
  } catch (error) {
    if (error instanceof StationError) throw error;
    throw new StationError('POLICY_INVALID', `${path} cannot be read (${String((error as NodeJS.ErrnoException).code ?? 'error')}).`);
  } finally {
    await handle.close();
  }
}

/** A JSON policy file (Linux, and tests everywhere). */
export function policyFileSource(path: string, rule: OwnershipRule = { ownerUid: 0 }): PolicySource {
  return {
    location: path,
    async read() {
      const data = await readGuarded(path, rule);
      if (data === null) return null;
      let value: unknown;
      try {
        value = parseJsonText(data.toString('utf8'));
      } catch {
        throw new StationError('POLICY_INVALID', `${path} is not valid JSON.`);
      }
      if (!isTree(value)) throw new StationError('POLICY_INVALID', `${path} must hold one JSON object of settings.`);
      return value;
    },
  };
}

/** Runs a program and resolves with its standard output; `input` goes to its stdin. A non-zero exit rejects, `code` the exit code. */
export type ProgramRunner = (
  file: string,
  args: readonly string[],
  options: { readonly input?: Buffer; readonly maxBuffer: number; readonly cwd?: string },
) => Promise<string>;

const runProgram: ProgramRunner = (file, args, { input, maxBuffer, cwd }) =>
  new Promise((resolvePromise, rejectPromise) => {
    const child = execFile(file, [...args], { windowsHide: true, maxBuffer, encoding: 'utf8', ...(cwd ? { cwd } : {}) }, (error, stdout) =>
      error ? rejectPromise(error) : resolvePromise(stdout),
    );
    // A program that exits before reading all of its input is judged by its exit code, not by the broken pipe.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? Buffer.alloc(0));
  });

/** Not from %SystemRoot% or PATH: both come from whoever starts the app. */
const REG_EXE = 'C:\\Windows\\System32\\reg.exe';
const REGISTRY_POLICIES_PARENT = REGISTRY_POLICY_KEY.slice(0, REGISTRY_POLICY_KEY.lastIndexOf('\\'));

/** The exit code of a failed run, or null when the program did not run or was killed. */
function exitCodeOf(error: unknown): number | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : null;
}

/**
 * Windows: `reg query` of the policy key. reg.exe exits 1 both when the key does not exist and when it cannot be
 * read (access denied, a damaged hive), and tells them apart only in a message in the system's language. So a
 * failure means "no policy" only when the parent key lists no PINStation subkey; anything else refuses start-up
 * (fail closed): a policy that exists but cannot be read must not turn into config.json's settings.
 * Not testable against a real registry here: the runner is a parameter, and parseRegQuery is tested on samples.
 */
export function registryPolicySource(run: ProgramRunner = runProgram): PolicySource {
  const query = (key: string, extra: readonly string[]): Promise<string> =>
    // A fixed path: a bare "reg.exe" is looked for in the current folder and PATH, which the user controls.
    run(REG_EXE, ['query', key, ...extra], { maxBuffer: MAX_POLICY_BYTES, cwd: 'C:\\Windows\\System32' });
  const unreadable = (why: string): StationError =>
    new StationError(
      'POLICY_INVALID',
      `${REGISTRY_POLICY_KEY} ${why}: the station does not start without the policy it may hold. Check that the key exists only as written by Group Policy and that Users may read it.`,
    );
  return {
    location: REGISTRY_POLICY_KEY,
    async read() {
      let failure: unknown;
      try {
        return parseRegQuery(await query(REGISTRY_POLICY_KEY, ['/s']));
      } catch (error) {
        if (error instanceof StationError) throw error;
        failure = error;
      }
      if (exitCodeOf(failure) !== 1) throw unreadable('could not be read by reg.exe');
      let parent: string;
      try {
        parent = await query(REGISTRY_POLICIES_PARENT, []);
      } catch {
        throw unreadable('could not be read by reg.exe, nor its parent key listed');
      }
      // Key names are not translated: the parent's list says whether the key exists, in any language.
      const listed = parent.split(/\r?\n/).some((line) => line.trim().toUpperCase() === REGISTRY_POLICY_KEY.toUpperCase());
      if (listed) throw unreadable('exists but could not be read by reg.exe');
      return null;
    },
  };
}

export interface ManagedPreferencesOptions {
  /** The plist: MACOS_POLICY_FILE in the product; a test's own file in tests. */
  readonly path?: string;
  /** plutil: /usr/bin/plutil in the product; a stand-in in tests (there is no plutil here). */
  readonly plutil?: string;
}

/**
 * macOS: the managed preferences plist (binary or XML; plutil gives XML). plutil is handed the bytes that were
 * read through the checked handle, on its stdin, never the path: a file swapped in after the check is never read.
 */
export function managedPreferencesSource(
  rule: OwnershipRule = { ownerUid: 0 },
  options: ManagedPreferencesOptions = {},
  run: ProgramRunner = runProgram,
): PolicySource {
  const path = options.path ?? MACOS_POLICY_FILE;
  return {
    location: path,
    async read() {
      const data = await readGuarded(path, rule);
      if (data === null) return null;
      let xml: string;
      try {
        xml = await run(options.plutil ?? '/usr/bin/plutil', ['-convert', 'xml1', '-o', '-', '-'], { input: data, maxBuffer: 4 * MAX_POLICY_BYTES });
      } catch {
        throw new StationError('POLICY_INVALID', `${path} could not be converted by plutil.`);
      }
      return parsePlistPolicy(xml, path);
    },
  };
}

/** The product's one policy location for this operating system. */
export function osPolicySource(platform: NodeJS.Platform = process.platform): PolicySource {
  if (platform === 'win32') return registryPolicySource();
  if (platform === 'darwin') return managedPreferencesSource();
  return policyFileSource(LINUX_POLICY_FILE);
}
