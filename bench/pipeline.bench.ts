import { loadavg } from 'node:os';
import type { Benchmark } from './bench-api';
import { quantile, round3 } from './bench-api';
import { createEngine, type EngineInstance } from '../app/engine/create-engine';
import { defaultEngineConfig, type EngineConfig } from '../app/engine/engine-config';
import { ClauseChunker } from '../app/engine/pipeline/clause-chunker';
import { scriptedReply, scriptedTokens } from '../app/native-workers/scripted/scripted-reply';
import type { ServerMessage } from '../app/shared/messages.contract';
import type { WorkerKind } from '../app/shared/worker.contract';

/**
 * `npm run bench -- pipeline [--runs 30]`: text turns through the real engine (host process, worker
 * threads) with scripted engines of known delays. Overhead = measured first audio minus the stage
 * delays on the critical path (first token, tokens until the first chunk is released, its TTS).
 */

const DELAYS = { firstTokenMs: 120, tokenMs: 30, ttsFirstChunkMs: 40, ttsMsPerChar: 1, sttMs: 60, vadMinSilenceMs: 200 };
const USER_TEXT = 'Hello there, how are you today';

function config(streaming: boolean): EngineConfig {
  const base = defaultEngineConfig();
  const scripted = (kind: WorkerKind, options: Record<string, unknown>, count = 1) => ({
    engine: 'scripted',
    modelName: `scripted-${kind}`,
    count,
    options,
    cpuBound: false,
  });
  return {
    ...base,
    workers: {
      vad: scripted('vad', { vadMinSilenceMs: DELAYS.vadMinSilenceMs }),
      stt: scripted('stt', { sttMs: DELAYS.sttMs, transcript: USER_TEXT }),
      llm: scripted('llm', { firstTokenMs: DELAYS.firstTokenMs, tokenMs: DELAYS.tokenMs, replySentences: 3 }),
      tts: scripted('tts', { ttsFirstChunkMs: DELAYS.ttsFirstChunkMs, ttsMsPerChar: DELAYS.ttsMsPerChar }, 2),
    },
    pipeline: { ...base.pipeline, chunker: { ...base.pipeline.chunker, streaming } },
  };
}

/** Sum of stage delays before the first chunk's audio exists: the critical path of the scripted turn. */
function idealFirstAudioMs(streaming: boolean): { idealMs: number; firstChunk: string } {
  const tokens = scriptedTokens(scriptedReply(USER_TEXT, 3));
  const chunker = new ClauseChunker({ ...defaultEngineConfig().pipeline.chunker, streaming });
  for (let i = 0; i < tokens.length; i++) {
    const [chunk] = chunker.push(tokens[i]!);
    if (chunk) return { idealMs: DELAYS.firstTokenMs + i * DELAYS.tokenMs + DELAYS.ttsFirstChunkMs + DELAYS.ttsMsPerChar * chunk.length, firstChunk: chunk };
  }
  const [chunk] = chunker.flush();
  return { idealMs: DELAYS.firstTokenMs + (tokens.length - 1) * DELAYS.tokenMs + DELAYS.ttsFirstChunkMs + DELAYS.ttsMsPerChar * chunk!.length, firstChunk: chunk! };
}

/** Runs `runs` text turns one after another; returns first-audio latencies (send → first tts.chunk). */
async function firstAudioLatencies(engine: EngineInstance, runs: number): Promise<number[]> {
  let listener: (message: ServerMessage) => void = () => undefined;
  const connection = engine.connect((message) => listener(message));
  const next = (predicate: (message: ServerMessage) => boolean): Promise<ServerMessage> =>
    new Promise((resolve) => {
      listener = (message) => {
        if (predicate(message)) resolve(message);
      };
    });
  const opened = next((m) => m.type === 'session.opened');
  connection.handle({ type: 'session.open', requestId: 'bench' });
  const sessionId = ((await opened) as Extract<ServerMessage, { type: 'session.opened' }>).sessionId;
  const latencies: number[] = [];
  for (let run = 0; run < runs; run++) {
    let firstAudioMs = 0;
    const ended = new Promise<void>((resolve) => {
      listener = (message) => {
        if (message.type === 'tts.chunk' && message.seq === 0) firstAudioMs = performance.now();
        if (message.type === 'turn.ended') resolve();
      };
    });
    const sentMs = performance.now();
    connection.handle({ type: 'user.text', sessionId, text: USER_TEXT });
    await ended;
    latencies.push(firstAudioMs - sentMs);
  }
  connection.close();
  return latencies;
}

const FRAME_MS = 20;

/** Measures how late a 10 ms timer fires while the benchmark runs: the machine's own scheduling noise. */
function timerLateness(): { stop(): number[] } {
  const lateness: number[] = [];
  let expectedMs = performance.now() + 10;
  const timer = setInterval(() => {
    const nowMs = performance.now();
    lateness.push(Math.max(0, nowMs - expectedMs));
    expectedMs = nowMs + 10;
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      return lateness;
    },
  };
}

/** Mic frames in real time (speech, then silence); returns first audio after the end of speech per turn, from the traces. */
async function voiceLatencies(engine: EngineInstance, runs: number): Promise<number[]> {
  let listener: (message: ServerMessage) => void = () => undefined;
  const connection = engine.connect((message) => listener(message));
  const sessionId = await new Promise<string>((resolve) => {
    listener = (message) => {
      if (message.type === 'session.opened') resolve(message.sessionId);
    };
    connection.handle({ type: 'session.open', requestId: 'bench-voice' });
  });
  const latencies: number[] = [];
  let seq = 0;
  let sample = 0;
  for (let run = 0; run < runs; run++) {
    const traced = new Promise<number>((resolve) => {
      listener = (message) => {
        const trace = message.type === 'turn.trace' ? message.trace : undefined;
        if (trace?.source === 'voice' && trace.turnEndMs !== undefined) resolve(trace.ttsFirstAudioMs! - trace.speechEndMs!);
      };
    });
    // 600 ms of speech, then silence until the VAD's hangover ends it, paced like a microphone.
    const startMs = performance.now();
    for (let frame = 0; frame < 50; frame++) {
      const pcm = new Float32Array((16000 * FRAME_MS) / 1000);
      if (frame < 30) for (let i = 0; i < pcm.length; i++) pcm[i] = 0.3 * Math.sin((2 * Math.PI * 180 * sample++) / 16000);
      connection.handle({ type: 'mic.audio', sessionId, seq: seq++, sampleRateHz: 16000, pcm });
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, startMs + (frame + 1) * FRAME_MS - performance.now())));
    }
    latencies.push(await traced);
  }
  connection.close();
  return latencies;
}

const benchmark: Benchmark = {
  name: 'pipeline',
  description: 'First audio and orchestration overhead of text and voice turns (scripted engines, known delays); streaming vs unchunked.',
  async run(options) {
    const runs = Number(options.runs ?? 30);
    const streamingEngine = createEngine(config(true));
    await streamingEngine.start();
    // Warm-up turn: first-use costs (JIT, module loads) are not orchestration overhead.
    await firstAudioLatencies(streamingEngine, 2);
    const noise = timerLateness();
    const streaming = await firstAudioLatencies(streamingEngine, runs);
    const lateness = noise.stop();
    const voiceRuns = Math.max(5, Math.round(runs / 3));
    const voice = await voiceLatencies(streamingEngine, voiceRuns);
    await streamingEngine.shutdown();

    const unchunkedEngine = createEngine(config(false));
    await unchunkedEngine.start();
    await firstAudioLatencies(unchunkedEngine, 1);
    const unchunked = await firstAudioLatencies(unchunkedEngine, Math.max(5, Math.round(runs / 3)));
    await unchunkedEngine.shutdown();

    const ideal = idealFirstAudioMs(true);
    const overhead = streaming.map((ms) => ms - ideal.idealMs);
    const voiceIdealMs = DELAYS.vadMinSilenceMs + DELAYS.sttMs + ideal.idealMs;
    const streamingP50 = quantile(streaming, 0.5);
    const unchunkedP50 = quantile(unchunked, 0.5);
    return {
      models: { llm: 'scripted', tts: 'scripted', note: 'scripted engines with fixed delays (no real models)' },
      runs,
      metrics: {
        first_audio_streaming_ms_p50: round3(streamingP50),
        first_audio_streaming_ms_p95: round3(quantile(streaming, 0.95)),
        first_audio_unchunked_ms_p50: round3(unchunkedP50),
        unchunked_over_streaming_first_audio_ratio: round3(unchunkedP50 / streamingP50),
        critical_path_ms: round3(ideal.idealMs),
        critical_path_unchunked_ms: round3(idealFirstAudioMs(false).idealMs),
        overhead_ms_p50: round3(quantile(overhead, 0.5)),
        overhead_ms_p95: round3(quantile(overhead, 0.95)),
        timer_lateness_ms_p95: round3(quantile(lateness, 0.95)),
        first_audio_after_speech_end_ms_p50: round3(quantile(voice, 0.5)),
        first_audio_after_speech_end_ms_p95: round3(quantile(voice, 0.95)),
        voice_critical_path_ms: round3(voiceIdealMs),
        voice_overhead_ms_p95: round3(quantile(voice, 0.95) - voiceIdealMs),
      },
      notes: [
        `1-minute load average at the end: ${loadavg()[0]!.toFixed(1)} (other processes share the cores; tails grow with it)`,
        `delays: ${JSON.stringify(DELAYS)}; first chunk "${ideal.firstChunk}"`,
        'overhead = (user.text sent → first tts.chunk received) − (first token + tokens until the chunk is released + its TTS time)',
        'timer_lateness: how late a 10 ms timer fired in the engine process during the text turns (machine noise, not orchestration)',
        `voice: ${voiceRuns} turns of 600 ms speech paced in real time; from the trace, ttsFirstAudioMs − speechEndMs; its critical path adds the VAD hangover and STT`,
      ],
    };
  },
};

export default benchmark;
