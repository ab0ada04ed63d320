import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FromWorkerSchema, type FromWorker, type ToWorker } from '../shared/worker.contract';

/**
 * Starts a model worker thread. A built entry (`.js`) starts as it is; a source entry (`.ts`) needs
 * tsx registered inside the thread itself, because `--import` in execArgv does not reach a worker's entry.
 */
export function startWorkerThread(entry: string): Worker {
  if (!entry.endsWith('.ts')) return new Worker(entry);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const code =
    `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(pathToFileURL(entry).href)}); })` +
    `.catch((error) => { console.error(error); process.exit(1); });`;
  return new Worker(code, { eval: true });
}

/**
 * Posts `message` and resolves with the first validated reply that `accept` takes; `onReply` sees
 * every validated reply before that (streamed chunks, progress).
 */
export function requestWorker(
  worker: Worker,
  message: ToWorker,
  accept: (reply: FromWorker) => boolean,
  onReply?: (reply: FromWorker) => void,
): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const onMessage = (raw: unknown): void => {
      const reply = FromWorkerSchema.parse(raw);
      onReply?.(reply);
      if (!accept(reply)) return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      resolve(reply);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.postMessage(message);
  });
}
