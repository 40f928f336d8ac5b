/**
 * Packaging cannot run here (no Electron binary), so the installer config is
 * validated instead: electron-builder's own loader and schema check, plus the
 * security-relevant settings one by one.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

interface BuilderConfig {
  asar?: boolean;
  asarUnpack?: string[];
  files?: (string | { filter?: string[] })[];
  electronFuses?: Record<string, boolean>;
  linux?: { target?: string[] };
  win?: { target?: string[] };
  mac?: { target?: string[]; hardenedRuntime?: boolean };
}

async function loadConfig(): Promise<BuilderConfig> {
  const { getConfig, validateConfiguration } = (await import('app-builder-lib/out/util/config/config.js')) as {
    getConfig(projectDir: string, configPath: string | null, fromOptions: null): Promise<BuilderConfig>;
    validateConfiguration(config: BuilderConfig, logger: unknown): Promise<void>;
  };
  const { DebugLogger } = (await import('builder-util')) as { DebugLogger: new (enabled: boolean) => unknown };
  const config = await getConfig(root, join(root, 'electron-builder.yml'), null);
  await validateConfiguration(config, new DebugLogger(false));
  return config;
}

describe('electron-builder config', () => {
  it('passes electron-builder\'s schema validation', async () => {
    await expect(loadConfig()).resolves.toBeTruthy();
  });

  it('flips the Electron fuses for packaged builds', async () => {
    expect((await loadConfig()).electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
      loadBrowserProcessSpecificV8Snapshot: false,
    });
  });

  it('packs into an ASAR with keytar unpacked, and ships only the build output', async () => {
    const config = await loadConfig();
    expect(config.asar).toBe(true);
    expect(config.asarUnpack).toContain('**/node_modules/keytar/**');
    // The loader normalises the list into one filter set.
    expect(config.files?.flatMap((f) => (typeof f === 'string' ? [f] : (f.filter ?? [])))).toEqual(['out/**', 'package.json']);
  });

  it('targets AppImage and deb, NSIS, and dmg with the hardened runtime', async () => {
    const config = await loadConfig();
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.win?.target).toEqual(['nsis']);
    expect(config.mac).toMatchObject({ target: ['dmg'], hardenedRuntime: true });
  });

  it('a broken config is rejected by the same validation (the check can fail)', async () => {
    const { validateConfiguration } = (await import('app-builder-lib/out/util/config/config.js')) as {
      validateConfiguration(config: unknown, logger: unknown): Promise<void>;
    };
    const { DebugLogger } = (await import('builder-util')) as { DebugLogger: new (enabled: boolean) => unknown };
    await expect(validateConfiguration({ electronFuses: { runAsNode: 'no' } }, new DebugLogger(false))).rejects.toThrow();
  });
});
