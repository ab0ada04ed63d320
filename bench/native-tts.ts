import { loadavg } from 'node:os';
import { EmbeddedVoice } from '../app/engine/lipsync/embedded-voice';
import { workerEntryFor } from '../app/engine/pool/worker-entry';
import { alignToReference } from '../app/shared/lipsync/reference-alignment';
import { TtsRunResultSchema, type LoadSpec } from '../app/shared/worker.contract';
import { ensureVoiceFixture } from '../scripts/fixtures/voice-fixture';
import { quantile, round3, type BenchResult } from './bench-api';
import { mean, onsetErrorsMs } from './lipsync-metrics';
import { startWorkerThread as startWorker } from '../app/native-workers/worker-thread';
import { requestWorker as request } from '../tests/support/worker-request';

/**
 * Measures the native TTS workers the way the engine uses them: each voice in its own worker
 * thread, one first-clause-sized request at a time. Reports, for the embedded eSpeak NG voice
 * (`tts_*`) and for the generated fixture VITS voice run by sherpa-onnx (`tts_fixture_*`):
 * model load time, time to the first (whole) chunk of audio, and real-time factor. The alignment
 * used for Piper voices is scored against eSpeak's exact timeline of the same clause spoken at other
 * speeds (`tts_align_*`: onset error of each phoneme, and the time the alignment takes).
 */

export interface MeasureTtsOptions {
  /** Requests per voice (after one discarded warm-up request). */
  runs?: number;
  /** Leave out the sherpa fixture voice. */
  skipFixture?: boolean;
}

/** First clauses as the chunker releases them (the Piper measurement speaks the same). */
export const FIRST_CLAUSES = [
  'Sure, let me check that for you.',
  'Hello there!',
  'That is a great question.',
  'Peter Piper picked a peck of pickled peppers.',
  'I think the answer is forty two.',
];
/** The fixture voice only knows its own small lexicon. */
const FIXTURE_CLAUSES = ['Peter Piper picked a peck of pickled peppers.', 'Hello world, this is a test.'];



interface VoiceMeasurement {
  modelLoadMs: number;
  firstChunkMs: number[];
  /** Process CPU time per request (this thread only waits, so it is the worker's): robust to a busy machine. */
  firstChunkCpuMs: number[];
  realTimeFactor: number;
}

async function measureVoice(spec: LoadSpec, clauses: readonly string[], runs: number): Promise<VoiceMeasurement> {
  const worker = startWorker(workerEntryFor(spec.engine));
  try {
    // The worker's own thread start-up (tsx from source) is not model loading: wait for it first.
    await request(worker, { type: 'ping', nonce: 0 }, (reply) => reply.type === 'pong');
    const loadStartedMs = performance.now();
    const ready = await request(worker, { type: 'load', spec }, (reply) => reply.type === 'ready' || reply.type === 'error');
    if (ready.type !== 'ready') throw new Error(`${spec.engine} failed to load: ${JSON.stringify(ready)}`);
    const modelLoadMs = performance.now() - loadStartedMs;

    const firstChunkMs: number[] = [];
    const firstChunkCpuMs: number[] = [];
    let synthesisMs = 0;
    let audioMs = 0;
    for (let run = -1; run < runs; run++) {
      const requestId = `bench-${run}`;
      const text = clauses[(run + clauses.length) % clauses.length]!;
      const startedCpu = process.cpuUsage();
      const startedMs = performance.now();
      const reply = await request(worker, { type: 'run', requestId, input: { kind: 'tts', text } }, (r) =>
        (r.type === 'result' || r.type === 'error') && r.requestId === requestId,
      );
      const elapsedMs = performance.now() - startedMs;
      const cpu = process.cpuUsage(startedCpu);
      if (reply.type !== 'result') throw new Error(`${spec.engine} failed: ${JSON.stringify(reply)}`);
      if (run < 0) continue;
      const result = TtsRunResultSchema.parse(reply.data);
      firstChunkMs.push(elapsedMs);
      firstChunkCpuMs.push((cpu.user + cpu.system) / 1000);
      synthesisMs += elapsedMs;
      audioMs += (result.pcm.length * 1000) / result.sampleRateHz;
    }
    return { modelLoadMs, firstChunkMs, firstChunkCpuMs, realTimeFactor: synthesisMs / audioMs };
  } finally {
    await worker.terminate();
  }
}

interface AlignmentMeasurement {
  onsetErrorsMs: number[];
  alignMs: number[];
}

async function measureAlignment(clauses: readonly string[]): Promise<AlignmentMeasurement> {
  const voice = await EmbeddedVoice.create();
  const errorsMs: number[] = [];
  const alignMs: number[] = [];
  for (const text of clauses) {
    const reference = voice.render(text, { speed: 1 });
    for (const speed of [0.8, 1.25]) {
      const truth = voice.render(text, { speed });
      const startedMs = performance.now();
      const aligned = alignToReference(reference, truth);
      alignMs.push(performance.now() - startedMs);
      errorsMs.push(...onsetErrorsMs(truth.phonemes, aligned.phonemes));
    }
  }
  return { onsetErrorsMs: errorsMs, alignMs };
}

/** Runs the measurements; metric names follow shared/design/measurement.md. */
export async function measureTts(options: MeasureTtsOptions = {}): Promise<BenchResult> {
  const runs = options.runs ?? 10;
  const models: Record<string, string> = { tts: 'eSpeak NG en-us (embedded, Emscripten wasm2js)' };
  const metrics: Record<string, number> = {};

  const espeak = await measureVoice(
    { kind: 'tts', engine: 'espeak', modelName: 'eSpeak NG en-us', threads: 1, options: { voice: 'en-us' } },
    FIRST_CLAUSES,
    runs,
  );
  metrics.tts_model_load_ms = round3(espeak.modelLoadMs);
  metrics.tts_first_chunk_ms_p50 = round3(quantile(espeak.firstChunkMs, 0.5));
  metrics.tts_first_chunk_ms_p95 = round3(quantile(espeak.firstChunkMs, 0.95));
  metrics.tts_first_chunk_cpu_ms_p50 = round3(quantile(espeak.firstChunkCpuMs, 0.5));
  metrics.tts_rtf = round3(espeak.realTimeFactor);

  const alignment = await measureAlignment(FIRST_CLAUSES);
  metrics.tts_align_onset_error_ms_mean = round3(mean(alignment.onsetErrorsMs));
  metrics.tts_align_onset_error_ms_p95 = round3(quantile(alignment.onsetErrorsMs, 0.95));
  metrics.tts_align_ms_p50 = round3(quantile(alignment.alignMs, 0.5));

  if (!options.skipFixture) {
    const fixture = await ensureVoiceFixture();
    models.tts_fixture = 'fixture VITS voice (generated tone table) via sherpa-onnx';
    const sherpa = await measureVoice(
      {
        kind: 'tts',
        engine: 'sherpa-vits',
        modelName: 'fixture VITS voice',
        modelPath: fixture.modelPath,
        threads: 1,
        options: { tokensPath: fixture.tokensPath, lexiconPath: fixture.lexiconPath },
      },
      FIXTURE_CLAUSES,
      runs,
    );
    metrics.tts_fixture_model_load_ms = round3(sherpa.modelLoadMs);
    metrics.tts_fixture_first_chunk_ms_p50 = round3(quantile(sherpa.firstChunkMs, 0.5));
    metrics.tts_fixture_rtf = round3(sherpa.realTimeFactor);
  }

  return {
    models,
    runs,
    metrics,
    notes: [
      'first_chunk = request posted → whole clause audio + phoneme timeline received (the workers return one chunk per clause)',
      'model_load = load posted → ready, after the worker thread is up; includes the warm-up syntheses of eSpeak',
      'rtf = synthesis wall time / audio duration over all measured requests',
      'first_chunk_cpu = process CPU time during the request (the measuring thread only waits): compare it with first_chunk on a busy machine',
      'align = the Piper path (lip-sync alignToReference) carrying the eSpeak timeline at speed 1 onto eSpeak at speeds 0.8 and 1.25 (same voice: an upper bound for neural voices)',
      'from source, tsx transforms the 0.8 MB eSpeak module on import: model load is several times slower than in the build',
      `load average at the end: ${loadavg()[0]!.toFixed(1)}`,
    ],
  };
}
