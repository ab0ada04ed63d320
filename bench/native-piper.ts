import { loadavg } from 'node:os';
import { devModelsOrSkipReason } from '../app/engine/models/dev-models';
import { PiperVoice } from '../app/native-workers/piper/piper-voice';
import { workerEntryFor } from '../app/engine/pool/worker-entry';
import { AppError, ErrorCode } from '../app/shared/errors.contract';
import type { PhonemeSpan } from '../app/shared/phoneme.contract';
import { TtsRunResultSchema, type LoadSpec } from '../app/shared/worker.contract';
import { quantile, round3, type BenchResult } from './bench-api';
import { FIRST_CLAUSES } from './native-tts';
import { startWorkerThread as startWorker } from '../app/native-workers/worker-thread';
import { requestWorker as request } from '../tests/support/worker-request';

/**
 * Measures the Piper worker (engine "piper", exact phoneme timing) with a real Piper voice — the
 * development voice (en_US joe, medium) unless `modelPath` names another — the way the engine uses
 * it: its own worker thread, one first-clause-sized request at a time. Also exports
 * `synthesizeWithTruth`, the voice with its exact timeline called directly in this thread, for the
 * lip-sync benchmark's ground truth.
 */

export interface MeasurePiperOptions {
  /** Measured requests (after one discarded warm-up request). */
  runs?: number;
  /** A Piper `.onnx` voice (its `.onnx.json` beside it); default: the development voice. */
  modelPath?: string;
  threads?: number;
}

/** The development Piper voice, or why it is unavailable. */
async function devVoice(): Promise<{ modelPath: string } | { skipReason: string }> {
  const dev = await devModelsOrSkipReason();
  return dev.ok ? { modelPath: dev.profile.tts.piperOnnxPath } : { skipReason: dev.skipReason };
}

/**
 * Model load (load posted → ready, after the thread is up; includes the alignment patch when the
 * cache lacks it, and the warm-up), time to the first (whole) chunk, real-time factor. Without a
 * voice it returns no metrics and says why in `notes`.
 */
export async function measurePiper(options: MeasurePiperOptions = {}): Promise<BenchResult> {
  const runs = options.runs ?? 10;
  const located = options.modelPath ? { modelPath: options.modelPath } : await devVoice();
  if (!('modelPath' in located)) return { models: {}, runs: 0, metrics: {}, notes: [`Piper voice skipped: ${located.skipReason}`] };
  const { modelPath } = located;
  const modelName = modelPath.split(/[\\/]/u).pop()!;
  const spec: LoadSpec = { kind: 'tts', engine: 'piper', modelName, modelPath, threads: options.threads ?? 1, options: {} };

  const worker = startWorker(workerEntryFor('piper'));
  try {
    await request(worker, { type: 'ping', nonce: 0 }, (reply) => reply.type === 'pong');
    const loadStartedMs = performance.now();
    const ready = await request(worker, { type: 'load', spec }, (reply) => reply.type === 'ready' || reply.type === 'error');
    if (ready.type !== 'ready') throw new Error(`piper failed to load: ${JSON.stringify(ready)}`);
    const modelLoadMs = performance.now() - loadStartedMs;

    const firstChunkMs: number[] = [];
    let synthesisMs = 0;
    let audioMs = 0;
    let phonemeCount = 0;
    for (let run = -1; run < runs; run++) {
      const requestId = `bench-${run}`;
      const text = FIRST_CLAUSES[(run + FIRST_CLAUSES.length) % FIRST_CLAUSES.length]!;
      const startedMs = performance.now();
      const reply = await request(worker, { type: 'run', requestId, input: { kind: 'tts', text } }, (r) =>
        (r.type === 'result' || r.type === 'error') && r.requestId === requestId,
      );
      const elapsedMs = performance.now() - startedMs;
      if (reply.type !== 'result') throw new Error(`piper failed: ${JSON.stringify(reply)}`);
      if (run < 0) continue;
      const result = TtsRunResultSchema.parse(reply.data);
      firstChunkMs.push(elapsedMs);
      synthesisMs += elapsedMs;
      audioMs += (result.pcm.length * 1000) / result.sampleRateHz;
      phonemeCount += result.phonemes.filter((span) => span.phoneme !== 'sil').length;
    }
    return {
      models: { tts: `Piper ${modelName} (onnxruntime-node, exact durations)` },
      runs,
      metrics: {
        tts_model_load_ms: round3(modelLoadMs),
        tts_first_chunk_ms_p50: round3(quantile(firstChunkMs, 0.5)),
        tts_first_chunk_ms_p95: round3(quantile(firstChunkMs, 0.95)),
        tts_rtf: round3(synthesisMs / audioMs),
      },
      notes: [
        'first_chunk = request posted → whole clause audio + exact phoneme timeline received (one chunk per clause)',
        `model_load = load posted → ready after the thread is up; alignment patch ${String(ready.info.alignedModel)}; includes two warm-up sentences`,
        'rtf = synthesis wall time / audio duration over all measured requests',
        `${phonemeCount} phonemes timed over ${round3(audioMs / 1000)} s of audio`,
        `threads ${spec.threads}; load average at the end: ${loadavg()[0]!.toFixed(1)}`,
      ],
    };
  } finally {
    await worker.terminate();
  }
}

// ---- ground truth for the lip-sync benchmark ----------------------------------------------------

export interface SpeechWithTruth {
  pcm: Float32Array<ArrayBuffer>;
  sampleRateHz: number;
  /** The voice's own timeline: tiles the audio exactly ("sil" for pauses). */
  phonemes: PhonemeSpan[];
}

export interface TruthVoiceOptions {
  /** A Piper `.onnx` voice; default: the development voice. */
  modelPath?: string;
  /** Duration noise (config default 0.8); 0 makes the timing the same on every call. */
  noiseW?: number;
}

const voices = new Map<string, Promise<PiperVoice>>();

function voiceFor(modelPath: string, noiseW: number | undefined): Promise<PiperVoice> {
  const key = `${modelPath}\u0000${noiseW ?? ''}`;
  let voice = voices.get(key);
  if (!voice) {
    voice = PiperVoice.load({ modelPath, ...(noiseW === undefined ? {} : { noiseW }) });
    voices.set(key, voice);
    voice.catch(() => voices.delete(key));
  }
  return voice;
}

/**
 * Speaks `text` with a Piper voice in this thread and returns the audio with its exact phoneme
 * timeline (the durations the voice used for this very audio). The voice loads once per process.
 * Throws AppError model_missing when no voice is given and the development voice is unavailable.
 */
export async function synthesizeWithTruth(text: string, options: TruthVoiceOptions = {}): Promise<SpeechWithTruth> {
  let modelPath = options.modelPath;
  if (!modelPath) {
    const located = await devVoice();
    if (!('modelPath' in located)) throw new AppError(ErrorCode.ModelMissing, located.skipReason, true);
    modelPath = located.modelPath;
  }
  const voice = await voiceFor(modelPath, options.noiseW);
  const { pcm, sampleRateHz, phonemes } = await voice.synthesize(text);
  return { pcm, sampleRateHz, phonemes };
}
