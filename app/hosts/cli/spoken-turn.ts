import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { ServerMessage } from '../../shared/messages.contract';
import type { PhonemeSpan } from '../../shared/phoneme.contract';
import type { TurnTrace } from '../../shared/trace.contract';
import type { EngineInstance } from '../../engine/create-engine';
import { resample } from '../../engine/lipsync/wav-file';

export { resample };

export const MIC_RATE_HZ = 16_000;
const FRAME_SAMPLES = 320; // 20 ms, as the renderer's microphone worklet sends them
const LEADING_SILENCE_MS = 500;
const TRAILING_SILENCE_MS = 1500;

/** One spoken turn's outcome; times relative to the start of the concatenated reply audio. */
export interface SpokenTurn {
  transcript: string;
  reply: string;
  heard: string;
  status: string;
  sampleRateHz: number;
  durationMs: number;
  /** The reply's chunks concatenated in order. */
  pcm: Float32Array;
  phonemes: PhonemeSpan[];
  chunks: Array<{ seq: number; text: string; startMs: number; endMs: number }>;
  trace: TurnTrace | null;
  /** An engine error sent during the turn, in words. */
  error?: string;
}

/**
 * A client of the engine that talks like the app's microphone: one session, questions sent as 20 ms
 * frames of 16 kHz audio (paced in real time by default, so the VAD's endpoint and every stage's
 * timing are what a person would get), replies collected from the engine's messages. Used by
 * `npm run cli -- turn`, the e2e_cpu benchmark and the real-turn tests: one path, the app's.
 */
export class SpokenTurnClient {
  private readonly messages: ServerMessage[] = [];
  private notify = (): void => undefined;
  private readonly connection;

  private constructor(
    engine: EngineInstance,
    readonly sessionId: string = '',
  ) {
    this.connection = engine.connect((message) => {
      this.messages.push(message);
      this.notify();
    });
  }

  /** Connects to a started engine and opens a session. */
  static async open(engine: EngineInstance): Promise<SpokenTurnClient> {
    const client = new SpokenTurnClient(engine);
    client.connection.handle({ type: 'session.open', requestId: 'spoken-turn' });
    const opened = await client.waitFor((m) => m.type === 'session.opened', 0, 10_000);
    (client as { sessionId: string }).sessionId = (opened as Extract<ServerMessage, { type: 'session.opened' }>).sessionId;
    return client;
  }

  /**
   * Speaks `pcm` (any rate, mono) into the session with silence around it like a microphone, and
   * resolves when the engine ended the turn it started.
   */
  async speak(pcm: Float32Array, sampleRateHz: number, options: { paced?: boolean; timeoutMs?: number } = {}): Promise<SpokenTurn> {
    const mic = resample(pcm, sampleRateHz, MIC_RATE_HZ);
    const from = this.messages.length;
    // A microphone hears silence around a question; the VAD needs it to find the speech's edges.
    const leading = (LEADING_SILENCE_MS * MIC_RATE_HZ) / 1000;
    const padded = new Float32Array(leading + mic.length + (TRAILING_SILENCE_MS * MIC_RATE_HZ) / 1000);
    padded.set(mic, leading);
    const paced = options.paced ?? true;
    const startedMs = performance.now();
    const started = (): boolean => this.messages.slice(from).some((message) => message.type === 'turn.started');
    for (let offset = 0; offset < padded.length; offset += FRAME_SAMPLES) {
      this.connection.handle({ type: 'mic.audio', sessionId: this.sessionId, seq: offset / FRAME_SAMPLES, sampleRateHz: MIC_RATE_HZ, pcm: padded.slice(offset, offset + FRAME_SAMPLES) });
      if (paced) {
        const waitMs = startedMs + ((offset + FRAME_SAMPLES) * 1000) / MIC_RATE_HZ - performance.now();
        if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
      // The reply may start before the trailing silence has all been sent; a real microphone would
      // go on sending silence, which the engine ignores.
      if (started()) break;
    }
    const ended = (await this.waitFor((m) => m.type === 'turn.ended', from, options.timeoutMs ?? 600_000)) as Extract<ServerMessage, { type: 'turn.ended' }>;
    // The final trace update follows turn.ended.
    await new Promise((resolve) => setImmediate(resolve));
    const turnMessages = this.messages.slice(from).filter((m) => !('turnId' in m) || m.turnId === ended.turnId);
    return collectTurn(turnMessages, ended);
  }

  close(): void {
    this.connection.close();
  }

  private waitFor(predicate: (message: ServerMessage) => boolean, from: number, timeoutMs: number): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.notify = () => undefined;
        reject(new AppError(ErrorCode.Internal, `The engine did not answer within ${timeoutMs / 1000} s.`, true));
      }, timeoutMs);
      const check = (): void => {
        const found = this.messages.slice(from).find(predicate);
        if (!found) return;
        clearTimeout(timer);
        this.notify = () => undefined;
        resolve(found);
      };
      this.notify = check;
      check();
    });
  }
}

/** The turn's reply audio, timeline, texts and trace from its messages. */
function collectTurn(messages: ServerMessage[], ended: Extract<ServerMessage, { type: 'turn.ended' }>): SpokenTurn {
  const chunks = messages.filter((m): m is Extract<ServerMessage, { type: 'tts.chunk' }> => m.type === 'tts.chunk').sort((a, b) => a.seq - b.seq);
  const sampleRateHz = chunks[0]?.sampleRateHz ?? 22_050;
  const parts = chunks.map((chunk) => resample(chunk.pcm, chunk.sampleRateHz, sampleRateHz));
  const pcm = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  const phonemes: PhonemeSpan[] = [];
  const spans: SpokenTurn['chunks'] = [];
  let offsetSamples = 0;
  chunks.forEach((chunk, index) => {
    const part = parts[index]!;
    pcm.set(part, offsetSamples);
    const startMs = (offsetSamples * 1000) / sampleRateHz;
    for (const phoneme of chunk.phonemes) phonemes.push({ phoneme: phoneme.phoneme, startMs: startMs + phoneme.startMs, endMs: startMs + phoneme.endMs });
    offsetSamples += part.length;
    spans.push({ seq: chunk.seq, text: chunk.text, startMs, endMs: (offsetSamples * 1000) / sampleRateHz });
  });
  const transcript = messages.filter((m) => m.type === 'transcript' && m.final).at(-1);
  const trace = messages.filter((m) => m.type === 'turn.trace' && m.trace.turnId === ended.turnId).at(-1);
  const error = messages.find((m) => m.type === 'error');
  return {
    transcript: transcript?.type === 'transcript' ? transcript.text : '',
    reply: ended.replyText,
    heard: ended.heardText,
    status: ended.status,
    sampleRateHz,
    durationMs: (pcm.length * 1000) / sampleRateHz,
    pcm,
    phonemes,
    chunks: spans,
    trace: trace?.type === 'turn.trace' ? trace.trace : null,
    ...(error?.type === 'error' ? { error: error.message } : {}),
  };
}

/**
 * Replies joined into clips of at most `maxClipMs` at 16 kHz, with `gapMs` of silence between them,
 * each clip with the texts it holds: whisper hears whole sentences in context, and a word error
 * rate over all replies does not hinge on a one-word reply.
 */
export function joinReplies(
  replies: ReadonlyArray<{ pcm: Float32Array; sampleRateHz: number; text: string }>,
  options: { gapMs?: number; maxClipMs?: number } = {},
): Array<{ pcm: Float32Array<ArrayBuffer>; text: string }> {
  const gap = Math.round(((options.gapMs ?? 500) * MIC_RATE_HZ) / 1000);
  const maxSamples = Math.round(((options.maxClipMs ?? 25_000) * MIC_RATE_HZ) / 1000);
  const clips: Array<{ parts: Float32Array[]; texts: string[]; samples: number }> = [];
  for (const reply of replies) {
    if (reply.pcm.length === 0) continue;
    const pcm = resample(reply.pcm, reply.sampleRateHz, MIC_RATE_HZ);
    const last = clips.at(-1);
    if (last && last.samples + gap + pcm.length <= maxSamples) {
      last.parts.push(pcm);
      last.texts.push(reply.text);
      last.samples += gap + pcm.length;
    } else clips.push({ parts: [pcm], texts: [reply.text], samples: pcm.length });
  }
  return clips.map(({ parts, texts, samples }) => {
    const pcm = new Float32Array(samples);
    let offset = 0;
    for (const part of parts) {
      pcm.set(part, offset);
      offset += part.length + gap;
    }
    return { pcm, text: texts.join(' ') };
  });
}
