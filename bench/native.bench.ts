import { devModelsOrSkipReason } from '../app/engine/models/dev-models';
import { createEngine } from '../app/engine/create-engine';
import { defaultEngineConfig, type EngineConfig } from '../app/engine/engine-config';
import type { ServerMessage } from '../app/shared/messages.contract';
import { ensureGgufFixture } from '../scripts/fixtures/gguf-fixture';
import { quantile, round3, type Benchmark, type BenchResult } from './bench-api';
import { measureLlm } from './native-llm';
import { measurePiper } from './native-piper';
import { measureStt } from './native-stt';
import { measureTts } from './native-tts';

/**
 * `npm run bench -- native [--runs N] [--fixtures-only]`: every native runtime in its worker —
 * whisper (stt_rtf), llama.cpp (first token warm vs cold, tokens/s), the TTS voices (first chunk,
 * RTF), model load times — on the development models when present, else on the fixtures; plus the
 * warm pool against spawning and loading on demand (`first_audio_cold_start_over_warm_pool_ratio`).
 */

/** An engine with a real llama.cpp LLM and the embedded voice; STT/VAD are not on a text turn's path. */
function textTurnConfig(llmPath: string): EngineConfig {
  const base = defaultEngineConfig();
  return {
    ...base,
    workers: {
      ...base.workers,
      llm: { engine: 'llama', modelName: 'llm', modelPath: llmPath, count: 1, cpuBound: true, options: {} },
      tts: { engine: 'espeak', modelName: 'espeak', count: 1, cpuBound: false, options: { voice: 'en-us' } },
      stt: { ...base.workers.stt, count: 1 },
      vad: { ...base.workers.vad, count: 1 },
    },
    pipeline: { ...base.pipeline, maxTokens: 24 },
  };
}

/** ms from sending `user.text` (in a new session) to the first tts.chunk of the reply. */
function firstAudioMs(engine: ReturnType<typeof createEngine>, text: string): Promise<number> {
  return new Promise<number>((resolve) => {
    let sentMs = 0;
    const connection = engine.connect((message: ServerMessage) => {
      if (message.type === 'session.opened') {
        sentMs = performance.now();
        connection.handle({ type: 'user.text', sessionId: message.sessionId, text });
      } else if (message.type === 'tts.chunk' && message.seq === 0) {
        resolve(performance.now() - sentMs);
      } else if (message.type === 'turn.ended') {
        connection.close();
      }
    });
    connection.handle({ type: 'session.open', requestId: 'bench' });
  });
}

async function measurePoolWarmVsCold(llmPath: string, runs: number): Promise<Record<string, number>> {
  const warm: number[] = [];
  const cold: number[] = [];
  for (let run = 0; run < runs; run++) {
    // Cold: nothing running; spawn hosts, load models, then answer.
    const startedMs = performance.now();
    const engine = createEngine(textTurnConfig(llmPath));
    await engine.start();
    const spawnAndLoadMs = performance.now() - startedMs;
    cold.push(spawnAndLoadMs + (await firstAudioMs(engine, 'Hello, who are you?')));
    // Warm: the same engine, models loaded, a new session.
    warm.push(await firstAudioMs(engine, 'Hello, who are you?'));
    await engine.shutdown();
  }
  const warmP50 = quantile(warm, 0.5);
  const coldP50 = quantile(cold, 0.5);
  return {
    first_audio_warm_pool_ms_p50: round3(warmP50),
    first_audio_cold_start_ms_p50: round3(coldP50),
    first_audio_cold_start_over_warm_pool_ratio: round3(coldP50 / warmP50),
  };
}

function merge(target: BenchResult, part: BenchResult, prefix = ''): void {
  Object.assign(target.models, part.models);
  for (const [name, value] of Object.entries(part.metrics)) target.metrics[`${prefix}${name}`] = value;
  target.runs = Math.max(target.runs, part.runs);
  target.notes = [...(target.notes ?? []), ...(part.notes ?? [])];
}

const bench: Benchmark = {
  name: 'native',
  description: 'native runtimes in workers: stt_rtf, llm first token warm vs cold, tts first chunk and RTF, load times, warm pool vs cold',
  async run(options) {
    const runs = Number(options.runs ?? 5);
    const dev = options['fixtures-only'] ? null : await devModelsOrSkipReason();
    const real = dev?.ok ? dev.profile : null;
    const result: BenchResult = { models: {}, runs: 0, metrics: {}, notes: [] };
    if (!real) result.notes!.push(`development models absent (${dev && !dev.ok ? dev.skipReason : 'fixtures only'}): fixtures only`);

    merge(result, await measureStt({ runs }), 'fixture_');
    if (real?.stt?.whisperGgmlPath) merge(result, await measureStt({ runs, modelPath: real.stt.whisperGgmlPath, modelName: 'whisper tiny.en (dev)' }));

    merge(result, await measureLlm({ runs, variant: 'bench' }), 'fixture_');
    if (real?.llm?.ggufPath) merge(result, await measureLlm({ runs, modelPath: real.llm.ggufPath }));

    merge(result, await measureTts({ runs }));
    if (real?.tts?.piperOnnxPath) merge(result, await measurePiper({ runs, modelPath: real.tts.piperOnnxPath }), 'piper_');

    const llmPath = real?.llm?.ggufPath ?? (await ensureGgufFixture({ variant: 'bench' }));
    Object.assign(result.metrics, await measurePoolWarmVsCold(llmPath, Math.min(runs, 3)));
    return result;
  },
};

export default bench;
