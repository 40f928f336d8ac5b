// ESLint: typescript-eslint and eslint-plugin-svelte, plus the import rules that keep each
// process in its lane (docs/architecture.md, "Folders and what each may import").
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** An import path (relative, from a file one or two folders deep) that leads into one of `folders`. */
const into = (...folders) => `^(\\.\\./)+(${folders.join('|')})(/|$)`;

const ELECTRON = {
  regex: '^electron$',
  message: 'Only main/index.ts, main/adapter/ and the preload entries import electron; everything else runs and is tested without it.',
};
const NODE = { regex: '^node:', message: 'This code also runs in a renderer: no Node.js modules.' };

/** The import rule for one folder; `allowTypeImports` lets type-only contracts through. */
function layer(files, patterns, { allowTypeImports = false } = {}) {
  return {
    files,
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: patterns.map((p) => ({ ...p, allowTypeImports })) }] },
  };
}

export default tseslint.config(
  { ignores: ['out/', 'dist/', 'node_modules/', 'test-results/', 'bench/', 'docs/screenshots/'] },
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { globals: { ...globals.browser }, parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  { files: ['renderer/**'], languageOptions: { globals: { ...globals.browser } } },

  // Electron stays in the adapter and the preload entries.
  layer(['**/*.ts', '**/*.svelte', '**/*.js', '**/*.mjs'], [ELECTRON]),
  { files: ['main/index.ts', 'main/adapter/**', 'preload/operator.ts', 'preload/pinpad.ts'], rules: { '@typescript-eslint/no-restricted-imports': 'off' } },

  // common/: shared by every process, so nothing process-specific.
  layer(
    ['common/**'],
    [ELECTRON, NODE, { regex: into('main', 'preload', 'renderer', 'sandbox', 'scripts', 'test'), message: 'common/ imports only common/.' }],
  ),

  // renderer/: the pages see only their own code and the shared contract.
  layer(
    ['renderer/**'],
    [ELECTRON, NODE, { regex: into('main', 'preload', 'sandbox', 'scripts', 'test'), message: 'renderer/ imports only renderer/ and common/.' }],
  ),

  // preload/: the bridge and the contract, nothing of main or the pages.
  layer(
    ['preload/*-api.ts', 'preload/bridge.ts'],
    [ELECTRON, NODE, { regex: into('main', 'renderer', 'sandbox', 'scripts', 'test'), message: 'preload/ imports only preload/ and common/.' }],
  ),

  // main/core and main/crypto: plain Node, no Electron, no emulator, no adapter.
  layer(
    ['main/core/**', 'main/crypto/**'],
    [
      ELECTRON,
      {
        regex: into('sandbox', 'renderer', 'preload', 'scripts', 'test'),
        message: 'main/core and main/crypto never import the sandbox, a renderer, a preload or a script.',
      },
      { regex: '^(\\.\\./)+(adapter|index)(/|$)', message: 'The core does not depend on the Electron adapter.' },
    ],
  ),
  {
    files: ['main/core/**', 'main/crypto/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression[source.value=/sandbox\\//]', message: 'main/core and main/crypto never load the sandbox.' },
      ],
    },
  },

  // main/ never imports scripts/, with one exception: main/admin/ is `pin-station --admin`, which runs the admin CLIs
  // (scripts/keys.ts, audit.ts, staff.ts and their cli-common.ts) inside the installed app, because an installed
  // station has no npm and its fuses stop it running as plain Node. main/admin may import only those modules of scripts/.
  // (ESLint's own rule, so it adds to each folder's layer above instead of replacing it.)
  {
    files: ['main/**'],
    ignores: ['main/admin/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: into('scripts'), message: 'main/ imports scripts/ only through main/admin/.' }] }] },
  },
  layer(
    ['main/admin/**'],
    [
      ELECTRON,
      {
        regex: '^(\\.\\./)+scripts/(?!(keys|audit|staff|policy|cli-common)$)',
        message: 'main/admin imports only the admin CLIs of scripts/ (keys, audit, staff, policy, cli-common).',
      },
      { regex: into('sandbox', 'renderer', 'preload', 'test'), message: 'main/admin never imports the sandbox, a renderer, a preload or a test.' },
      { regex: '^(\\.\\./)+(adapter|index)(/|$)', message: 'main/admin runs without Electron: it does not depend on the adapter.' },
    ],
  ),

  // sandbox/: the emulator may use main's contracts as types only (it is left out of installers).
  layer(['sandbox/**'], [ELECTRON, { regex: into('main', 'renderer', 'preload', 'scripts', 'test'), message: 'sandbox/ imports main/ for types only.' }], {
    allowTypeImports: true,
  }),
);
