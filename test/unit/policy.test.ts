/**
 * Managed policy (main/core/policy): the policy beats config.json beats the defaults, validated by the one
 * schema; a policy file anyone but root could change refuses start-up, naming the file and the fix; the
 * Windows registry and macOS plist readers on samples in their own formats, wrong types included; the report;
 * and the ADMX template against the settings it claims to set.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StationError } from '../../common/errors';
import { configSchema } from '../../main/core/config';
import { parsePlistPolicy } from '../../main/core/policy/plist';
import { parseRegQuery } from '../../main/core/policy/registry';
import { resolveSettings } from '../../main/core/policy/resolve';
import { managedPreferencesSource, policyFileSource, registryPolicySource } from '../../main/core/policy/sources';
import type { ProgramRunner } from '../../main/core/policy/sources';
import { PolicyWatcher, policyChanges } from '../../main/core/policy/watch';
import type { PolicySource } from '../../main/core/policy/sources';
import { leaves, sets } from '../../main/core/policy/tree';
import type { SettingTree } from '../../main/core/policy/tree';
import { EXIT_CODES, runPolicyCli } from '../../main/admin/policy/cli';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const me = process.getuid?.() ?? 0;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pin-station-policy-'));
  chmodSync(dir, 0o755);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function refusal(run: () => unknown): StationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StationError);
    return error as StationError;
  }
  throw new Error('expected a refusal');
}

async function asyncRefusal(run: () => Promise<unknown>): Promise<StationError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(StationError);
    return error as StationError;
  }
  throw new Error('expected a refusal');
}

describe('policy over config.json over the defaults', () => {
  const configText = JSON.stringify({ pin: { minLength: 4, maxLength: 8 }, operator: { language: 'ru' }, log: { level: 'debug' } });
  const policy: SettingTree = { pin: { minLength: 6 }, operator: { language: 'kk' }, approval: { require: ['every-set'] } };

  it('a policy value wins, config.json fills the rest, and each setting says where it came from', () => {
    const resolved = resolveSettings(configText, policy, '/etc/pin-station/policy.json');
    expect(resolved.config.pin.minLength).toBe(6);
    expect(resolved.config.pin.maxLength).toBe(8);
    expect(resolved.config.operator.language).toBe('kk');
    expect(resolved.config.approval.require).toEqual(['every-set']);
    const source = (path: string) => resolved.settings.find((setting) => setting.path === path)?.source;
    expect(source('pin.minLength')).toBe('policy');
    expect(source('operator.language')).toBe('policy');
    expect(source('approval.require')).toBe('policy');
    expect(source('pin.maxLength')).toBe('config');
    expect(source('log.level')).toBe('config');
    expect(source('pad.shuffle')).toBe('default');
    expect([...resolved.managed].sort()).toEqual(['approval.require', 'operator.language', 'pin.minLength']);
    // Every setting of the schema is in the report, once.
    const paths = resolved.settings.map((setting) => setting.path);
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths).toEqual(leaves(configSchema.parse({}) as unknown as SettingTree).map(([path]) => path));
  });

  it("a bad policy value is the policy's error (POLICY_INVALID, naming the location and the setting); a bad config value is the config's", () => {
    const policyError = refusal(() => resolveSettings(configText, { pin: { minLength: 'six' } }, '/etc/pin-station/policy.json'));
    expect(policyError.code).toBe('POLICY_INVALID');
    expect(policyError.message).toContain('/etc/pin-station/policy.json');
    expect(policyError.message).toContain('pin.minLength');
    const unknown = refusal(() => resolveSettings('', { pad: { shufle: false } }, 'HKLM'));
    expect(unknown.code).toBe('POLICY_INVALID');
    expect(unknown.message).toContain('pad.shufle');
    const configError = refusal(() => resolveSettings(JSON.stringify({ pin: { maxLength: 99 } }), policy, '/etc/pin-station/policy.json'));
    expect(configError.code).toBe('CONFIG_INVALID');
    expect(configError.message).toContain('pin.maxLength');
  });
});

describe('the Linux policy file: only root may be able to change it', () => {
  const rule = () => ({ ownerUid: me, upTo: dir });
  const write = (value: unknown): string => {
    const file = join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify(value));
    chmodSync(file, 0o644);
    return file;
  };

  it('reads a file owned by the trusted owner and writable only by it; no file is no policy', async () => {
    const file = write({ pin: { minLength: 6, maxLength: 6 } });
    expect(await policyFileSource(file, rule()).read()).toEqual({ pin: { minLength: 6, maxLength: 6 } });
    expect(await policyFileSource(join(dir, 'absent.json'), rule()).read()).toBeNull();
  });

  it('refuses a group-writable file, naming it and the fix', async () => {
    const file = write({});
    chmodSync(file, 0o664);
    const error = await asyncRefusal(() => policyFileSource(file, rule()).read());
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.message).toContain(`${file} is writable by its group (mode 664)`);
    expect(error.message).toContain(`sudo chown root:root "${file}" && sudo chmod 644 "${file}"`);
  });

  it('refuses a world-writable folder above it', async () => {
    const sub = join(dir, 'pin-station');
    mkdirSync(sub);
    const file = join(sub, 'policy.json');
    writeFileSync(file, '{}');
    chmodSync(file, 0o644);
    chmodSync(sub, 0o777);
    const error = await asyncRefusal(() => policyFileSource(file, rule()).read());
    expect(error.message).toContain(`${sub} is writable by everyone (mode 777)`);
  });

  it('refuses a file not owned by root (here: by another user than the trusted one)', async () => {
    const file = write({});
    // Its folder (also ours) is the first thing checked, so that is what the message names.
    const error = await asyncRefusal(() => policyFileSource(file, { ownerUid: me + 1, upTo: dir }).read());
    expect(error.message).toContain(`${dir} is owned by user ${me}, not by root`);
  });

  it('refuses a symbolic link, and a missing file in a folder others can write (they could remove the policy)', async () => {
    const target = write({ pin: { minLength: 6 } });
    const link = join(dir, 'link.json');
    symlinkSync(target, link);
    expect((await asyncRefusal(() => policyFileSource(link, rule()).read())).message).toContain(`${link} is a symbolic link`);
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const error = await asyncRefusal(() => policyFileSource(join(open, 'policy.json'), rule()).read());
    expect(error.message).toContain(`${open} is writable by everyone`);
  });

  it('refuses a file that is not JSON, or not one object', async () => {
    const file = write({});
    writeFileSync(file, '{ "pin": ');
    expect((await asyncRefusal(() => policyFileSource(file, rule()).read())).message).toContain('is not valid JSON');
    writeFileSync(file, '[1]');
    expect((await asyncRefusal(() => policyFileSource(file, rule()).read())).message).toContain('must hold one JSON object');
  });
});

describe('Windows: reg query output', () => {
  // As `reg query HKLM\SOFTWARE\Policies\PINStation /s` prints it (CRLF, four-space columns). Written by hand in
  // that format: no Windows machine is available here to record one.
  const sample = [
    '',
    'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\PINStation',
    '    profile    REG_SZ    iso4',
    '',
    'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\PINStation\\pin',
    '    minLength    REG_DWORD    0x6',
    '    maxLength    REG_SZ    8',
    '    rejectSequences    REG_DWORD    0x0',
    '    denyList    REG_MULTI_SZ    1234\\01111\\09999',
    '',
    'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\PINStation\\audit\\ship',
    '    host    REG_SZ    siem-collector.bank.example',
    '    caFile    REG_EXPAND_SZ    C:\\ProgramData\\PINStation\\collector-ca.pem',
    '',
  ].join('\r\n');

  it('maps keys to groups and values to settings, with the types the settings need', () => {
    const tree = parseRegQuery(sample);
    const resolved = resolveSettings('', tree, 'HKLM\\SOFTWARE\\Policies\\PINStation');
    expect(resolved.config.profile).toBe('iso4');
    expect(resolved.config.pin).toMatchObject({ minLength: 6, maxLength: 8, rejectSequences: false, denyList: ['1234', '1111', '9999'] });
    expect(resolved.config.audit.ship).toMatchObject({
      host: 'siem-collector.bank.example',
      port: 6514,
      caFile: 'C:\\ProgramData\\PINStation\\collector-ca.pem',
    });
  });

  it('wrong types are refused, naming the setting or value', () => {
    const asText = parseRegQuery('HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\PINStation\\pin\r\n    minLength    REG_SZ    six\r\n');
    expect(refusal(() => resolveSettings('', asText, 'HKLM')).message).toContain('pin.minLength');
    const boolAsTwo = parseRegQuery('HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\PINStation\\pad\r\n    shuffle    REG_DWORD    0x2\r\n');
    expect(refusal(() => resolveSettings('', boolAsTwo, 'HKLM')).message).toContain('pad.shuffle');
    const binary = refusal(() => parseRegQuery('HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\PINStation\r\n    profile    REG_BINARY    00FF\r\n'));
    expect(binary.code).toBe('POLICY_INVALID');
    expect(binary.message).toContain('profile has type REG_BINARY');
    expect(() => parseRegQuery('HKEY_LOCAL_MACHINE\\SOFTWARE\\Other\r\n    x    REG_SZ    y\r\n')).toThrow(/unexpected key/);
  });
});

describe('Windows: reading the key fails closed', () => {
  const KEY = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\PINStation';
  const PARENT = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies';
  /** reg.exe as a table: each key's output, or its exit code (1: missing or unreadable, which reg.exe does not tell apart). */
  function reg(answers: Record<string, string | number | Error>): ProgramRunner {
    return async (file, args) => {
      expect(file).toBe('C:\\Windows\\System32\\reg.exe');
      const answer = answers[String(args[1])];
      if (typeof answer === 'string') return answer;
      throw answer instanceof Error ? answer : Object.assign(new Error('reg.exe failed'), { code: answer ?? 1 });
    };
  }
  const parentListing = (subkeys: readonly string[]): string => ['', PARENT, ...subkeys.map((name) => `${PARENT}\\${name}`), ''].join('\r\n');

  it('a key the parent does not list is no policy', async () => {
    expect(await registryPolicySource(reg({ [KEY]: 1, [PARENT]: parentListing(['Microsoft', 'Google']) })).read()).toBeNull();
  });

  it('a key that exists but cannot be read (reg.exe exits 1 as for a missing one) refuses start-up', async () => {
    const error = await asyncRefusal(() => registryPolicySource(reg({ [KEY]: 1, [PARENT]: parentListing(['Microsoft', 'PINStation']) })).read());
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.message).toContain('exists but could not be read');
  });

  it('any other failure refuses start-up: the parent cannot be listed, another exit code, reg.exe missing', async () => {
    const parentFails = await asyncRefusal(() => registryPolicySource(reg({ [KEY]: 1, [PARENT]: 1 })).read());
    expect(parentFails.message).toContain('nor its parent key listed');
    const otherExit = await asyncRefusal(() => registryPolicySource(reg({ [KEY]: 5, [PARENT]: parentListing([]) })).read());
    expect(otherExit.message).toContain('could not be read by reg.exe');
    const missing = Object.assign(new Error('spawn'), { code: 'ENOENT' });
    expect((await asyncRefusal(() => registryPolicySource(reg({ [KEY]: missing, [PARENT]: parentListing([]) })).read())).code).toBe('POLICY_INVALID');
  });

  it('a readable key is parsed', async () => {
    const tree = await registryPolicySource(reg({ [KEY]: `${KEY}\\pin\r\n    minLength    REG_DWORD    0x6\r\n` })).read();
    expect(tree).toEqual({ pin: { minLength: 6 } });
  });
});

describe('macOS: plutil converts the bytes that were checked', () => {
  it('is handed them on stdin, so a file swapped in after the check is never converted', async () => {
    const policy = join(dir, 'app.pinstation.station.plist');
    const body = (minLength: number): string =>
      `<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict><key>pin</key><dict><key>minLength</key><integer>${minLength}</integer><key>maxLength</key><integer>8</integer></dict></dict></plist>\n`;
    writeFileSync(policy, body(6));
    chmodSync(policy, 0o644);
    // A stand-in for plutil (none here) that reads its input as plutil does (a path, or "-" for stdin). The swap
    // happens just before it converts: what an attacker racing the station would aim for.
    const swapped = join(dir, 'swapped.plist');
    writeFileSync(swapped, body(4));
    const plutil = join(dir, 'plutil');
    writeFileSync(plutil, `#!/bin/sh\ncp '${swapped}' '${policy}'\nfor last; do :; done\nif [ "$last" = "-" ]; then cat; else cat "$last"; fi\n`);
    chmodSync(plutil, 0o755);
    const tree = await managedPreferencesSource({ ownerUid: me, upTo: dir }, { path: policy, plutil }).read();
    expect(tree).toEqual({ pin: { minLength: 6, maxLength: 8 } });
  });
});

describe('macOS: managed preferences plist', () => {
  const plistOf = (body: string): string =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n<dict>\n${body}\n</dict>\n</plist>\n`;

  it('dictionaries, integers, booleans and arrays become the settings', () => {
    const tree = parsePlistPolicy(
      plistOf(
        '<key>pin</key><dict><key>minLength</key><integer>6</integer><key>maxLength</key><integer>6</integer><key>rejectRepeated</key><false/></dict>' +
          '<key>approval</key><dict><key>require</key><array><string>every-set</string></array></dict>' +
          '<key>auth</key><dict><key>idleLockMinutes</key><real>2.5</real></dict>',
      ),
      '/Library/Managed Preferences/app.pinstation.station.plist',
    );
    const resolved = resolveSettings('', tree, '/Library/Managed Preferences/app.pinstation.station.plist');
    expect(resolved.config.pin).toMatchObject({ minLength: 6, maxLength: 6, rejectRepeated: false });
    expect(resolved.config.approval.require).toEqual(['every-set']);
    expect(resolved.config.auth.idleLockMinutes).toBe(2.5);
  });

  it('wrong types are refused, naming the setting; dates and data are not settings', () => {
    const location = '/Library/Managed Preferences/app.pinstation.station.plist';
    const text = parsePlistPolicy(plistOf('<key>pin</key><dict><key>maxLength</key><string>abc</string></dict>'), location);
    expect(refusal(() => resolveSettings('', text, location)).message).toContain('pin.maxLength');
    const date = refusal(() => parsePlistPolicy(plistOf('<key>profile</key><date>2026-01-01T00:00:00Z</date>'), location));
    expect(date.message).toContain('profile is a date or data value');
    expect(refusal(() => parsePlistPolicy('<plist><dict><key>x</key>', location)).code).toBe('POLICY_INVALID');
  });
});

describe('npm run policy -- report', () => {
  it('lists every setting with its source, and refuses a policy the station would refuse', async () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ pin: { maxLength: 8 } }));
    const policy = (tree: SettingTree | null): PolicySource => ({ location: '/etc/pin-station/policy.json', read: async () => tree });
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } };
    expect(await runPolicyCli(['report', '--data-dir', dir], { ...io, policySource: policy({ pin: { minLength: 6 } }) })).toBe(EXIT_CODES.OK);
    const text = out.join('');
    expect(text).toContain('policy: /etc/pin-station/policy.json\n');
    expect(text).toMatch(/^pin\.minLength +policy +6$/m);
    expect(text).toMatch(/^pin\.maxLength +config +8$/m);
    expect(text).toMatch(/^pad\.shuffle +default +true$/m);
    expect(text).toContain('1 setting set by the policy.');
    expect(await runPolicyCli(['report', '--data-dir', dir], { ...io, policySource: policy({ pin: { minLength: 'x' } }) })).toBe(EXIT_CODES.POLICY_INVALID);
    expect(err.join('')).toContain('pin.minLength');
  });
});

describe('the ADMX template', () => {
  it('every policy writes a key and value name that is a setting of the station, in the layout the reader reads', () => {
    const admx = readFileSync(join(ROOT, 'docs', 'policy', 'PINStation.admx'), 'utf8');
    const adml = readFileSync(join(ROOT, 'docs', 'policy', 'en-US', 'PINStation.adml'), 'utf8');
    // Optional settings are given a value, so that every setting has a path to check against.
    const defaults = configSchema.parse({
      processor: { caFile: 'c', publicKeySha256: 'ab'.repeat(32) },
      audit: { ship: { host: 'h', caFile: 'c', fingerprintSha256: 'AB'.repeat(32), certFile: 'c' } },
    }) as unknown as SettingTree;
    const policies = [...admx.matchAll(/<policy name="([^"]+)"[^>]*key="([^"]+)"(?: valueName="([^"]+)")?[^>]*>([\s\S]*?)<\/policy>/g)];
    expect(policies.length).toBeGreaterThan(15);
    for (const [, name, key, valueName, body] of policies) {
      const element = /valueName="([^"]+)"/.exec(body ?? '')?.[1];
      const setting = [
        ...(key as string)
          .replace(/^Software\\Policies\\PINStation\\?/, '')
          .split('\\')
          .filter(Boolean),
        (valueName ?? element) as string,
      ].join('.');
      expect(sets(defaults, setting), `${name} -> ${setting}`).toBe(true);
      expect(adml, `${name} has its strings`).toContain(`<string id="${name}">`);
    }
  });
});

describe('the processor key pin', () => {
  it('processor.publicKeySha256 from the policy wins over config.json (a local admin cannot unpin the key)', () => {
    const pinned = 'ab'.repeat(32);
    const resolved = resolveSettings(JSON.stringify({ processor: { publicKeySha256: 'cd'.repeat(32) } }), { processor: { publicKeySha256: [pinned] } }, 'HKLM');
    expect(resolved.config.processor.publicKeySha256).toEqual([pinned]);
    expect(resolved.managed).toContain('processor.publicKeySha256');
  });
});

describe('a conflict between the policy and config.json', () => {
  it("is reported as the config file's, since the file is what the station's own admin can change", () => {
    const error = refusal(() => resolveSettings(JSON.stringify({ pin: { maxLength: 4 } }), { pin: { minLength: 6 } }, '/etc/pin-station/policy.json'));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('pin.minLength');
  });
});

describe('the policy watcher', () => {
  it('records a value becoming enforced, and refuses a policy that disappears while the station runs', async () => {
    let tree: SettingTree | null = { pin: { minLength: 6, maxLength: 6 } };
    const source: PolicySource = { location: '/etc/pin-station/policy.json', read: async () => tree };
    const configText = JSON.stringify({ log: { level: 'debug' } });
    const initial = resolveSettings(configText, tree, source.location);
    const changes: string[][] = [];
    const refusals: string[] = [];
    const watcher = new PolicyWatcher({
      source,
      configText,
      initial,
      intervalMs: 60_000,
      onChange: (next) => changes.push(policyChanges(initial, next)),
      onRefused: (code) => refusals.push(code),
    });
    tree = { pin: { minLength: 6, maxLength: 6 }, log: { level: 'debug' } };
    await watcher.check();
    expect(changes).toEqual([['log.level: "debug" now set by the policy']]);
    tree = null;
    await watcher.check();
    await watcher.check();
    expect(refusals).toEqual(['POLICY_INVALID']);
  });
});

describe('a policy that arrives after the start and is then deleted', () => {
  it('is refused like one the station started with: the settings it brought stay until a restart', async () => {
    let tree: SettingTree | null = null;
    const source: PolicySource = { location: '/etc/pin-station/policy.json', read: async () => tree };
    const configText = JSON.stringify({ pin: { minLength: 4, maxLength: 6 } });
    const initial = resolveSettings(configText, tree, source.location);
    expect(initial.policyLocation).toBeNull();
    const applied: number[] = [];
    const refusals: string[] = [];
    const watcher = new PolicyWatcher({
      source,
      configText,
      initial,
      intervalMs: 60_000,
      onChange: (next) => applied.push(next.config.pin.minLength),
      onRefused: (code) => refusals.push(code),
    });
    tree = { pin: { minLength: 6 } };
    await watcher.check();
    expect(applied).toEqual([6]);
    tree = null;
    await watcher.check();
    expect(refusals).toEqual(['POLICY_INVALID']);
    // The deletion did not hand the settings back to config.json.
    expect(applied).toEqual([6]);
  });
});
