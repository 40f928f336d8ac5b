/**
 * Watching the managed policy while the station runs. The source is read
 * again every `intervalMs` (a poll works alike for a file, the registry and a
 * plist, and sees an editor's replace-by-rename); a change that resolves
 * (policyChanges) is handed on to be applied between cards, and one that
 * does not (a weakened or invalid policy) is refused once per distinct
 * reason: the station keeps the settings it has, and says so in the trail.
 */
import { StationError, toErrorInfo } from '../../../common/errors';
import type { StationConfig } from '../config';
import type { Logger } from '../log';
import { silentLogger } from '../log';
import { resolveSettings } from './resolve';
import type { ResolvedSettings } from './resolve';
import type { PolicySource } from './sources';

/**
 * Settings the station reads for each card (a setting, or a whole group): a change takes effect at the next card.
 * The rest at the next start. Both the change note (appliesPerCard) and the change itself (perCardConfig) read this.
 */
const PER_CARD = ['pin', 'profile', 'pad.shuffle', 'operator', 'approval'] as const;
/** Settings whose values never go into the trail (none today: keys live in the keychain, not in settings). */
const SECRET_SETTINGS: readonly string[] = [];

export function appliesPerCard(path: string): boolean {
  return PER_CARD.some((setting) => path === setting || path.startsWith(`${setting}.`));
}

/** `current` with the per-card settings taken from `next`; everything else stays as it is until a restart. */
export function perCardConfig(current: StationConfig, next: StationConfig): StationConfig {
  const from = next as unknown as SettingGroup;
  return PER_CARD.reduce((config, setting) => withSetting(config, from, setting.split('.')), current as unknown as SettingGroup) as unknown as StationConfig;
}

type SettingGroup = Readonly<Record<string, unknown>>;

function withSetting(into: SettingGroup, from: SettingGroup, path: readonly string[]): SettingGroup {
  const [key, ...rest] = path as [string, ...string[]];
  return { ...into, [key]: rest.length === 0 ? from[key] : withSetting(into[key] as SettingGroup, from[key] as SettingGroup, rest) };
}

/** "pin.minLength: 4 -> 6 (next card)" for each setting whose value differs. */
export function policyChanges(from: ResolvedSettings, to: ResolvedSettings): string[] {
  const before = new Map(from.settings.map((setting) => [setting.path, setting]));
  const after = new Map(to.settings.map((setting) => [setting.path, setting]));
  const out: string[] = [];
  for (const path of new Set([...before.keys(), ...after.keys()])) {
    const old = JSON.stringify(before.get(path)?.value ?? null);
    const now = JSON.stringify(after.get(path)?.value ?? null);
    const wasManaged = before.get(path)?.source === 'policy';
    const isManaged = after.get(path)?.source === 'policy';
    if (old === now) {
      // The same value, now enforced (or no longer): a change of who decides, also on record.
      if (wasManaged !== isManaged) out.push(`${path}: ${clip(now)} ${isManaged ? 'now set by the policy' : 'no longer set by the policy'}`);
      continue;
    }
    const shown = SECRET_SETTINGS.includes(path) ? '(secret) -> (secret)' : `${clip(old)} -> ${clip(now)}`;
    out.push(`${path}: ${shown} (${appliesPerCard(path) ? 'next card' : 'at the next start'})`);
  }
  return out.slice(0, 200);
}

function clip(text: string): string {
  return text.length > 150 ? `${text.slice(0, 147)}...` : text;
}

export interface PolicyWatcherOptions {
  readonly source: PolicySource;
  /** config.json as read at start: the policy is what is watched, not the file the user can edit. */
  readonly configText: string;
  readonly initial: ResolvedSettings;
  readonly intervalMs: number;
  readonly onChange: (next: ResolvedSettings) => void;
  readonly onRefused: (code: string, location: string) => void;
  readonly log?: Logger;
}

export class PolicyWatcher {
  private timer: NodeJS.Timeout | null = null;
  private last: string;
  private lastRefusal: string | null = null;
  private checking = false;
  /** Whether a valid policy has been read during this run, at start or since: once one has, its removal is refused. */
  private policySeen: boolean;
  private readonly log: Logger;

  constructor(private readonly opts: PolicyWatcherOptions) {
    this.log = opts.log ?? silentLogger;
    this.last = JSON.stringify(opts.initial.settings);
    this.policySeen = opts.initial.policyLocation !== null;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One look at the source (the timer's work; tests may call it). */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const tree = await this.opts.source.read();
      // A policy that disappears while the station runs (deleted, or half-way through a delete-and-recreate) does
      // not hand the settings back to config.json: it is refused, and a restart applies the removal. That holds
      // also for a policy that arrived after the start: its settings are in effect now.
      if (tree === null && this.policySeen) {
        throw new StationError('POLICY_INVALID', `${this.opts.source.location} is gone: the station keeps the policy it has until it restarts.`);
      }
      const next = resolveSettings(this.opts.configText, tree, this.opts.source.location);
      if (tree !== null) this.policySeen = true;
      this.lastRefusal = null;
      const key = JSON.stringify(next.settings);
      if (key === this.last) return;
      this.last = key;
      this.opts.onChange(next);
    } catch (error) {
      const info = toErrorInfo(error);
      if (info.message === this.lastRefusal) return;
      this.lastRefusal = info.message;
      this.log.error('policy.refused', { code: info.code });
      this.opts.onRefused(info.code, this.opts.source.location);
    } finally {
      this.checking = false;
    }
  }
}
