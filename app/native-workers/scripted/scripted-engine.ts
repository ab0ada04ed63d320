import { parentPort } from 'node:worker_threads';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { LlmRunResult, LoadSpec, RunInput, SttRunResult, TtsRunResult, TurnRunResult } from '../../shared/worker.contract';
import type { RunContext, WorkerEngine, WorkerStreams } from '../worker-runtime';
import { ScriptedOptionsSchema, type ScriptedOptions } from './scripted-options';
import { scriptedReply, scriptedThinking, scriptedTokens } from './scripted-reply';
import { synthesizeScriptedSpeech, type ScriptedSpeech } from './scripted-speech';
import { EnergyVad } from './scripted-vad';

/** VAD streams carry the microphone's 16 kHz samples. */
const MIC_RATE_HZ = 16_000;
/** A sample louder than this counts as voiced for the scripted end-of-turn verdict. */
const VOICED_SAMPLE = 0.05;
const SPEECH_CACHE_ENTRIES = 64;

function abortError(): Error {
  const error = new Error('aborted');
  error.name = 'AbortError';
  return error;
}

/** Waits until `deadlineMs` (performance.now clock); absolute deadlines keep long streams from drifting. */
function sleepUntil(deadlineMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const delayMs = deadlineMs - performance.now();
    if (delayMs <= 0) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A deterministic engine for every worker kind, with configurable delays and failure injection.
 * Tests and benches use it where real models would be too slow or absent.
 */
export class ScriptedEngine implements WorkerEngine {
  private options: ScriptedOptions = ScriptedOptionsSchema.parse({});
  /** Memory held on purpose by the `bloat` failure. */
  private ballast: Uint8Array[] = [];
  /** Recent syntheses: benches repeat texts, and the scripted delays, not this CPU work, should set the timing. */
  private readonly speechCache = new Map<string, ScriptedSpeech>();
  private vad = new EnergyVad(this.options);

  async load(spec: LoadSpec, progress: (fraction: number, message: string) => void): Promise<Record<string, unknown>> {
    const parsed = ScriptedOptionsSchema.safeParse(spec.options);
    if (!parsed.success) {
      throw new AppError(ErrorCode.ModelInvalid, `Scripted engine options are invalid: ${parsed.error.issues[0]?.message ?? ''}`, false);
    }
    this.options = parsed.data;
    this.vad = new EnergyVad(this.options);
    const startedMs = performance.now();
    progress(0, `loading scripted ${spec.kind}`);
    await sleepUntil(startedMs + this.options.loadMs / 2);
    progress(0.5, `loading scripted ${spec.kind}`);
    // Warm the synthesizer's code paths so the first reply is not slowed by compilation.
    if (spec.kind === 'tts') synthesizeScriptedSpeech('Warm up, please.', this.options.sampleRateHz);
    await sleepUntil(startedMs + this.options.loadMs);
    return { engine: 'scripted', kind: spec.kind, model: spec.modelName };
  }

  async run(input: RunInput, context: RunContext): Promise<{ data: unknown; transfer?: Transferable[] }> {
    const startedMs = performance.now();
    switch (input.kind) {
      case 'stt': {
        const durationMs = (input.pcm.length * 1000) / input.sampleRateHz;
        await sleepUntil(startedMs + this.options.sttMs, context.signal);
        const text = this.options.transcript ?? `I spoke for ${(durationMs / 1000).toFixed(1)} seconds.`;
        const result: SttRunResult = { text, segments: [{ text, startMs: 0, endMs: durationMs }] };
        return { data: result };
      }
      case 'llm': {
        const { thinkMs, text: userText } = scriptedThinking([...input.messages].reverse().find((message) => message.role === 'user')?.content ?? '');
        await this.injectFailure(userText, context.signal);
        // The camera's line, when there is one, is the system message just before the user's (engine/conversation/vision-note.ts).
        const beforeUser = input.messages.length > 2 ? input.messages.at(-2) : undefined;
        const cameraNote = beforeUser?.role === 'system' ? beforeUser.content : null;
        const reply = this.options.reply ?? scriptedReply(userText, this.options.replySentences, cameraNote);
        const tokens = scriptedTokens(reply).slice(0, input.maxTokens);
        for (let i = 0; i < tokens.length; i++) {
          await sleepUntil(startedMs + thinkMs + this.options.firstTokenMs + i * this.options.tokenMs, context.signal);
          context.emitChunk({ text: tokens[i] });
        }
        const result: LlmRunResult = {
          text: tokens.join(''),
          tokenCount: tokens.length,
          finishReason: tokens.length < scriptedTokens(reply).length ? 'length' : 'stop',
        };
        return { data: result };
      }
      case 'tts': {
        await this.injectFailure(input.text, context.signal);
        const speech = this.speech(input.text, input.speed ?? 1);
        await sleepUntil(startedMs + this.options.ttsFirstChunkMs + this.options.ttsMsPerChar * input.text.length, context.signal);
        const result: TtsRunResult = { ...speech, timing: 'exact' };
        return { data: result, transfer: [speech.pcm.buffer] };
      }
      case 'turn': {
        await sleepUntil(startedMs + this.options.turnMs, context.signal);
        const voicedMs = (input.pcm.reduce((count, sample) => count + (Math.abs(sample) > VOICED_SAMPLE ? 1 : 0), 0) * 1000) / input.sampleRateHz;
        let lastVoiced = input.pcm.length - 1;
        while (lastVoiced >= 0 && Math.abs(input.pcm[lastVoiced]!) <= VOICED_SAMPLE) lastVoiced--;
        const trailingSilenceMs = ((input.pcm.length - 1 - lastVoiced) * 1000) / input.sampleRateHz;
        const unfinished = voicedMs < this.options.turnIncompleteBelowMs || (this.options.turnIncompleteAfterSilenceMs > 0 && trailingSilenceMs >= this.options.turnIncompleteAfterSilenceMs);
        const completeProbability = unfinished ? 0.1 : this.options.turnCompleteProbability;
        const result: TurnRunResult = { completeProbability, inferenceMs: performance.now() - startedMs };
        return { data: result };
      }
    }
  }

  /** Synthesizes (or reuses) speech; returns a copy the caller may transfer. */
  private speech(text: string, speed: number): ScriptedSpeech {
    const key = `${speed}|${text}`;
    let speech = this.speechCache.get(key);
    if (!speech) {
      speech = synthesizeScriptedSpeech(text, this.options.sampleRateHz, speed);
      if (this.speechCache.size >= SPEECH_CACHE_ENTRIES) this.speechCache.delete(this.speechCache.keys().next().value!);
      this.speechCache.set(key, speech);
    }
    return { ...speech, pcm: speech.pcm.slice(), phonemes: speech.phonemes.map((span) => ({ ...span })) };
  }

  readonly stream: WorkerStreams = {
    open: (streamId, tune) => this.vad.open(streamId, tune),
    push: (streamId, pcm) => this.vad.process(streamId, pcm, MIC_RATE_HZ),
    tune: (streamId, tune) => this.vad.tune(streamId, tune),
    close: (streamId) => this.vad.release(streamId),
  };

  release(sessionId: string): void {
    this.vad.release(sessionId);
  }

  async unload(): Promise<void> {}

  private async injectFailure(text: string, signal: AbortSignal): Promise<void> {
    const failure = this.options.failOn.find((candidate) => text.includes(candidate.contains));
    if (!failure) return;
    switch (failure.mode) {
      case 'crash-host':
        process.kill(process.pid, 'SIGKILL');
        break;
      case 'crash-worker':
        process.exit(70);
        break;
      case 'hang':
        for (;;) {
          // Blocks the thread: no more pongs, as a stuck native call would.
        }
      case 'throw':
        throw new AppError(ErrorCode.Internal, `Scripted failure on "${failure.contains}".`, true);
      case 'bloat':
        // Touch every page so the memory is really resident, then stall until the supervisor acts.
        this.ballast.push(new Uint8Array(160e6).fill(1));
        await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(abortError()), { once: true }));
        break;
      case 'malformed':
        parentPort?.postMessage({ type: 'result', requestId: 42, data: 'not a protocol message' });
        // The engine rejects the run on the malformed message and cancels it.
        await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(abortError()), { once: true }));
    }
  }
}
