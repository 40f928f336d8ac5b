/**
 * The import fence (eslint-rules/layers.js with the layers of eslint.config.js), driven through ESLint's API with
 * the repository's own config. Each probe is a file in a layer with one import its layer forbids and one it allows:
 * the forbidden one must be reported by the fence, the allowed one must not.
 */
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const RULE = 'local/layers';

interface Probe {
  /** What it shows. */
  readonly name: string;
  /** A file (which need not exist) from the repository root: it decides the layer. */
  readonly file: string;
  /** An import the layer allows. */
  readonly allowed: string;
  /** The import the fence must refuse. */
  readonly forbidden: string;
}

// Imports that broke docs/architecture.md's rules yet passed the text-matching rules the fence replaced.
const holes: Probe[] = [
  {
    name: "a renderer reaching main through a leading './'",
    file: 'renderer/operator/probe.ts',
    allowed: "import { compileCardIdPattern } from '../../common/card-id';",
    forbidden: "import { Station } from './../../main/core/station';",
  },
  {
    name: 'the core loading electron with await import()',
    file: 'main/core/probe.ts',
    allowed: "import { readFile } from 'node:fs/promises';",
    forbidden: "export const electron = await import('electron');",
  },
  {
    name: 'the core loading electron through createRequire(...)(...)',
    file: 'main/core/probe.ts',
    allowed: "import { createRequire } from 'node:module';",
    forbidden: "export const electron = createRequire(import.meta.url)('electron');",
  },
  {
    name: 'main/crypto importing main/core',
    file: 'main/crypto/probe.ts',
    allowed: "import { StationError } from '../../common/errors';",
    forbidden: "import { Logger } from '../core/log';",
  },
  {
    name: 'the core importing main/admin',
    file: 'main/core/probe.ts',
    allowed: "import { Logger } from './log';",
    forbidden: "import { runAdmin } from '../admin/entry';",
  },
  {
    name: "the core importing the adapter as '../index.ts' (with its extension)",
    file: 'main/core/probe.ts',
    allowed: "import { Logger } from './log';",
    forbidden: "import '../index.ts';",
  },
  {
    name: 'a new preload file importing main',
    file: 'preload/helpers.ts',
    allowed: "import { subscribe } from './bridge';",
    forbidden: "import { Station } from '../main/core/station';",
  },
];

// Imports the old rules caught already, and other forms the fence resolves.
const caught: Probe[] = [
  {
    name: 'a renderer importing main with ../',
    file: 'renderer/pinpad/probe.ts',
    allowed: "import { mount } from 'svelte';",
    forbidden: "import { Station } from '../../main/core/station';",
  },
  {
    name: 'a renderer importing main for types only',
    file: 'renderer/operator/probe.ts',
    allowed: "import type { OperatorView } from '../../common/ipc';",
    forbidden: "import type { Station } from '../../main/core/station';",
  },
  {
    name: 'a renderer re-exporting main',
    file: 'renderer/operator/probe.ts',
    allowed: "export { fill } from '../shared/i18n';",
    forbidden: "export * from '../../main/core/station';",
  },
  {
    name: 'a renderer importing a Node.js built-in without the node: prefix',
    file: 'renderer/shared/probe.ts',
    allowed: "import { StationError } from '../../common/errors';",
    forbidden: "import { readFileSync } from 'fs';",
  },
  {
    name: 'common/ importing a Node.js built-in',
    file: 'common/probe.ts',
    allowed: "import { z } from 'zod';",
    forbidden: "import { createHash } from 'node:crypto';",
  },
  {
    name: 'common/ importing main',
    file: 'common/probe.ts',
    allowed: "import { StationError } from './errors';",
    forbidden: "import type { Station } from '../main/core/station';",
  },
  {
    name: 'the core importing electron statically',
    file: 'main/core/probe.ts',
    allowed: "import { StationError } from '../../common/errors';",
    forbidden: "import { app } from 'electron';",
  },
  {
    name: 'the core loading electron with a require made by createRequire',
    file: 'main/core/audit/probe.ts',
    allowed: "import { createRequire } from 'node:module';\nconst load = createRequire(import.meta.url);",
    forbidden: "export const electron = load('electron');",
  },
  {
    name: 'main/crypto loading electron with require()',
    file: 'main/crypto/probe.ts',
    allowed: "import forge from 'node-forge';",
    forbidden: "export const electron = require('electron');",
  },
  {
    name: 'main/crypto with import x = require()',
    file: 'main/crypto/probe.ts',
    allowed: "import { webcrypto } from 'node:crypto';",
    forbidden: "import electron = require('electron');",
  },
  {
    name: 'the core loading the sandbox with import()',
    file: 'main/core/probe.ts',
    allowed: "import { Logger } from './log';",
    forbidden: "export const emulator = await import('../../sandbox/embedded');",
  },
  {
    name: 'the core importing the Electron adapter',
    file: 'main/core/probe.ts',
    allowed: "import { Logger } from './log';",
    forbidden: "import { CONTENT_SECURITY_POLICY } from '../adapter/csp';",
  },
  {
    name: 'the core naming a module at run time',
    file: 'main/core/probe.ts',
    allowed: "import { Logger } from './log';",
    forbidden: "export const loaded = await import(process.env.MODULE ?? 'x');",
  },
  {
    name: 'a core sub-folder importing the composition root',
    file: 'main/core/staff/probe.ts',
    allowed: "import type { StationConfig } from '../config';",
    forbidden: "import type { StationCore } from '../station-core';",
  },
  {
    name: 'main/admin importing a development tool from scripts/',
    file: 'main/admin/probe.ts',
    allowed: "import { runKeysCli } from './keys/cli';",
    forbidden: "import { run } from '../../scripts/bench/run';",
  },
  {
    name: 'main/admin importing electron',
    file: 'main/admin/probe.ts',
    allowed: "import { requireEntry } from '../core/keystore';",
    forbidden: "import { app } from 'electron';",
  },
  {
    name: 'the adapter importing an admin command (only main/admin/entry.ts runs them)',
    file: 'main/adapter/probe.ts',
    allowed: "import { adminArgs } from '../admin/entry';",
    forbidden: "import { runKeysCli } from '../admin/keys/cli';",
  },
  {
    name: 'the adapter importing the sandbox statically (import() only)',
    file: 'main/index.ts',
    allowed: "export const emulator = await import('../sandbox/embedded');",
    forbidden: "import { startEmbeddedSandbox } from '../sandbox/embedded';",
  },
  {
    name: 'a preload api file importing electron',
    file: 'preload/operator-api.ts',
    allowed: "import type { StationApi } from '../common/ipc';",
    forbidden: "import { ipcRenderer } from 'electron';",
  },
  {
    name: 'the sandbox importing main, even for types',
    file: 'sandbox/probe.ts',
    allowed: "import type { SandboxKeychain } from './provision';",
    forbidden: "import type { KeyStore } from '../main/core/keystore';",
  },
  {
    name: "the core reaching past the audit folder's index",
    file: 'main/core/probe.ts',
    allowed: "import { AuditLog } from './audit';",
    forbidden: "import { AuditLog } from './audit/writer';",
  },
  {
    name: "an admin command reaching past the audit folder's index for a type",
    file: 'main/admin/keys/probe.ts',
    allowed: "import type { ShipKeyCheck } from '../../core/audit/index.ts';",
    forbidden: "import type { ShipKeyCheck } from '../../core/audit/ship-identity';",
  },
  {
    name: 'an import that leaves the repository',
    file: 'main/core/probe.ts',
    allowed: "import { Logger } from './log';",
    forbidden: "import '../../../elsewhere/module';",
  },
];

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: root, overrideConfigFile: join(root, 'eslint.config.js') });
});

/** The fence's findings on a file made of `lines`, by line number (1-based). */
async function fenceLines(file: string, lines: readonly string[]): Promise<number[]> {
  const [result] = await eslint.lintText(`${lines.join('\n')}\n`, { filePath: join(root, file) });
  if (!result) throw new Error('ESLint returned no result');
  expect(result.messages.filter((m) => m.fatal)).toEqual([]);
  return result.messages.filter((m) => m.ruleId === RULE).map((m) => m.line);
}

describe('the import fence', () => {
  for (const [group, probes] of [
    ['refuses the imports that used to pass', holes],
    ['refuses the imports caught before', caught],
  ] as const) {
    describe(group, () => {
      for (const probe of probes) {
        it(
          probe.name,
          async () => {
            const allowedLines = probe.allowed.split('\n');
            const found = await fenceLines(probe.file, [...allowedLines, probe.forbidden]);
            // Only the forbidden import, on the line after the allowed ones.
            expect(found).toEqual([allowedLines.length + 1]);
          },
          60_000,
        );
      }
    });
  }

  it('refuses an import in a Svelte component', async () => {
    const found = await fenceLines('renderer/operator/Probe.svelte', [
      '<script lang="ts">',
      "  import type { OperatorView } from '../../common/ipc';",
      "  import { Station } from './../../main/core/station';",
      '  export const views: OperatorView[] = [];',
      '  export const station = Station;',
      '</script>',
    ]);
    expect(found).toEqual([3]);
  }, 60_000);

  it('reports a file that is in no layer', async () => {
    const [result] = await eslint.lintText("export const unplaced = 'main/ has no such layer';\n", { filePath: join(root, 'main', 'probe.ts') });
    expect(result?.messages.filter((m) => m.ruleId === RULE).map((m) => m.message)).toEqual([
      'main/probe.ts is in no layer of eslint.config.js: put it in a folder a layer names, or add a layer (docs/architecture.md).',
    ]);
  }, 60_000);

  it('accepts a new file in an existing layer without a change to the config', async () => {
    expect(
      await fenceLines('main/core/audit/probe-transport.ts', [
        "import { connect } from 'node:tls';",
        "import type { Logger } from '../log';",
        "import { StationError } from '../../../common/errors';",
        "import { encodePinField } from '../../crypto/pin-field';",
        'export const parts = [connect, StationError, encodePinField];',
        'export type Parts = Logger;',
      ]),
    ).toEqual([]);
  }, 60_000);

  it('names the layer, what was imported and what the layer may import', async () => {
    const [result] = await eslint.lintText("import '../index.ts';\n", { filePath: join(root, 'main', 'core', 'probe.ts') });
    expect(result?.messages.find((m) => m.ruleId === RULE)?.message).toMatch(
      /^main\/core\/ may not import main\/index\.ts: it imports only main\/core\/ except main\/core\/boot\.ts and main\/core\/station-core\.ts, main\/crypto\/, common\/, Node\.js built-ins, /,
    );
  }, 60_000);
});
