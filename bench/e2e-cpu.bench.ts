import { loadavg } from 'node:os';
import { createEngine, type EngineInstance } from '../app/engine/create-engine';
import type { EngineConfig } from '../app/engine/engine-config';
import { resolveProfile } from '../app/engine/model-profile';
import { turnDetectionOverrides } from './bench-api';
import { EmbeddedVoice } from '../app/engine/lipsync/embedded-voice';
import { joinReplies, MIC_RATE_HZ, resample, SpokenTurnClient, type SpokenTurn } from '../app/hosts/cli/spoken-turn';
import { wordErrorRate } from '../app/engine/models/ct2-whisper/wer';
import { devModelsOrSkipReason } from '../app/engine/models/dev-models';
import { speakableText } from '../app/engine/pipeline/speakable-text';
import { workerEntryFor } from '../app/engine/pool/worker-entry';
import { startWorkerThread } from '../app/native-workers/worker-thread';
import { requestWorker } from '../tests/support/worker-request';
import { SttRunResultSchema } from '../app/shared/worker.contract';
import { quantile, round3, type Benchmark, type BenchResult } from './bench-api';

/**
 * `npm run bench -- e2e_cpu [--runs 12] [--chunking 0]`: spoken questions (eSpeak NG, known text,
 * 1–4 s) through the real development models on this CPU, by the app's own path: createEngine with
 * the dev profile, a warm pool, one session, 20 ms microphone frames paced in real time. Each stage
 * comes from the engine's turn trace; the reply audio is transcribed back by whisper afterwards. The
 * same questions also go, interleaved, through a second engine whose chunker waits for the whole
 * reply (no streaming), for `unchunked_over_streaming_first_audio_ratio`.
 */

export const QUESTIONS = [
  'Hello, who are you?',
  'What is the capital of France?',
  'How many legs does a spider have?',
  'Can you tell me a short joke?',
  'What color is the sky on a clear day?',
  'Why do cats purr?',
  'What should I cook for dinner tonight?',
  'How far away is the moon from the earth?',
  'What is your favorite book and why do you like it?',
  'Good morning, how are you feeling today?',
  'Could you explain in simple words what a rainbow is made of?',
  'What is two plus two?',
];

interface StageTimes {
  firstAudioMs: number;
  endpointMs: number;
  sttMs: number;
  llmFirstTokenMs: number;
  ttsFirstChunkMs: number;
  /** First token → first speakable clause released by the chunker. */
  firstClauseMs: number;
}

function stageTimes(turn: SpokenTurn): StageTimes | undefined {
  const trace = turn.trace;
  if (!trace?.speechEndMs || !trace.endpointMs || !trace.sttFinalMs || !trace.llmFirstTokenMs || !trace.firstChunkTextMs || !trace.ttsFirstAudioMs) return undefined;
  return {
    firstAudioMs: trace.ttsFirstAudioMs - trace.speechEndMs,
    endpointMs: trace.endpointMs - trace.speechEndMs,
    sttMs: trace.sttFinalMs - trace.endpointMs,
    llmFirstTokenMs: trace.llmFirstTokenMs - (trace.llmRequestMs ?? trace.sttFinalMs),
    ttsFirstChunkMs: trace.ttsFirstAudioMs - trace.firstChunkTextMs,
    firstClauseMs: trace.firstChunkTextMs - trace.llmFirstTokenMs,
  };
}

async function startEngine(config: EngineConfig): Promise<EngineInstance> {
  const engine = createEngine(config);
  await engine.start();
  return engine;
}

/**
 * Whisper in its own worker thread (threads as the engine's plan), after the turns: 16 kHz clips
 * transcribed, with the time of each request.
 */
async function transcribeAll(modelPath: string, threads: number, clips: Array<{ pcm: Float32Array<ArrayBuffer> }>): Promise<Array<{ text: string; ms: number }>> {
  const worker = startWorkerThread(workerEntryFor('whisper'));
  try {
    const ready = await requestWorker(worker, { type: 'load', spec: { kind: 'stt', engine: 'whisper', modelName: 'isolated', modelPath, threads, options: { dropRepeatedSentences: false } } }, (r) => r.type === 'ready' || r.type === 'error');
    if (ready.type !== 'ready') throw new Error(`whisper failed to load: ${JSON.stringify(ready)}`);
    const results: Array<{ text: string; ms: number }> = [];
    for (const [index, clip] of clips.entries()) {
      const requestId = `isolated-${index}`;
      const startedMs = performance.now();
      const reply = await requestWorker(worker, { type: 'run', requestId, input: { kind: 'stt', sampleRateHz: 16000, pcm: clip.pcm, final: true } }, (r) => (r.type === 'result' || r.type === 'error') && r.requestId === requestId);
      if (reply.type !== 'result') throw new Error(`whisper failed: ${JSON.stringify(reply)}`);
      results.push({ text: SttRunResultSchema.parse(reply.data).text, ms: performance.now() - startedMs });
    }
    return results;
  } finally {
    await worker.terminate();
  }
}

function wer(pairs: Array<[reference: string, hypothesis: string]>): number {
  let edits = 0;
  let words = 0;
  for (const [reference, hypothesis] of pairs) {
    const result = wordErrorRate(reference, hypothesis);
    edits += result.edits;
    words += result.referenceWords;
  }
  return words === 0 ? Number.NaN : edits / words;
}

const p50 = (values: number[]): number => round3(quantile(values, 0.5));

async function run(options: Record<string, string>): Promise<BenchResult> {
  const dev = await devModelsOrSkipReason();
  if (!dev.ok) return { models: { skipped: dev.skipReason }, runs: 0, metrics: {}, notes: [`e2e_cpu skipped: ${dev.skipReason}`] };
  const runs = Math.max(1, Math.min(QUESTIONS.length, Number(options.runs ?? QUESTIONS.length)));
  const compareChunking = options.chunking !== '0';

  const voice = await EmbeddedVoice.create();
  const questions = QUESTIONS.slice(0, runs).map((text) => ({ text, clip: voice.render(text) }));

  // `--end-of-turn silence` measures the VAD's silence alone (as before the end-of-turn model); default: smart.
  const endOfTurn: 'smart' | 'silence' = options['end-of-turn'] === 'silence' ? 'silence' : 'smart';
  const resolved = await resolveProfile({ profile: 'dev' });
  const { summary } = resolved;
  // Greedy decoding by default: every run speaks the same replies, so a change in latency is not sampling luck.
  const sampled = options.sampled === '1';
  const repeats = Math.max(1, Math.min(10, Number(options.repeat ?? 3)));
  const config = {
    ...resolved.config,
    vadSensitivity: () => ({ endOfTurn }),
    pipeline: { ...turnDetectionOverrides(resolved.config.pipeline, options), ...(sampled ? {} : { temperature: 0 }) },
  };
  const streaming = await startEngine(config);
  const unchunked = compareChunking
    ? await startEngine({ ...config, pipeline: { ...config.pipeline, chunker: { ...config.pipeline.chunker, streaming: false } } })
    : undefined;
  const streamed: SpokenTurn[] = [];
  const whole: SpokenTurn[] = [];
  /** Every repetition's turns (a fresh session each, so each hears the same conversation). */
  const repetitions: SpokenTurn[][] = [];
  try {
    const warmUp = voice.render('Hi there.');
    for (let repeat = 0; repeat < repeats; repeat++) {
      const client = await SpokenTurnClient.open(streaming);
      const wholeClient = unchunked && repeat === 0 ? await SpokenTurnClient.open(unchunked) : undefined;
      // Warm pool: one turn each before measuring (first calls allocate buffers, page in weights).
      await client.speak(warmUp.pcm, warmUp.sampleRateHz);
      if (wholeClient) await wholeClient.speak(warmUp.pcm, warmUp.sampleRateHz);
      const turns: SpokenTurn[] = [];
      for (const question of questions) {
        turns.push(await client.speak(question.clip.pcm, question.clip.sampleRateHz));
        if (wholeClient) whole.push(await wholeClient.speak(question.clip.pcm, question.clip.sampleRateHz));
      }
      repetitions.push(turns);
      if (repeat === 0) streamed.push(...turns);
      client.close();
      wholeClient?.close();
    }
  } finally {
    await streaming.shutdown();
    await unchunked?.shutdown();
  }
  const loadDuringTurns = loadavg()[0]!;
  const plan = Object.entries(streaming.plan?.kinds ?? {}).map(([kind, p]) => `${kind} ${p.count}×${p.threads} thread(s)`).join(', ');

  const times = streamed.map(stageTimes);
  const complete = repetitions.flat().map(stageTimes).filter((time): time is StageTimes => time !== undefined);
  const repetitionP50s = repetitions.map((turns) =>
    quantile(turns.map(stageTimes).filter((time): time is StageTimes => time !== undefined).map((time) => time.firstAudioMs), 0.5),
  );
  const wholeFirstAudio = whole.map(stageTimes).filter((time): time is StageTimes => time !== undefined).map((time) => time.firstAudioMs);
  // What the voice was given: the chunks' speakable text (markdown removed); replies joined into
  // clips of up to 25 s so a one-word reply does not decide the rate alone.
  const clips = joinReplies(streamed.map((turn) => ({ pcm: turn.pcm, sampleRateHz: turn.sampleRateHz, text: turn.chunks.map((chunk) => speakableText(chunk.text)).join(' ') })));
  // The same questions transcribed in isolation (a worker thread, no engine, nothing else running),
  // padded like the engine's utterances (pre-roll before, endpoint silence after): the engine path's
  // STT against the bare runtime, in the same run.
  const utterances = questions.map(({ clip }) => {
    const speech = resample(clip.pcm, clip.sampleRateHz, MIC_RATE_HZ);
    const pcm = new Float32Array(Math.round(MIC_RATE_HZ * (config.pipeline.utterancePrerollMs + 250) / 1000) + speech.length);
    pcm.set(speech, Math.round((MIC_RATE_HZ * config.pipeline.utterancePrerollMs) / 1000));
    return { pcm };
  });
  const transcribed = await transcribeAll(dev.profile.stt.whisperGgmlPath, streaming.plan?.kinds.stt?.threads ?? 1, [...clips, ...utterances]);
  const backTranscripts = transcribed.slice(0, clips.length).map((result) => result.text);
  const isolatedSttMs = transcribed.slice(clips.length).map((result) => result.ms);

  const firstAudio = complete.map((time) => time.firstAudioMs);
  const metrics: Record<string, number> = {
    first_audio_ms_p50: p50(firstAudio),
    first_audio_ms_p95: round3(quantile(firstAudio, 0.95)),
    endpoint_ms_p50: p50(complete.map((time) => time.endpointMs)),
    stt_ms_p50: p50(complete.map((time) => time.sttMs)),
    stt_isolated_ms_p50: p50(isolatedSttMs),
    stt_engine_over_isolated_ratio: round3(quantile(complete.map((time) => time.sttMs), 0.5) / quantile(isolatedSttMs, 0.5)),
    llm_first_token_ms_p50: p50(complete.map((time) => time.llmFirstTokenMs)),
    first_clause_ms_p50: p50(complete.map((time) => time.firstClauseMs)),
    tts_first_chunk_ms_p50: p50(complete.map((time) => time.ttsFirstChunkMs)),
    stt_wer_ratio: round3(wer(streamed.map((turn, index) => [questions[index]!.text, turn.transcript]))),
    tts_roundtrip_wer_ratio: round3(wer(clips.map((clip, index) => [clip.text, backTranscripts[index]!]))),
    ...(compareChunking ? { unchunked_first_audio_ms_p50: p50(wholeFirstAudio), unchunked_over_streaming_first_audio_ratio: round3(quantile(wholeFirstAudio, 0.5) / quantile(firstAudio, 0.5)) } : {}),
    turns_complete_ratio: round3(complete.length / repetitions.flat().length),
    first_audio_spread_ratio: round3(Math.max(...repetitionP50s) / Math.min(...repetitionP50s)),
  };
  return {
    models: { profile: 'dev', vadSilenceMs: String(config.pipeline.turnDetection?.vadSilenceMs ?? '-'), maxPauseMs: String(config.pipeline.turnDetection?.maxPauseMs ?? '-'), ...Object.fromEntries(summary.map((line) => [line.split(':')[0]!, line.slice(line.indexOf(':') + 1).trim()])) },
    runs: repetitions.flat().length,
    metrics,
    notes: [
      `end of turn: ${endOfTurn === 'smart' && config.workers.turn ? 'VAD silence, then the Smart Turn model' : 'the VAD silence alone'}`,
      `${sampled ? 'sampled replies (the persona\'s temperature)' : 'greedy decoding: the same replies every repetition'}; ${repeats} repetition(s) of the question set, each in a fresh session; first_audio p50 per repetition: ${repetitionP50s.map((ms) => ms.toFixed(1)).join(', ')} ms; first_audio_spread = largest ÷ smallest of those`,
      'stage metrics cover every repetition; stt_wer, tts_roundtrip_wer and the per-question lines are the first repetition',
      `${runs} eSpeak NG questions of ${questions.map((q) => ((q.clip.pcm.length / q.clip.sampleRateHz)).toFixed(1)).join(', ')} s, paced as 20 ms microphone frames, one session (KV cache reused), after one warm-up turn`,
      'first_audio = speech end (VAD) → first tts.chunk ready; endpoint = speech end → VAD decided; stt = endpoint → transcript; llm_first_token = request → first token; first_clause = first token → first clause released; tts_first_chunk = first clause → its audio',
      'per question: [endpoint / stt / llm first token / first clause / tts first chunk / first audio ms]',
      'stt_isolated = the same questions (padded like utterances) transcribed by a bare whisper worker after the turns; stt_engine_over_isolated = stt p50 / stt_isolated p50',
      'stt_wer = transcripts vs question texts; tts_roundtrip_wer = reply audio transcribed back by whisper vs the text the voice spoke',
      ...(compareChunking ? ['unchunked_over_streaming_first_audio = first audio with the chunker waiting for the whole reply / with streaming clauses (same questions, interleaved, second engine)'] : []),
      `resource plan: ${plan}`,
      ...streamed.map((turn, index) => {
        const time = times[index];
        const stages = time ? `[${[time.endpointMs, time.sttMs, time.llmFirstTokenMs, time.firstClauseMs, time.ttsFirstChunkMs, time.firstAudioMs].map((ms) => Math.round(ms)).join(' / ')} ms]` : '[incomplete]';
        return `Q${index + 1} ${stages} "${turn.transcript}" → "${turn.reply}" (first clause "${turn.chunks[0]?.text ?? ''}")`;
      }),
      ...backTranscripts.map((text, index) => `reply audio heard back (clip ${index + 1}): "${text}"`),
      `load average (1 min) after the turns: ${loadDuringTurns.toFixed(2)}, at the end: ${loadavg()[0]!.toFixed(2)}`,
    ],
  };
}

const bench: Benchmark = {
  name: 'e2e_cpu',
  description: 'spoken questions through the real dev models (VAD → whisper → SmolLM2 → Piper), warm pool: first audio and each stage',
  run,
};
export default bench;
