import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  audioContextFor,
  clampedPcm,
  maxTokensFor,
  withoutDecoderLoops,
  WhisperEngine,
  type NativeSegment,
  type NativeTranscribeParams,
  type NativeWhisper,
} from '../../app/native-workers/stt/whisper-engine';
import type { RunContext } from '../../app/native-workers/worker-runtime';
import type { LoadSpec, RunInput } from '../../app/shared/worker.contract';
import { ensureWhisperFixture } from '../../scripts/fixtures/whisper-fixture';

/**
 * The engine's bookkeeping around the binding, with the native model faked: a native call that never
 * answers cannot be provoked with a valid model. Real whisper.cpp runs in
 * tests/integration/stt-whisper-worker.test.ts.
 */

interface NativeCall {
  samples: number;
  params: NativeTranscribeParams;
  settle(segments: NativeSegment[]): void;
  fail(error: Error): void;
}

function fakeWhisper(): { open: () => Promise<NativeWhisper>; calls: NativeCall[]; released: () => number } {
  const calls: NativeCall[] = [];
  let released = 0;
  const model: NativeWhisper = {
    transcribe(pcm, params) {
      return new Promise((resolve, reject) => calls.push({ samples: pcm.length, params, settle: resolve, fail: reject }));
    },
    async free() {
      released++;
    },
  };
  return { open: async () => model, calls, released: () => released };
}

const words = (text: string, from: number, to: number): NativeSegment[] => [{ text: ` ${text}`, from, to }];

function runContext(controller = new AbortController()): RunContext & { controller: AbortController } {
  return { controller, signal: controller.signal, emitChunk: () => undefined, progress: () => undefined };
}

const input = (samples: number): RunInput => ({ kind: 'stt', sampleRateHz: 16000, pcm: new Float32Array(samples).fill(0.1), final: true });

/** Lets pending promise callbacks run. */
const settleTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe('whisper engine around the native binding', () => {
  let spec: LoadSpec;

  beforeAll(async () => {
    spec = { kind: 'stt', engine: 'whisper', modelName: 'fixture', modelPath: await ensureWhisperFixture(), threads: 64, options: { warmUpMs: 0 } };
  });

  it('clamps Float32 PCM to [-1, 1], and refuses non-finite samples', () => {
    expect([...clampedPcm(new Float32Array([0, 1, -1, 0.5, 2, -3]))]).toEqual([0, 1, -1, 0.5, 1, -1]);
    expect(() => clampedPcm(new Float32Array([0, Number.POSITIVE_INFINITY]))).toThrow(expect.objectContaining({ code: 'bad_audio' }));
  });

  it('encodes the utterance plus the margin (20 ms per encoder frame), or the full window', () => {
    expect(audioContextFor(2000, 1000)).toBe(150);
    expect(audioContextFor(2010, 0)).toBe(101);
    expect(audioContextFor(2000, false)).toBe(0);
    expect(audioContextFor(29_500, 1000)).toBe(0);
  });

  it('caps the tokens of a segment by the audio length, so a repetition loop ends early', () => {
    expect(maxTokensFor(1000)).toBe(16);
    expect(maxTokensFor(2500)).toBe(28);
  });

  it('drops the sentences a decoder loop repeats, and keeps ordinary text', () => {
    expect(withoutDecoderLoops('Spiders have 8 legs. Spiders have 8 legs. Spiders have 8 legs. Spiders')).toBe('Spiders have 8 legs.');
    expect(withoutDecoderLoops('The answer is no. the answer is no! The answer')).toBe('The answer is no.');
    expect(withoutDecoderLoops('Hello. How are you? I am fine.')).toBe('Hello. How are you? I am fine.');
    expect(withoutDecoderLoops('Yes. Yes, I think so.')).toBe('Yes. Yes, I think so.');
    expect(withoutDecoderLoops('I went to the. I went to the shop.')).toBe('I went to the. I went to the shop.');
  });

  it('drops a decoder loop from a transcript unless told the speech may repeat itself', async () => {
    const loop = 'The sky is blue. The sky is blue. The sky';
    for (const [dropRepeatedSentences, expected] of [[true, 'The sky is blue.'], [false, loop]] as const) {
      const whisper = fakeWhisper();
      const engine = new WhisperEngine(whisper.open);
      await engine.load({ ...spec, options: { warmUpMs: 0, dropRepeatedSentences } }, () => undefined);
      const running = engine.run(input(16000), runContext());
      await vi.waitFor(() => expect(whisper.calls).toHaveLength(1));
      whisper.calls[0]!.settle(words(loop, 0, 1000));
      expect((await running).data).toMatchObject({ text: expected });
    }
  });

  it('warms whisper.cpp up at load with one throwaway transcription, and fails the load when it fails', async () => {
    const whisper = fakeWhisper();
    const engine = new WhisperEngine(whisper.open);
    let loaded = false;
    const loading = engine.load({ ...spec, options: { warmUpMs: 1000 } }, () => undefined).then((info) => {
      loaded = true;
      return info;
    });
    await vi.waitFor(() => expect(whisper.calls).toHaveLength(1));
    expect(loaded).toBe(false);
    expect(whisper.calls[0]).toMatchObject({ samples: 16000, params: { audio_ctx: 150, max_tokens: 16 } });
    whisper.calls[0]!.settle(words('noise', 0, 100));
    expect(await loading).toMatchObject({ warmUpMs: 1000 });

    const broken = fakeWhisper();
    const failingLoad = new WhisperEngine(broken.open).load({ ...spec, options: { warmUpMs: 500 } }, () => undefined);
    await vi.waitFor(() => expect(broken.calls).toHaveLength(1));
    broken.calls[0]!.fail(new Error('whisper_full operation failed'));
    await expect(failingLoad).rejects.toMatchObject({ code: 'model_invalid', message: expect.stringContaining('warm-up') });
  });

  it('uses no more threads than the spec gives or the machine has, and clamps timestamps to the audio', async () => {
    const whisper = fakeWhisper();
    const engine = new WhisperEngine(whisper.open);
    const info = await engine.load({ ...spec, threads: 1 }, () => undefined);
    expect(info).toMatchObject({ threads: 1, audioCtx: 1500, trimAudioContextMarginMs: 2000 });

    const running = engine.run(input(16000), runContext());
    await settleTurn();
    expect(whisper.calls[0]).toMatchObject({
      samples: 16000,
      params: { strategy: 0, n_threads: 1, language: 'en', temperature: 0, temperature_inc: 0, no_context: true, audio_ctx: 150, max_tokens: 16 },
    });
    whisper.calls[0]!.settle(words('hello', 500, 29_000));
    expect((await running).data).toEqual({ text: 'hello', segments: [{ text: 'hello', startMs: 500, endMs: 1000 }] });
  });

  it('primes the decoder with a run\'s prompt (whisper.cpp initial_prompt), and with nothing otherwise', async () => {
    const whisper = fakeWhisper();
    const engine = new WhisperEngine(whisper.open);
    await engine.load(spec, () => undefined);
    const primed = engine.run({ ...input(8000), kind: 'stt', sampleRateHz: 16000, final: true, prompt: 'Uh-huh. Mm-hmm.' } as RunInput, runContext());
    await settleTurn();
    expect(whisper.calls[0]!.params.initial_prompt).toBe('Uh-huh. Mm-hmm.');
    whisper.calls[0]!.settle(words('Mm-hmm.', 0, 400));
    await primed;
    const plain = engine.run(input(8000), runContext());
    await settleTurn();
    expect(whisper.calls[1]!.params).not.toHaveProperty('initial_prompt');
    whisper.calls[1]!.settle(words('Wait, stop.', 0, 400));
    await plain;
  });

  it('transcribes English with an English-only model whatever a run asks (no language detection pass)', async () => {
    const whisper = fakeWhisper();
    const engine = new WhisperEngine(whisper.open);
    expect(await engine.load({ ...spec, options: { language: 'auto', warmUpMs: 0 } }, () => undefined)).toMatchObject({ multilingual: false, language: 'en' });
    const running = engine.run({ kind: 'stt', sampleRateHz: 16000, pcm: new Float32Array(1600), final: false, language: 'de' }, runContext());
    await settleTurn();
    expect(whisper.calls[0]!.params.language).toBe('en');
    whisper.calls[0]!.settle(words('hi', 0, 100));
    await running;
  });

  it('answers a cancel at once, and starts the next native call only after the cancelled one finished', async () => {
    const whisper = fakeWhisper();
    const engine = new WhisperEngine(whisper.open);
    await engine.load(spec, () => undefined);

    const first = runContext();
    const cancelled = engine.run(input(8000), first);
    await settleTurn();
    first.controller.abort();
    await expect(cancelled).rejects.toMatchObject({ code: 'cancelled' });

    const next = engine.run(input(8000), runContext());
    await settleTurn();
    expect(whisper.calls).toHaveLength(1);
    whisper.calls[0]!.settle(words('stale', 0, 100));
    await settleTurn();
    expect(whisper.calls).toHaveLength(2);
    whisper.calls[1]!.settle(words('fresh', 0, 100));
    expect((await next).data).toMatchObject({ text: 'fresh' });
  });

  it('reports a failed native call as a recoverable internal error, and encodes 30 s when trimming is off', async () => {
    const whisper = fakeWhisper();
    const engine = new WhisperEngine(whisper.open);
    await engine.load({ ...spec, options: { trimAudioContextMarginMs: false, warmUpMs: 0 } }, () => undefined);
    const failing = engine.run(input(1600), runContext());
    await settleTurn();
    expect(whisper.calls[0]!.params.audio_ctx).toBe(0);
    whisper.calls[0]!.fail(new Error('whisper_full operation failed'));
    await expect(failing).rejects.toMatchObject({ code: 'internal', recoverable: true, message: expect.stringContaining('whisper_full operation failed') });
  });

  it('declares a native call that never answers hung, and stays usable', async () => {
    const whisper = fakeWhisper();
    const engine = new WhisperEngine(whisper.open);
    await engine.load({ ...spec, options: { hangTimeoutMs: 50, warmUpMs: 0 } }, () => undefined);

    await expect(engine.run(input(1600), runContext())).rejects.toMatchObject({ code: 'worker_hung', recoverable: true });
    const next = engine.run(input(1600), runContext());
    await settleTurn();
    whisper.calls[1]!.settle(words('again', 0, 100));
    expect((await next).data).toMatchObject({ text: 'again' });
  });

  it('frees the model only after the native call in flight is over', async () => {
    const whisper = fakeWhisper();
    const engine = new WhisperEngine(whisper.open);
    await engine.load(spec, () => undefined);
    const run = runContext();
    const cancelled = engine.run(input(1600), run);
    await settleTurn();
    run.controller.abort();
    await expect(cancelled).rejects.toMatchObject({ code: 'cancelled' });

    const unloaded = engine.unload();
    await settleTurn();
    expect(whisper.released()).toBe(0);
    whisper.calls[0]!.settle(words('late', 0, 100));
    await unloaded;
    expect(whisper.released()).toBe(1);
  });

  it('keeps the loaded model when a reload fails', async () => {
    const whisper = fakeWhisper();
    const engine = new WhisperEngine(whisper.open);
    await engine.load(spec, () => undefined);
    await expect(engine.load({ ...spec, modelPath: '/nowhere/ggml-base.en.bin' }, () => undefined)).rejects.toMatchObject({
      code: 'model_missing',
      message: expect.stringContaining('/nowhere/ggml-base.en.bin'),
    });
    const running = engine.run(input(1600), runContext());
    await settleTurn();
    whisper.calls[0]!.settle(words('still here', 0, 100));
    expect((await running).data).toMatchObject({ text: 'still here' });
  });
});
