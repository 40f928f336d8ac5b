/**
 * Windows: the policy under HKLM\SOFTWARE\Policies\PINStation, as `reg query
 * <key> /s` prints it. Subkeys are the settings' groups (…\PINStation\pin),
 * value names the settings (minLength). Types: REG_SZ and REG_EXPAND_SZ are
 * text, REG_DWORD and REG_QWORD numbers, REG_MULTI_SZ a list of text; anything
 * else (REG_BINARY, REG_NONE) is refused, naming the value. Booleans are
 * REG_DWORD 0 or 1 and are told apart by the setting's type (coerceToDefaults).
 * The ADMX template in docs/policy writes exactly this layout.
 */
import { StationError } from '../../../common/errors';
import type { SettingTree, SettingValue } from './tree';

export const REGISTRY_POLICY_KEY = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\PINStation';

const VALUE_LINE = /^ {4}(.+?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$/;

function policyError(detail: string): StationError {
  return new StationError('POLICY_INVALID', `${REGISTRY_POLICY_KEY}: ${detail}`);
}

/** Parses `reg query <REGISTRY_POLICY_KEY> /s` output into a settings tree (empty when the key has no values). */
export function parseRegQuery(text: string): SettingTree {
  const root: Record<string, SettingValue> = {};
  let group: Record<string, SettingValue> | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+$/, '');
    if (line === '') continue;
    if (!line.startsWith(' ')) {
      const upper = line.toUpperCase();
      const base = REGISTRY_POLICY_KEY.toUpperCase();
      if (upper !== base && !upper.startsWith(`${base}\\`)) throw policyError(`unexpected key in the output (${line.slice(0, 80)}).`);
      let node: Record<string, SettingValue> = root;
      for (const name of line.slice(REGISTRY_POLICY_KEY.length).split('\\').filter(Boolean)) {
        const next: SettingValue | undefined = node[name];
        if (next !== undefined && (typeof next !== 'object' || next === null || Array.isArray(next))) throw policyError(`${name} is both a value and a key.`);
        const child: Record<string, SettingValue> = (next as Record<string, SettingValue> | undefined) ?? {};
        node[name] = child;
        node = child;
      }
      group = node;
      continue;
    }
    const match = VALUE_LINE.exec(line);
    if (!match || group === null) throw policyError('the registry output could not be read.');
    const [, name, type, data = ''] = match as unknown as [string, string, string, string | undefined];
    if (name === '(Default)') continue; // a key's unnamed value is never a setting
    group[name] = registryValue(name, type, data);
  }
  return root;
}

function registryValue(name: string, type: string, data: string): SettingValue {
  switch (type) {
    case 'REG_SZ':
    case 'REG_EXPAND_SZ':
      return data;
    case 'REG_DWORD':
    case 'REG_QWORD': {
      if (!/^0x[0-9a-fA-F]+$/.test(data)) throw policyError(`${name} (${type}) is not a number.`);
      const value = Number.parseInt(data.slice(2), 16);
      if (!Number.isSafeInteger(value)) throw policyError(`${name} (${type}) is out of range.`);
      return value;
    }
    case 'REG_MULTI_SZ':
      return data === '' ? [] : data.split('\\0');
    default:
      throw policyError(`${name} has type ${type}; use REG_SZ, REG_DWORD or REG_MULTI_SZ.`);
  }
}
