import { parentPort } from 'node:worker_threads';
import { AppError, ErrorCode } from '../shared/errors.contract';
import {
  ToWorkerSchema,
  type FromWorker,
  type LoadSpec,
  type RunInput,
  type VadStreamOutput,
  type VadTune,
} from '../shared/worker.contract';

/** What a run may do while it works. */
export interface RunContext {
  signal: AbortSignal;
  /** Streams a partial result (tokens, partial transcript). */
  emitChunk(data: unknown, transfer?: Transferable[]): void;
  progress(fraction: number, message: string): void;
}

/** A model runtime inside a worker thread: one model, loaded once, one run at a time. */
export interface WorkerEngine {
  load(spec: LoadSpec, progress: (fraction: number, message: string) => void): Promise<Record<string, unknown>>;
  run(input: RunInput, context: RunContext): Promise<{ data: unknown; transfer?: Transferable[] }>;
  /** Per-frame kinds (VAD): one stream per session, opened once, fed frame by frame, answered in order. */
  stream?: WorkerStreams;
  /** Drops per-session state (LLM chat context, VAD stream). */
  release?(sessionId: string): Promise<void> | void;
  unload(): Promise<void>;
}

/** What a streaming engine does with its streams; every call is synchronous and cheap (one frame). */
export interface WorkerStreams {
  open(streamId: string, tune: VadTune): void;
  push(streamId: string, pcm: Float32Array): VadStreamOutput;
  tune(streamId: string, tune: VadTune): void;
  close(streamId: string): void;
}

function post(message: FromWorker, transfer: Transferable[] = []): void {
  parentPort?.postMessage(message, transfer as never);
}

function postError(error: unknown, requestId?: string): void {
  const appError = AppError.from(error);
  post({ type: 'error', requestId, code: appError.code, message: appError.message, recoverable: appError.recoverable });
}

/**
 * Runs the worker side of the protocol on `parentPort` for `engine`. Invalid messages are answered
 * with a typed error and never reach the engine.
 */
export function serveWorker(engine: WorkerEngine): void {
  if (!parentPort) throw new Error('serveWorker must run inside a worker thread');
  const running = new Map<string, AbortController>();
  let loaded = false;

  parentPort.on('message', (raw: unknown) => {
    const parsed = ToWorkerSchema.safeParse(raw);
    if (!parsed.success) {
      const requestId = typeof (raw as { requestId?: unknown })?.requestId === 'string' ? (raw as { requestId: string }).requestId : undefined;
      postError(new AppError(ErrorCode.InvalidMessage, `Worker rejected a message: ${parsed.error.issues[0]?.message ?? 'invalid'}`, true), requestId);
      return;
    }
    const message = parsed.data;
    switch (message.type) {
      case 'ping': {
        const memory = process.memoryUsage();
        post({ type: 'pong', nonce: message.nonce, heapUsedBytes: memory.heapUsed, externalBytes: memory.external });
        return;
      }
      case 'load': {
        const startedMs = performance.now();
        engine
          .load(message.spec, (fraction, text) => post({ type: 'progress', fraction, message: text }))
          .then((info) => {
            loaded = true;
            post({ type: 'ready', loadMs: performance.now() - startedMs, info });
          })
          .catch((error: unknown) => postError(error));
        return;
      }
      case 'run': {
        if (!loaded) {
          postError(new AppError(ErrorCode.ModelMissing, 'The worker has no model loaded yet.', true), message.requestId);
          return;
        }
        const controller = new AbortController();
        running.set(message.requestId, controller);
        const context: RunContext = {
          signal: controller.signal,
          emitChunk: (data, transfer) => {
            if (!controller.signal.aborted) post({ type: 'chunk', requestId: message.requestId, data }, transfer);
          },
          progress: (fraction, text) => post({ type: 'progress', requestId: message.requestId, fraction, message: text }),
        };
        engine
          .run(message.input, context)
          .then(({ data, transfer }) => post({ type: 'result', requestId: message.requestId, data }, transfer))
          .catch((error: unknown) =>
            postError(controller.signal.aborted ? new AppError(ErrorCode.Cancelled, 'The request was cancelled.', true) : error, message.requestId),
          )
          .finally(() => running.delete(message.requestId));
        return;
      }
      case 'cancel':
        running.get(message.requestId)?.abort();
        return;
      case 'stream.open':
      case 'stream.push':
      case 'stream.tune':
      case 'stream.close': {
        const streams = engine.stream;
        try {
          if (!streams) throw new AppError(ErrorCode.InvalidMessage, 'This worker has no streams.', false);
          if (!loaded) throw new AppError(ErrorCode.ModelMissing, 'The worker has no model loaded yet.', true);
          if (message.type === 'stream.open') streams.open(message.streamId, message.tune);
          else if (message.type === 'stream.push') post({ type: 'stream.output', streamId: message.streamId, output: streams.push(message.streamId, message.pcm) });
          else if (message.type === 'stream.tune') streams.tune(message.streamId, message.tune);
          else streams.close(message.streamId);
        } catch (error) {
          const appError = AppError.from(error);
          post({ type: 'error', streamId: message.streamId, code: appError.code, message: appError.message, recoverable: appError.recoverable });
        }
        return;
      }
      case 'release':
        Promise.resolve(engine.release?.(message.sessionId)).catch((error: unknown) => postError(error));
        return;
      case 'unload':
        for (const controller of running.values()) controller.abort();
        engine
          .unload()
          .then(() => {
            loaded = false;
            post({ type: 'unloaded' });
          })
          .catch((error: unknown) => postError(error));
        return;
    }
  });
}
