import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

const root = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: { index: resolve(root, 'main/index.ts') },
        output: {
          // The processor emulator is imported dynamically and only in a development checkout: its chunk gets a
          // fixed name so electron-builder.yml can leave it out of every installer. (Not manualChunks: that also
          // pulls modules main shares with the emulator into the chunk, which main then imports statically.)
          chunkFileNames: (chunk) =>
            /[\\/]sandbox[\\/]embedded\.ts$/.test(chunk.facadeModuleId ?? '') ? 'chunks/sandbox-emulator-[hash].js' : 'chunks/[name]-[hash].js',
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // Sandboxed preloads may only require('electron'): each one is a single self-contained CommonJS file.
      externalizeDeps: false,
      isolatedEntries: true,
      rollupOptions: {
        input: { operator: resolve(root, 'preload/operator.ts'), pinpad: resolve(root, 'preload/pinpad.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    base: './',
    plugins: [svelte({ configFile: resolve(root, 'svelte.config.js') })],
    build: {
      outDir: resolve(root, 'out/renderer'),
      minify: true,
      // Each page is bundled on its own, so its chunks hold only what that page uses: built together, the two
      // pages shared one chunk of the Svelte runtime with the union of both pages' needs (the operator's form
      // bindings among them), and the pad loaded all of it.
      isolatedEntries: true,
      modulePreload: { polyfill: false },
      rollupOptions: {
        // Each page's own build runs inside one plugin hook, which would otherwise be reported as a slow plugin.
        checks: { bundlerTimings: false },
        input: {
          operator: resolve(root, 'renderer/operator/index.html'),
          pinpad: resolve(root, 'renderer/pinpad/index.html'),
        },
      },
    },
  },
});
