import { loadavg } from 'node:os';
import type { Benchmark } from './bench-api';
import { quantile, round3 } from './bench-api';
import { createEngine } from '../app/engine/create-engine';
import { defaultEngineConfig, type EngineConfig } from '../app/engine/engine-config';
import type { ServerMessage } from '../app/shared/messages.contract';
import type { WorkerKind } from '../app/shared/worker.contract';

/**
 * `npm run bench -- bargein [--runs 30]`: the user talks over the avatar mid-reply. Measures, in the
 * engine, the time from the VAD's speech-start to the last audio the engine emits (turn.stop tells
 * the renderer to fade out; no chunk may follow it) and how many LLM tokens still arrive after the abort.
 */

const FRAME_SAMPLES = 320; // 20 ms at 16 kHz

function frame(loud: boolean, index: number): Float32Array<ArrayBuffer> {
  const pcm = new Float32Array(FRAME_SAMPLES);
  if (loud) for (let i = 0; i < pcm.length; i++) pcm[i] = 0.3 * Math.sin((2 * Math.PI * 200 * (index * FRAME_SAMPLES + i)) / 16000);
  return pcm;
}

function config(onTokensAfterAbort: (count: number) => void): EngineConfig {
  const base = defaultEngineConfig();
  const scripted = (kind: WorkerKind, options: Record<string, unknown>) => ({
    engine: 'scripted',
    modelName: `scripted-${kind}`,
    count: 1,
    options,
    cpuBound: false,
  });
  return {
    ...base,
    workers: {
      vad: scripted('vad', { vadMinSpeechMs: 20 }),
      stt: scripted('stt', {}),
      llm: scripted('llm', { firstTokenMs: 50, tokenMs: 25, replySentences: 8 }),
      tts: scripted('tts', { ttsFirstChunkMs: 20, ttsMsPerChar: 0.5 }),
    },
    // The engine's reaction alone: any speech interrupts, and these short bursts are not turns.
    pipeline: { ...base.pipeline, minBargeInSpeechMs: 0, minUtteranceMs: 1000 },
    onDiagnostic: (event) => {
      if (event.type === 'llm-tokens-after-abort') onTokensAfterAbort(event.count);
    },
  };
}

const benchmark: Benchmark = {
  name: 'bargein',
  description: 'Barge-in: speech-start → last audio emitted (engine side), LLM tokens after abort (scripted engines).',
  async run(options) {
    const runs = Number(options.runs ?? 30);
    const tokensAfterAbort: number[] = [];
    const engine = createEngine(config((count) => tokensAfterAbort.push(count)));
    await engine.start();

    let listener: (message: ServerMessage, atMs: number) => void = () => undefined;
    const connection = engine.connect((message) => listener(message, performance.now()));
    const sessionId = await new Promise<string>((resolve) => {
      listener = (message) => {
        if (message.type === 'session.opened') resolve(message.sessionId);
      };
      connection.handle({ type: 'session.open', requestId: 'bench' });
    });

    const abortToSilence: number[] = [];
    const micToStop: number[] = [];
    let chunksAfterStop = 0;
    let micSeq = 0;
    let frameIndex = 0;
    const sendFrames = (count: number, loud: boolean): void => {
      for (let i = 0; i < count; i++) {
        connection.handle({ type: 'mic.audio', sessionId, seq: micSeq++, sampleRateHz: 16000, pcm: frame(loud, frameIndex++) });
      }
    };

    for (let run = 0; run < runs; run++) {
      let turnId = '';
      let speechStartMs = 0;
      let lastAudioMs = 0;
      let stopMs = 0;
      const ended = new Promise<void>((resolve) => {
        listener = (message, atMs) => {
          if (message.type === 'tts.chunk' && message.turnId === turnId) {
            lastAudioMs = atMs;
            if (stopMs > 0) chunksAfterStop++;
          }
          if (message.type === 'vad' && message.event === 'speech-start' && speechStartMs === 0) speechStartMs = atMs;
          if (message.type === 'turn.stop' && message.turnId === turnId) stopMs = atMs;
          if (message.type === 'turn.started' && !turnId) turnId = message.turnId;
          if (message.type === 'turn.ended' && message.turnId === turnId) resolve();
        };
      });
      connection.handle({ type: 'user.text', sessionId, text: `Tell me something long, number ${run}` });
      // Talk over the reply at a varying point of its generation.
      await new Promise((resolve) => setTimeout(resolve, 200 + ((run * 37) % 300)));
      const speechSentMs = performance.now();
      sendFrames(6, true);
      await ended;
      micToStop.push(stopMs - speechSentMs);
      // Silence ends the utterance (too short to be a turn) before the next run.
      sendFrames(15, false);
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Silence for the renderer is the later of the last chunk and the stop that fades it out.
      abortToSilence.push(Math.max(lastAudioMs, stopMs) - speechStartMs);
    }
    connection.close();
    await engine.shutdown();

    return {
      models: { llm: 'scripted', tts: 'scripted', vad: 'scripted energy VAD', note: 'scripted engines (no real models)' },
      runs,
      metrics: {
        abort_to_silence_ms_p50: round3(quantile(abortToSilence, 0.5)),
        abort_to_silence_ms_p95: round3(quantile(abortToSilence, 0.95)),
        tokens_after_abort_max: Math.max(0, ...tokensAfterAbort),
        tokens_after_abort_p50: round3(quantile(tokensAfterAbort, 0.5)),
        chunks_after_stop_max: chunksAfterStop,
        mic_to_stop_ms_p95: round3(quantile(micToStop, 0.95)),
      },
      notes: [
        `1-minute load average at the end: ${loadavg()[0]!.toFixed(1)} (other processes share the cores; tails grow with it)`,
        'minBargeInSpeechMs = 0 here: the engine reaction only (a real config adds the minimum speech duration)',
        'mic_to_stop: first loud mic frame handed to the engine → turn.stop (adds VAD round trips; frames sent faster than real time)',
        'tokens after abort: LLM chunks that reached the engine between the abort and the worker confirming the cancel',
      ],
    };
  },
};

export default benchmark;
