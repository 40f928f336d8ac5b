/**
 * The station's settings from three sources, strongest first: the managed
 * policy, config.json, the defaults. One schema for all (configSchema): a
 * policy value is validated exactly as the same value in config.json would
 * be, and config.json cannot override it (policy wins leaf by leaf; a list is
 * one leaf). An error names the source of the bad setting: the policy's
 * location (POLICY_INVALID) or the config file (CONFIG_INVALID).
 */
import { StationError } from '../../../common/errors';
import { configSchema, parseConfigText } from '../config';
import type { StationConfig } from '../config';
import { isTree, leaves, overlay, sets } from './tree';
import type { SettingTree, SettingValue } from './tree';
import { withoutBom } from '../json-text';

export type SettingSource = 'policy' | 'config' | 'default';

export interface ResolvedSettings {
  readonly config: StationConfig;
  /** Every setting's dotted path, its value and where it came from, in schema order. */
  readonly settings: readonly { readonly path: string; readonly value: SettingValue; readonly source: SettingSource }[];
  /** The dotted paths the policy sets (what the operator window marks "set by your organisation"). */
  readonly managed: readonly string[];
  /** The policy's location, or null without one. */
  readonly policyLocation: string | null;
}

/** config.json's text as a tree (the same parsing as parseConfigText; an empty file is no settings). */
export function configTree(text: string): SettingTree {
  parseConfigText(text); // the file's own errors first, as CONFIG_INVALID
  const trimmed = withoutBom(text).trim();
  if (trimmed === '') return {};
  const value: unknown = JSON.parse(trimmed);
  return isTree(value) ? value : {};
}

/**
 * Registry and plist values come untyped (a DWORD for a boolean, text for a number): each is converted to the
 * type the same setting has by default, when that conversion is exact; anything else is left for the schema
 * to refuse.
 */
export function coerceToDefaults(policy: SettingTree, defaults: SettingTree = configSchema.parse({}) as unknown as SettingTree): SettingTree {
  const out: Record<string, SettingValue> = {};
  for (const [name, value] of Object.entries(policy)) {
    const model = defaults[name];
    if (isTree(value)) out[name] = coerceToDefaults(value, isTree(model) ? model : {});
    else if (typeof model === 'boolean' && (value === 0 || value === 1)) out[name] = value === 1;
    else if (typeof model === 'number' && typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) out[name] = Number(value);
    else out[name] = value;
  }
  return out;
}

export function resolveSettings(configText: string, policy: SettingTree | null, policyLocation: string | null): ResolvedSettings {
  const fromConfig = configTree(configText);
  const fromPolicy = policy ? coerceToDefaults(policy) : {};
  const merged = overlay(fromConfig, fromPolicy);
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 5).map((issue) => {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key].join('.')) : [issue.path.join('.')];
      // A rule across fields (minLength <= maxLength) is the policy's only when config.json sets none of the group.
      const group = issue.path.slice(0, -1).join('.');
      const crossField = issue.code === 'custom' && group !== '' && sets(fromConfig, group);
      const byPolicy = !crossField && keys.some((path) => path !== '' && sets(fromPolicy, path));
      return { byPolicy, text: `${keys.join(', ') || '(root)'}: ${issue.message}` };
    });
    const policyIssues = issues.filter((issue) => issue.byPolicy);
    if (policyIssues.length > 0 && policyLocation) {
      throw new StationError('POLICY_INVALID', `${policyLocation}: ${policyIssues.map((issue) => issue.text).join('; ')}`);
    }
    throw new StationError('CONFIG_INVALID', issues.map((issue) => issue.text).join('; '));
  }
  const config = result.data;
  const settings = leaves(config as unknown as SettingTree).map(([path, value]) => ({
    path,
    value,
    source: (sets(fromPolicy, path) ? 'policy' : sets(fromConfig, path) ? 'config' : 'default') as SettingSource,
  }));
  return {
    config,
    settings,
    managed: settings.filter((setting) => setting.source === 'policy').map((setting) => setting.path),
    policyLocation: policy ? policyLocation : null,
  };
}
