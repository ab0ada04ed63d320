import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';

/**
 * The perception worker's models (app/renderer/vision/perception.worker.ts) as files of the
 * renderer build, under `vision-models/`: the page loads them from its own origin (the `serve`
 * host and Electron's `app://` protocol both serve the build), never from a CDN. Only the models
 * the worker runs are copied (about 11 MB of the package's 28 MB).
 */

/** Where the pages find the models, relative to the page. */
export const VISION_MODELS_PATH = 'vision-models';

/** Face detector, mesh, iris, emotion; hand detector and landmarks. */
const MODELS = ['blazeface', 'facemesh', 'iris', 'emotion', 'handtrack', 'handlandmark-lite'] as const;

function modelFiles(packageDir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const model of MODELS) for (const ext of ['json', 'bin']) files.set(`${model}.${ext}`, join(packageDir, 'models', `${model}.${ext}`));
  return files;
}

/** Emits the models into the build and serves them in dev. */
export function visionModels(packageDir: string): Plugin {
  const files = modelFiles(packageDir);
  return {
    name: 'vision-models',
    generateBundle() {
      for (const [name, path] of files) this.emitFile({ type: 'asset', fileName: `${VISION_MODELS_PATH}/${name}`, source: readFileSync(path) });
    },
    configureServer(server) {
      server.middlewares.use(`/${VISION_MODELS_PATH}/`, (req, res, next) => {
        const path = files.get((req.url ?? '').replace(/^\//, '').split('?')[0]!);
        if (!path) return next();
        res.setHeader('Content-Type', path.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        res.end(readFileSync(path));
      });
    },
  };
}
