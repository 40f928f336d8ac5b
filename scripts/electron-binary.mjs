// Finds the Electron binary without starting it: ELECTRON_OVERRIDE_DIST_PATH
// first, then the one the electron package downloaded. Returns null when absent.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const MISSING_ELECTRON_MESSAGE =
  'Electron binary not available (set ELECTRON_OVERRIDE_DIST_PATH, or run "npm rebuild electron" with access to the Electron download)';

export function electronBinaryPath() {
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const candidates = [join(override, 'electron'), join(override, 'electron.exe'), join(override, 'Electron.app/Contents/MacOS/Electron')];
    return candidates.find((path) => existsSync(path)) ?? null;
  }
  try {
    const path = createRequire(import.meta.url)('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}
