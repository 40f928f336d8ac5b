/**
 * macOS: managed preferences for the app's bundle ID, as an XML property list
 * (`plutil -convert xml1` turns a binary one into this). A dictionary is a
 * settings group, <string> text, <integer>/<real> numbers, <true/>/<false/>
 * booleans, <array> a list. <date> and <data> are refused, naming the key.
 * Parsed with the `plist` package (the XML property-list parser electron-builder
 * itself uses), not by hand.
 */
import plist from 'plist';
import { StationError } from '../../../common/errors';
import type { SettingTree, SettingValue } from './tree';

export function parsePlistPolicy(xml: string, location: string): SettingTree {
  let value: unknown;
  try {
    value = plist.parse(xml);
  } catch {
    throw new StationError('POLICY_INVALID', `${location} is not a readable property list.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date || Buffer.isBuffer(value)) {
    throw new StationError('POLICY_INVALID', `${location} must hold a dictionary of settings.`);
  }
  return toTree(value as Record<string, unknown>, location, '');
}

function toTree(dict: Record<string, unknown>, location: string, prefix: string): SettingTree {
  const out: Record<string, SettingValue> = {};
  for (const [name, value] of Object.entries(dict)) out[name] = toValue(value, location, prefix ? `${prefix}.${name}` : name);
  return out;
}

function toValue(value: unknown, location: string, path: string): SettingValue {
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (Array.isArray(value)) return value.map((item, index) => toValue(item, location, `${path}[${index}]`));
  if (value instanceof Date || Buffer.isBuffer(value) || value instanceof Uint8Array) {
    throw new StationError('POLICY_INVALID', `${location}: ${path} is a date or data value; settings are text, numbers, booleans, lists or dictionaries.`);
  }
  if (typeof value === 'object') return toTree(value as Record<string, unknown>, location, path);
  throw new StationError('POLICY_INVALID', `${location}: ${path} has a value that is not a setting.`);
}
