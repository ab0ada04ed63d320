import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { appRoot } from '../app/engine/app-paths';
import { decodeWavAt } from '../app/engine/lipsync/wav-file';
import { wordErrorRate } from '../app/engine/models/ct2-whisper/wer';
import { workerEntryFor } from '../app/engine/pool/worker-entry';
import { SttRunResultSchema, type LoadSpec } from '../app/shared/worker.contract';
import { ensureWhisperFixture } from '../scripts/fixtures/whisper-fixture';
import { quantile, round3, type BenchResult } from './bench-api';
import { startWorkerThread as startWorker } from '../app/native-workers/worker-thread';
import { requestWorker as request } from '../tests/support/worker-request';

/**
 * Measures the whisper STT worker the way the engine uses it: one worker thread, one utterance per
 * request. Reports model load time, the time from request to final transcript, and the real-time
 * factor (processing time / audio duration). Without `modelPath` it runs the generated fixture model;
 * with a real model it also reports word error rates, and transcribes jfk.wav (11 s of real speech
 * from the shared models folder) when it is there.
 */

export interface MeasureSttOptions {
  /** Measured requests (after one discarded warm-up request). */
  runs?: number;
  /** A whisper.cpp ggml model; the fixture model when absent. */
  modelPath?: string;
  modelName?: string;
  threads?: number;
}

const SAMPLE_RATE_HZ = 16_000;
const JFK_WAV = join(appRoot, '..', 'shared', 'models', 'jfk.wav');
const JFK_TEXT = 'And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.';
const ESPEAK_NG = '/usr/bin/espeak-ng';
/** Utterances the length of a conversational turn (about 2–4 s spoken). */
const UTTERANCES = [
  'Hello there, how are you doing today?',
  'Could you tell me the weather for tomorrow?',
  'I would like to order a large pizza with mushrooms, please.',
];



/** eSpeak NG speech at 16 kHz when the CLI is installed; otherwise a voiced, syllable-like signal. */
function utteranceAudio(text: string): { pcm: Float32Array<ArrayBuffer>; source: string } {
  if (existsSync(ESPEAK_NG)) {
    const wav = execFileSync(ESPEAK_NG, ['--stdout', '-v', 'en-us', text]);
    return { pcm: resampleWav(wav), source: 'espeak-ng speech' };
  }
  const pcm = new Float32Array(text.length * 0.07 * SAMPLE_RATE_HZ);
  for (let i = 0; i < pcm.length; i++) {
    const t = i / SAMPLE_RATE_HZ;
    let voiced = 0;
    for (let harmonic = 1; harmonic <= 8; harmonic++) voiced += Math.sin(2 * Math.PI * 140 * harmonic * t) / harmonic;
    pcm[i] = 0.2 * voiced * Math.max(0, Math.sin(2 * Math.PI * 4 * t));
  }
  return { pcm, source: 'synthetic voiced signal' };
}

const resampleWav = (wav: Buffer): Float32Array<ArrayBuffer> => decodeWavAt(wav, SAMPLE_RATE_HZ);

/** Runs the measurements; metric names follow shared/design/measurement.md. */
export async function measureStt(options: MeasureSttOptions = {}): Promise<BenchResult> {
  const runs = options.runs ?? 5;
  const modelPath = options.modelPath ?? (await ensureWhisperFixture());
  const modelName = options.modelName ?? (options.modelPath ? modelPath : 'fixture whisper ggml (random weights, 32 wide, 1 layer)');
  const spec: LoadSpec = { kind: 'stt', engine: 'whisper', modelName, modelPath, threads: options.threads ?? 1, options: {} };
  const audio = UTTERANCES.map(utteranceAudio);

  const worker = startWorker(workerEntryFor('whisper'));
  try {
    // The worker's own thread start-up (tsx from source) is not model loading: wait for it first.
    await request(worker, { type: 'ping', nonce: 0 }, (reply) => reply.type === 'pong');
    const loadStartedMs = performance.now();
    const ready = await request(worker, { type: 'load', spec }, (reply) => reply.type === 'ready' || reply.type === 'error');
    if (ready.type !== 'ready') throw new Error(`whisper failed to load: ${JSON.stringify(ready)}`);
    const modelLoadMs = performance.now() - loadStartedMs;

    const transcribe = async (requestId: string, pcm: Float32Array<ArrayBuffer>): Promise<{ text: string; elapsedMs: number }> => {
      const startedMs = performance.now();
      const reply = await request(worker, { type: 'run', requestId, input: { kind: 'stt', sampleRateHz: 16000, pcm: pcm.slice(), final: true } }, (r) =>
        (r.type === 'result' || r.type === 'error') && r.requestId === requestId,
      );
      const elapsedMs = performance.now() - startedMs;
      if (reply.type !== 'result') throw new Error(`whisper failed: ${JSON.stringify(reply)}`);
      return { text: SttRunResultSchema.parse(reply.data).text, elapsedMs };
    };

    const finalMs: number[] = [];
    const werSum = { edits: 0, words: 0 };
    let processingMs = 0;
    let audioMs = 0;
    for (let run = -1; run < runs; run++) {
      const index = (run + audio.length) % audio.length;
      const { pcm } = audio[index]!;
      const { text, elapsedMs } = await transcribe(`bench-${run}`, pcm);
      if (run < 0) continue;
      finalMs.push(elapsedMs);
      processingMs += elapsedMs;
      audioMs += (pcm.length * 1000) / SAMPLE_RATE_HZ;
      const { edits, referenceWords } = wordErrorRate(UTTERANCES[index]!, text);
      werSum.edits += edits;
      werSum.words += referenceWords;
    }
    const metrics: Record<string, number> = {
      stt_model_load_ms: round3(modelLoadMs),
      stt_final_ms_p50: round3(quantile(finalMs, 0.5)),
      stt_final_ms_p95: round3(quantile(finalMs, 0.95)),
      stt_rtf: round3(processingMs / audioMs),
    };
    const notes: string[] = [];
    const realSpeech = options.modelPath !== undefined && audio[0]!.source === 'espeak-ng speech';
    if (realSpeech) metrics.stt_utterance_wer = round3(werSum.edits / werSum.words);
    if (options.modelPath !== undefined && existsSync(JFK_WAV)) {
      const jfk = resampleWav(readFileSync(JFK_WAV));
      const jfkMs: number[] = [];
      let jfkText = '';
      for (let run = 0; run < Math.min(runs, 3); run++) {
        const { text, elapsedMs } = await transcribe(`bench-jfk-${run}`, jfk);
        jfkMs.push(elapsedMs);
        jfkText = text;
      }
      metrics.stt_jfk_final_ms_p50 = round3(quantile(jfkMs, 0.5));
      metrics.stt_jfk_rtf = round3(quantile(jfkMs, 0.5) / ((jfk.length * 1000) / SAMPLE_RATE_HZ));
      metrics.stt_jfk_wer = round3(wordErrorRate(JFK_TEXT, jfkText).wer);
      notes.push(`jfk.wav (${(jfk.length / SAMPLE_RATE_HZ).toFixed(1)} s): "${jfkText}"`);
    }
    return {
      models: { stt: `${modelName} via whisper.cpp (smart-whisper compiled at install with -march=native, in-process)` },
      runs,
      metrics,
      notes: [
        `audio: ${audio[0]!.source}, ${UTTERANCES.length} utterances of ${audio.map(({ pcm }) => (pcm.length / SAMPLE_RATE_HZ).toFixed(1)).join(', ')} s; threads ${spec.threads}`,
        'final = request posted → transcript received; rtf = processing time / audio duration over all measured requests',
        'model_load = load posted → ready (file check + whisper.cpp init), after the worker thread is up',
        'the encoder sees the utterance plus 1 s (audio_ctx), not a full 30 s window',
        ...(realSpeech ? ['utterance_wer = word errors / reference words over the measured eSpeak NG utterances'] : []),
        ...notes,
        `load average at the end: ${loadavg()[0]!.toFixed(1)}`,
      ],
    };
  } finally {
    await worker.terminate();
  }
}
