import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { devModelsOrSkipReason } from '../../app/main/models/dev-models';
import { workerEntryFor } from '../../app/native-workers/registry';
import { FromWorkerSchema, type FromWorker, type ToWorker } from '../../app/shared/worker.contract';

/**
 * The whisper worker on the development model (tiny.en converted from CTranslate2 by our converter):
 * the pre-load check accepts a real file and whisper.cpp loads it. Transcription quality on this model
 * is covered by dev-models-whisper.test.ts; a transcription here would take over a minute with the
 * prebuilt (scalar) binding on a shared machine.
 */
const dev = await devModelsOrSkipReason();

function startSourceWorker(entry: string): Worker {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(pathToFileURL(entry).href)}); })`;
  return new Worker(code, { eval: true });
}

function send(worker: Worker, message: ToWorker, accept: (reply: FromWorker) => boolean): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const onMessage = (raw: unknown): void => {
      const reply = FromWorkerSchema.parse(raw);
      if (!accept(reply)) return;
      worker.off('message', onMessage);
      resolve(reply);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.postMessage(message);
  });
}

describe.skipIf(!dev.ok)(`whisper worker on the dev tiny.en model${dev.ok ? '' : ` (SKIPPED: ${dev.skipReason})`}`, () => {
  let worker: Worker | undefined;
  afterAll(async () => worker?.terminate());

  it('checks and loads the converted model, then unloads it', async () => {
    if (!dev.ok) return;
    const modelPath = dev.profile.stt.whisperGgmlPath;
    worker = startSourceWorker(workerEntryFor('whisper'));
    const ready = await send(worker, { type: 'load', spec: { kind: 'stt', engine: 'whisper', modelName: 'tiny.en (dev)', modelPath, threads: 2, options: {} } }, (reply) =>
      reply.type === 'ready' || reply.type === 'error',
    );
    expect(ready).toMatchObject({ type: 'ready', info: { modelPath, weightType: 'f16', layers: 4, width: 384, multilingual: false, language: 'en' } });
    expect(await send(worker, { type: 'unload' }, (reply) => reply.type === 'unloaded' || reply.type === 'error')).toEqual({ type: 'unloaded' });
  });
});
