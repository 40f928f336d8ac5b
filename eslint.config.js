// ESLint: typescript-eslint and eslint-plugin-svelte, plus the import fence that keeps each process in its lane.
import { readFileSync } from 'node:fs';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import local from './eslint-rules/layers.js';

/** The app's runtime dependencies (package.json), which ship in the installer; electron is not one of them. */
const DEPENDENCIES = Object.keys(JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')).dependencies);

/**
 * The layers: what each folder may import, stated here once (docs/architecture.md, "Folders and what each may
 * import", describes them). A file belongs to the first layer that lists it; a file in none is an error. Paths are
 * from the repository root (`common/` is a folder, `!path` takes a path back out); `node:*` is every Node.js
 * built-in; other names are packages. eslint-rules/layers.js resolves each import before it is matched.
 */
const CORE = ['main/core/', 'main/crypto/', 'common/', 'node:*', ...DEPENDENCIES];
const CORE_ROOTS = ['main/core/boot.ts', 'main/core/station-core.ts'];
const LAYERS = [
  { name: 'common/', files: ['common/'], imports: ['common/', 'zod'] },
  { name: 'renderer/', files: ['renderer/'], imports: ['renderer/', 'common/', 'svelte'] },
  { name: 'a preload entry', files: ['preload/operator.ts', 'preload/pinpad.ts'], imports: ['preload/', 'common/', 'electron'] },
  { name: 'preload/', files: ['preload/'], imports: ['preload/', 'common/'] },
  // The core's composition roots build the rest of main/core, which never imports them.
  { name: "the core's composition root", files: CORE_ROOTS, imports: CORE },
  { name: 'main/core/', files: ['main/core/'], imports: [...CORE, ...CORE_ROOTS.map((root) => `!${root}`)] },
  { name: 'main/crypto/', files: ['main/crypto/'], imports: ['main/crypto/', 'common/', 'node:*', ...DEPENDENCIES] },
  {
    name: 'main/admin/',
    files: ['main/admin/'],
    imports: ['main/admin/', 'main/core/', 'main/crypto/', 'common/', 'node:*', ...DEPENDENCIES],
  },
  {
    // The emulator is a chunk of its own, left out of installers: the adapter may load it only with import().
    name: 'the Electron adapter',
    files: ['main/adapter/', 'main/index.ts'],
    // Of main/admin only its door (the dispatcher and its process wrapper): the commands run through it.
    imports: [
      'main/adapter/',
      'main/index.ts',
      'main/core/',
      'main/crypto/',
      'main/admin/entry.ts',
      'main/admin/process.ts',
      'common/',
      'electron',
      'node:*',
      ...DEPENDENCIES,
    ],
    dynamicImports: ['sandbox/embedded.ts'],
  },
  // node-forge: Node's crypto can read a certificate but not issue one, and the emulator signs the one it provisions.
  {
    name: 'sandbox/',
    files: ['sandbox/'],
    imports: ['sandbox/', 'common/', 'node:*', 'node-forge'],
  },
  { name: 'scripts/', files: ['scripts/'], imports: ['*'] },
  { name: 'test/', files: ['test/'], imports: ['*'] },
  {
    name: 'the build configuration',
    files: ['eslint-rules/', 'eslint.config.js', 'electron.vite.config.ts', 'vitest.config.ts', 'svelte.config.js'],
    imports: ['*'],
  },
];

const BARRELS = ['main/core/audit/'];

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

  // A folder named here is entered only through its index.ts from outside it (tests and development tools, which may
  // import anything, excepted).
  { plugins: { local }, rules: { 'local/layers': ['error', { layers: LAYERS, barrels: BARRELS }] } },
);
