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
import { stat, readFile, realpath } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { StationError } from '../../../common/errors';
import { parsePlistPolicy } from './plist';
import { parseRegQuery, REGISTRY_POLICY_KEY } from './registry';
import { isTree } from './tree';
import type { SettingTree } from './tree';

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

/**
 * The file and each folder above it: owned by `ownerUid`, not writable by group or others. The fix named in
 * the error is the commands an administrator runs.
 */
export async function checkOwnership(path: string, rule: OwnershipRule): Promise<void> {
  const real = await realpath(path);
  const fix = `Fix: sudo chown root:root "${real}" && sudo chmod 644 "${real}" (and the same owner, mode 755, for its folders).`;
  for (let target = real, isFile = true; ; isFile = false) {
    const info = await stat(target);
    if (isFile && !info.isFile()) throw new StationError('POLICY_INVALID', `${path} is not a regular file.`);
    if (info.uid !== rule.ownerUid) {
      throw new StationError(
        'POLICY_INVALID',
        `${target} is owned by user ${info.uid}, not by root: a policy must be writable only by an administrator. ${fix}`,
      );
    }
    if ((info.mode & 0o022) !== 0) {
      throw new StationError(
        'POLICY_INVALID',
        `${target} is writable by ${(info.mode & 0o002) !== 0 ? 'everyone' : 'its group'} (mode ${(info.mode & 0o777).toString(8)}): a policy must be writable only by an administrator. ${fix}`,
      );
    }
    const parent = dirname(target);
    if (parent === target || target === rule.upTo) return;
    target = parent;
  }
}

async function readGuarded(path: string, rule: OwnershipRule): Promise<Buffer | null> {
  try {
    await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StationError('POLICY_INVALID', `${path} cannot be read (${String((error as NodeJS.ErrnoException).code ?? 'error')}).`);
  }
  await checkOwnership(path, rule);
  const data = await readFile(path).catch((error: unknown) => {
    throw new StationError('POLICY_INVALID', `${path} cannot be read (${String((error as NodeJS.ErrnoException).code ?? 'error')}).`);
  });
  if (data.length > MAX_POLICY_BYTES) throw new StationError('POLICY_INVALID', `${path} is larger than 1 MiB.`);
  return data;
}

/** A JSON policy file (Linux, and tests everywhere). */
export function policyFileSource(path: string, rule: OwnershipRule = { ownerUid: 0 }): PolicySource {
  return {
    location: path,
    async read() {
      const data = await readGuarded(path, rule);
      if (data === null) return null;
      let text = data.toString('utf8');
      if (text.startsWith('\uFEFF')) text = text.slice(1);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new StationError('POLICY_INVALID', `${path} is not valid JSON.`);
      }
      if (!isTree(value)) throw new StationError('POLICY_INVALID', `${path} must hold one JSON object of settings.`);
      return value;
    },
  };
}

const run = promisify(execFile);

/** Windows: `reg query` of the policy key (a missing key means no policy). Not testable here: parseRegQuery is. */
export function registryPolicySource(): PolicySource {
  return {
    location: REGISTRY_POLICY_KEY,
    async read() {
      let stdout: string;
      try {
        ({ stdout } = await run('reg.exe', ['query', REGISTRY_POLICY_KEY, '/s'], { windowsHide: true, maxBuffer: MAX_POLICY_BYTES }));
      } catch (error) {
        // reg.exe exits 1 when the key does not exist.
        if ((error as { code?: unknown }).code === 1) return null;
        throw new StationError('POLICY_INVALID', `${REGISTRY_POLICY_KEY} could not be read.`);
      }
      return parseRegQuery(stdout);
    },
  };
}

/** macOS: the managed preferences plist (binary or XML; plutil gives XML). Not testable here: parsePlistPolicy is. */
export function managedPreferencesSource(rule: OwnershipRule = { ownerUid: 0 }): PolicySource {
  return {
    location: MACOS_POLICY_FILE,
    async read() {
      const data = await readGuarded(MACOS_POLICY_FILE, rule);
      if (data === null) return null;
      let xml: string;
      try {
        ({ stdout: xml } = await run('/usr/bin/plutil', ['-convert', 'xml1', '-o', '-', MACOS_POLICY_FILE], { maxBuffer: 4 * MAX_POLICY_BYTES }));
      } catch {
        throw new StationError('POLICY_INVALID', `${MACOS_POLICY_FILE} could not be converted by plutil.`);
      }
      return parsePlistPolicy(xml, MACOS_POLICY_FILE);
    },
  };
}

/** The product's one policy location for this operating system. */
export function osPolicySource(platform: NodeJS.Platform = process.platform): PolicySource {
  if (platform === 'win32') return registryPolicySource();
  if (platform === 'darwin') return managedPreferencesSource();
  return policyFileSource(LINUX_POLICY_FILE);
}
