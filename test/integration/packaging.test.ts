/**
 * Packaging cannot run here (no Electron binary), so the installer config is
 * validated instead: electron-builder's own loader and schema check, plus the
 * security-relevant settings one by one.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

interface BuilderConfig {
  asar?: boolean;
  asarUnpack?: string[];
  files?: (string | { filter?: string[] })[];
  electronFuses?: Record<string, boolean>;
  linux?: { target?: string[] };
  productName?: string;
  win?: { target?: string[]; extraFiles?: unknown };
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

function filePatterns(config: BuilderConfig): string[] {
  return config.files?.flatMap((f) => (typeof f === 'string' ? [f] : (f.filter ?? []))) ?? [];
}

/** Every file under out/ that electron-builder's own matcher would put in the installer, given the config's `files`. */
async function packagedFiles(config: BuilderConfig): Promise<{ packaged: string[]; left: string[] }> {
  const { FileMatcher } = (await import('app-builder-lib/out/fileMatcher.js')) as {
    FileMatcher: new (
      from: string,
      to: string,
      expand: (p: string) => string,
      patterns: string[],
    ) => { createFilter(): (file: string, stat: Stats) => boolean };
  };
  const filter = new FileMatcher(root, root, (pattern) => pattern, filePatterns(config)).createFilter();
  const packaged: string[] = [];
  const left: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else (filter(path, statSync(path)) ? packaged : left).push(relative(root, path));
    }
  };
  walk(join(root, 'out'));
  return { packaged, left };
}

// Text that only the processor emulator's code contains.
const EMULATOR_MARKERS = ['sandbox pinKeyHex must be 64 hex characters', '/sandbox/pin-check', 'ensureSandboxKeys', 'decryptRsaOaepPin'];

describe('the processor emulator stays out of installed builds', () => {
  it('the main bundle has no emulator code; the emulator is one chunk, loaded by a dynamic import', () => {
    const mainBundle = readFileSync(join(root, 'out', 'main', 'index.js'), 'utf8');
    for (const marker of EMULATOR_MARKERS) expect(mainBundle, marker).not.toContain(marker);
    const chunks = readdirSync(join(root, 'out', 'main', 'chunks')).filter((name) => name.startsWith('sandbox-emulator-'));
    expect(chunks).toHaveLength(1);
    const chunk = readFileSync(join(root, 'out', 'main', 'chunks', chunks[0] as string), 'utf8');
    for (const marker of EMULATOR_MARKERS) expect(chunk, marker).toContain(marker);
    expect(mainBundle).toMatch(new RegExp(`await import\\("\\./chunks/${(chunks[0] as string).replace(/[.]/g, '\\.')}"\\)`));
    // The chunk is reached only by that dynamic import: no static import of it (or of anything in it) from main.
    const staticImports = [...mainBundle.matchAll(/^import\s[^;]*?from\s*"([^"]+)"/gm)].map((m) => m[1]);
    expect(staticImports.filter((source) => source?.includes('sandbox-emulator'))).toEqual([]);
    expect(mainBundle.split(`./chunks/${chunks[0] as string}`).length - 1).toBe(1);
  });

  it("electron-builder's file matcher leaves the emulator chunk out, and nothing packaged holds emulator code", async () => {
    expect(existsSync(join(root, 'out', 'main', 'index.js'))).toBe(true);
    const { packaged, left } = await packagedFiles(await loadConfig());
    expect(left).toEqual([expect.stringMatching(/^out\/main\/chunks\/sandbox-emulator-[\w-]+\.js$/)]);
    expect(packaged).toContain('out/main/index.js');
    expect(packaged).toContain('out/preload/pinpad.cjs');
    for (const file of packaged.filter((name) => /\.(c?js|html)$/.test(name))) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const marker of EMULATOR_MARKERS) expect(text.includes(marker), `${file} holds ${marker}`).toBe(false);
    }
  });
});

describe('electron-builder config', () => {
  it("passes electron-builder's schema validation", async () => {
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

  it('packs into an ASAR with keytar and Argon2 unpacked, and ships only the build output', async () => {
    const config = await loadConfig();
    expect(config.asar).toBe(true);
    expect(config.asarUnpack).toContain('**/node_modules/keytar/**');
    expect(config.asarUnpack).toContain('**/node_modules/@node-rs/**');
    // The loader normalises the list into one filter set.
    expect(filePatterns(config)).toEqual(['out/**', 'package.json', '!out/main/chunks/sandbox-emulator-*.js']);
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

describe('the Windows admin wrapper (pin-station --admin on Windows)', () => {
  it('is installed next to the exe and starts it with --admin in the console, waits, and passes its exit code on', async () => {
    const config = await loadConfig();
    expect(config.win?.extraFiles).toEqual([{ from: 'build/win/pin-station-admin.cmd', to: 'pin-station-admin.cmd' }]);
    const text = readFileSync(join(root, 'build', 'win', 'pin-station-admin.cmd'), 'latin1');
    // cmd.exe expects CRLF line ends in a batch file; plain ASCII, so no code page can change a character.
    expect(text).toMatch(/^[\x20-\x7e\r\n]+$/);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const commands = text.split('\r\n').filter((line) => line !== '' && !/^rem( |$)/i.test(line));
    // electron-builder names the Windows exe after productName; the wrapper sits beside it (%~dp0).
    expect(commands).toEqual([
      '@echo off',
      'setlocal',
      'set "ELECTRON_NO_ATTACH_CONSOLE="',
      `"%~dp0${config.productName}.exe" --admin %*`,
      'exit /b %ERRORLEVEL%',
    ]);
  });
});
