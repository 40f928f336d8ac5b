/**
 * The web program (tsconfig.web.json: the renderers and common/) has no Node.js types, so code that runs in a page
 * cannot typecheck a call to `process`, `Buffer` or `require`. A package whose types reference Node's (node-forge's
 * do) would bring them in through any import, whatever `types` says: the program's own file list is checked.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = promisify(execFile);

/** Runs tsc; resolves with its output and exit code (a type error is an exit code, not a failure here). */
async function typescript(args: readonly string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(process.execPath, [tsc, ...args], { cwd: root, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, output: failed.stdout ?? '' };
  }
}

describe('the web typecheck', () => {
  it('holds no Node.js types: no file of @types/node is in the program', async () => {
    const { code, output } = await typescript(['--noEmit', '--listFilesOnly', '-p', 'tsconfig.web.json']);
    expect(code).toBe(0);
    const files = output.split('\n').map((line) => line.trim().replaceAll('\\', '/'));
    // The list is the real program: the shared contract and a renderer module are in it.
    expect(files.some((f) => f.endsWith('/common/ipc.ts'))).toBe(true);
    expect(files.some((f) => f.endsWith('/renderer/shared/i18n/index.ts'))).toBe(true);
    expect(files.filter((f) => f.includes('/node_modules/@types/node/'))).toEqual([]);
  }, 300_000);

  it('refuses process, Buffer and require in a module compiled with its options, and accepts the DOM', async () => {
    // Inside the checkout (test-results/ is ignored), so that `types` resolves from the same node_modules.
    mkdirSync(join(root, 'test-results'), { recursive: true });
    const dir = mkdtempSync(join(root, 'test-results', 'web-types-'));
    try {
      const probe = join(dir, 'probe.ts');
      writeFileSync(
        probe,
        [
          'export const title: string = document.title;',
          'export const home = process.env.HOME;',
          "export const bytes = Buffer.from('x');",
          "export const fs: unknown = require('node:fs');",
          '',
        ].join('\n'),
      );
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: join(root, 'tsconfig.web.json'), include: [], files: [probe] }));
      const { code, output } = await typescript(['--noEmit', '--pretty', 'false', '-p', join(dir, 'tsconfig.json')]);
      expect(code).not.toBe(0);
      const errors = output
        .split('\n')
        .filter((line) => line.includes('error TS'))
        .map((line) => line.replace(/^.*probe\.ts/, 'probe.ts').replace(/: error (TS\d+): Cannot find name '(\w+)'.*$/, ' $1 $2'));
      // TS2580/TS2591: "Cannot find name ... install type definitions for node": the names exist only in Node's types.
      expect(errors).toEqual(['probe.ts(2,21) TS2591 process', 'probe.ts(3,22) TS2591 Buffer', 'probe.ts(4,28) TS2591 require']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
