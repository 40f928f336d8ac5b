/**
 * Settings as plain trees (what config.json, a policy file, the registry or a
 * plist hold before validation), and the dotted paths the report and the
 * operator window name them by (`pin.minLength`).
 */
export type SettingValue = string | number | boolean | null | readonly SettingValue[] | SettingTree;
export interface SettingTree {
  readonly [name: string]: SettingValue;
}

export function isTree(value: unknown): value is SettingTree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `policy` over `config`, leaf by leaf: an object merges, anything else (a value, a list) replaces whole. */
export function overlay(base: SettingTree, top: SettingTree): SettingTree {
  const out: Record<string, SettingValue> = { ...base };
  for (const [name, value] of Object.entries(top)) {
    const under = out[name];
    out[name] = isTree(value) && under !== undefined && isTree(under) ? overlay(under, value) : value;
  }
  return out;
}

/** Every leaf's dotted path and value; lists are leaves. */
export function leaves(tree: SettingTree, prefix = ''): [string, SettingValue][] {
  const out: [string, SettingValue][] = [];
  for (const [name, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (isTree(value)) out.push(...leaves(value, path));
    else out.push([path, value]);
  }
  return out;
}

/** True when `tree` sets `path` itself or anything under it. */
export function sets(tree: SettingTree, path: string): boolean {
  let node: SettingValue | undefined = tree;
  for (const name of path.split('.')) {
    if (!isTree(node) || !Object.hasOwn(node, name)) return false;
    node = node[name];
  }
  return true;
}
