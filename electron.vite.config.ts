import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

const shared = { '@shared': resolve(import.meta.dirname, 'src-shared') };

export default defineConfig({
  main: {
    resolve: { alias: shared },
    build: {
      outDir: 'out/main',
      // Dependencies stay in node_modules (externalised), so the headless CLI runs on plain Node
      // from the same build as the Electron entry. The three entries share chunks; only index.ts may
      // import `electron` (checked by test/integration/cli-build.test.ts).
      externalizeDeps: true,
      rollupOptions: {
        input: {
          index: resolve(import.meta.dirname, 'src-main/index.ts'),
          cli: resolve(import.meta.dirname, 'src-main/cli.ts'),
          // The request log's worker thread, loaded by path (see src-main/services/request-log/thread.ts).
          'request-log-worker': resolve(import.meta.dirname, 'src-main/services/request-log/worker.ts'),
        },
        // Rollup names a shared chunk after one of its modules, which says little of what it holds
        // (the code all three entries share was `lifeline-….js`).
        output: { chunkFileNames: 'chunks/shared-[hash].js' },
      },
    },
  },
  preload: {
    resolve: { alias: shared },
    build: {
      outDir: 'out/preload',
      // A sandboxed preload cannot load other files: it is one CommonJS file with only `electron`
      // left external (everything from src-shared is bundled in).
      externalizeDeps: false,
      rollupOptions: {
        input: { preload: resolve(import.meta.dirname, 'src-main/preload.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(import.meta.dirname, 'src-renderer'),
    resolve: { alias: shared },
    plugins: [vue()],
    build: {
      outDir: resolve(import.meta.dirname, 'out/renderer'),
      rollupOptions: { input: resolve(import.meta.dirname, 'src-renderer/index.html') },
    },
  },
});
