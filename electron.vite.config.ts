import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

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
          'electron-main': resolve(root, 'app/main/electron/main.ts'),
          serve: resolve(root, 'app/main/serve/serve-main.ts'),
          'runtime-host': resolve(root, 'app/main/pool/runtime-host.ts'),
          'scripted.worker': resolve(root, 'app/native-workers/scripted/scripted.worker.ts'),
          'espeak.worker': resolve(root, 'app/native-workers/tts/espeak.worker.ts'),
          'sherpa-vits.worker': resolve(root, 'app/native-workers/tts/sherpa-vits.worker.ts'),
          'piper.worker': resolve(root, 'app/native-workers/piper/piper.worker.ts'),
          'silero-vad.worker': resolve(root, 'app/native-workers/vad/silero-vad.worker.ts'),
          'whisper.worker': resolve(root, 'app/native-workers/stt/whisper.worker.ts'),
          'llama.worker': resolve(root, 'app/native-workers/llm/llama.worker.ts'),
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
    plugins: [react()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      // view.html: the share's viewer page (`/view`), a separate small entry without the app.
      rollupOptions: { input: { index: resolve(root, 'app/renderer/index.html'), view: resolve(root, 'app/renderer/view.html') } },
    },
  },
});
