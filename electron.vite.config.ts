import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import { WORKER_ENTRIES } from './app/native-workers/registry';
import { visionModels } from './scripts/vite-vision-models';

const root = import.meta.dirname;

/**
 * Explicit entries: electron-vite only auto-finds src/<scope>/index.*, and the engine has several
 * process entry points (Electron main, headless serve host, runtime host, model workers).
 */
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          'electron-main': resolve(root, 'app/hosts/electron/main.ts'),
          serve: resolve(root, 'app/hosts/serve/serve-main.ts'),
          'runtime-host': resolve(root, 'app/engine/pool/runtime-host.ts'),
          ...Object.fromEntries(Object.values(WORKER_ENTRIES).map((entry) => [entry.buildName, resolve(root, entry.sourcePath)])),
        },
        output: { entryFileNames: '[name].js', format: 'es' },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { preload: resolve(root, 'app/preload/preload.ts') },
        // Sandboxed preloads must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'app/renderer'),
    // The camera's perception models, served from the build itself (scripts/vite-vision-models.ts).
    plugins: [react(), visionModels(resolve(root, 'node_modules/@vladmandic/human'))],
    build: {
      outDir: resolve(root, 'out/renderer'),
      // view.html: the share's viewer page (`/view`), a separate small entry without the app.
      rollupOptions: { input: { index: resolve(root, 'app/renderer/index.html'), view: resolve(root, 'app/renderer/view.html') } },
    },
  },
});
