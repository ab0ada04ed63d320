import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { keepNativeRuntimesOffline } from './offline-env';

/**
 * Starts a model worker thread. A built entry (`.js`) starts as it is; a source entry (`.ts`) needs
 * tsx registered inside the thread itself, because `--import` in execArgv does not reach a worker's entry.
 */
export function startWorkerThread(entry: string): Worker {
  // A worker may load a native runtime: its process must have the offline environment first.
  keepNativeRuntimesOffline();
  if (!entry.endsWith('.ts')) return new Worker(entry);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const code =
    `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(pathToFileURL(entry).href)}); })` +
    `.catch((error) => { console.error(error); process.exit(1); });`;
  return new Worker(code, { eval: true });
}
