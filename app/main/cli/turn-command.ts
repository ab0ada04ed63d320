import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { ServerMessage } from '../../shared/messages.contract';
import type { PhonemeSpan } from '../../shared/phoneme.contract';
import type { TurnTrace } from '../../shared/trace.contract';
import { createEngine } from '../engine/create-engine';
import { PROFILE_NAMES, resolveProfile, type ProfileName } from '../engine/model-profile';
import { readWavFile, writeWavFile } from '../lipsync/wav-file';
import { parseStringOptions, UsageError, type CliCommand } from './cli-command';

const { WaveFile } = wavefile;

const MIC_RATE_HZ = 16_000;
const FRAME_SAMPLES = 320; // 20 ms, as the renderer's microphone worklet sends them
const LEADING_SILENCE_MS = 500;
const TRAILING_SILENCE_MS = 1500;

/** What `turn.json` holds; times relative to the start of reply.wav. */
export interface TurnJson {
  transcript: string;
  reply: string;
  heard: string;
  status: string;
  sampleRateHz: number;
  durationMs: number;
  phonemes: PhonemeSpan[];
  chunks: Array<{ seq: number; text: string; startMs: number; endMs: number; timing?: string }>;
  trace: TurnTrace | null;
  models: string[];
}

/** Band-limited (sinc) resampling of mono PCM, through wavefile. */
export function resample(pcm: Float32Array, fromHz: number, toHz: number): Float32Array {
  if (fromHz === toHz) return pcm;
  const wav = new WaveFile();
  wav.fromScratch(1, fromHz, '32f', pcm);
  wav.toSampleRate(toHz, { method: 'sinc' });
  return wav.getSamples(false, Float32Array) as unknown as Float32Array;
}

/**
 * Runs one spoken turn through the same engine and warm pool as the app: the question's audio goes
 * in as 20 ms microphone frames (paced in real time unless --fast), then VAD → STT → LLM → chunker →
 * TTS answer; the reply's chunks are concatenated in order.
 */
async function runTurn(args: readonly string[]): Promise<void> {
  const options = parseStringOptions(args, { audio: { type: 'string' }, out: { type: 'string' }, profile: { type: 'string' }, fast: { type: 'string' } });
  if (!options.audio || !options.out) throw new UsageError('turn needs --audio <question.wav> and --out <dir>.');
  const profile = (options.profile ?? 'auto') as ProfileName;
  if (!PROFILE_NAMES.includes(profile)) throw new UsageError(`--profile must be one of ${PROFILE_NAMES.join(', ')}.`);
  const question = await readWavFile(options.audio);
  const mic = resample(question.pcm, question.sampleRateHz, MIC_RATE_HZ);

  const { config, summary } = await resolveProfile({ profile });
  for (const line of summary) console.error(`  ${line}`);
  const engine = createEngine(config);
  await engine.start();

  const messages: ServerMessage[] = [];
  let notify = (): void => undefined;
  const connection = engine.connect((message) => {
    messages.push(message);
    notify();
  });
  const waitFor = <T extends ServerMessage['type']>(type: T, timeoutMs: number): Promise<Extract<ServerMessage, { type: T }>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new AppError(ErrorCode.Internal, `No ${type} within ${timeoutMs / 1000} s.`, true)), timeoutMs);
      const check = (): void => {
        const found = messages.find((message) => message.type === type);
        if (found) {
          clearTimeout(timer);
          resolve(found as Extract<ServerMessage, { type: T }>);
        }
      };
      const previous = notify;
      notify = () => {
        previous();
        check();
      };
      check();
    });

  try {
    connection.handle({ type: 'session.open', requestId: 'cli-turn' });
    const { sessionId } = await waitFor('session.opened', 10_000);
    // A microphone hears silence around a question; the VAD needs it to find the speech's edges.
    const leading = (LEADING_SILENCE_MS * MIC_RATE_HZ) / 1000;
    const padded = new Float32Array(leading + mic.length + (TRAILING_SILENCE_MS * MIC_RATE_HZ) / 1000);
    padded.set(mic, leading);
    const paced = options.fast === undefined;
    const startedMs = performance.now();
    for (let offset = 0, seq = 0; offset < padded.length; offset += FRAME_SAMPLES, seq++) {
      connection.handle({ type: 'mic.audio', sessionId, seq, sampleRateHz: MIC_RATE_HZ, pcm: padded.slice(offset, offset + FRAME_SAMPLES) });
      if (paced) {
        const dueMs = startedMs + ((offset + FRAME_SAMPLES) * 1000) / MIC_RATE_HZ;
        const waitMs = dueMs - performance.now();
        if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
      // The reply may start before the trailing silence has all been sent.
      if (messages.some((message) => message.type === 'turn.started')) break;
    }
    const ended = await waitFor('turn.ended', 600_000);
    const chunks = messages.filter((m): m is Extract<ServerMessage, { type: 'tts.chunk' }> => m.type === 'tts.chunk').sort((a, b) => a.seq - b.seq);
    const sampleRateHz = chunks[0]?.sampleRateHz ?? 22_050;
    const parts = chunks.map((chunk) => resample(chunk.pcm, chunk.sampleRateHz, sampleRateHz));
    const reply = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
    const phonemes: PhonemeSpan[] = [];
    const chunkSpans: TurnJson['chunks'] = [];
    let offsetSamples = 0;
    chunks.forEach((chunk, index) => {
      const part = parts[index]!;
      reply.set(part, offsetSamples);
      const startMs = (offsetSamples * 1000) / sampleRateHz;
      for (const phoneme of chunk.phonemes) phonemes.push({ phoneme: phoneme.phoneme, startMs: startMs + phoneme.startMs, endMs: startMs + phoneme.endMs });
      offsetSamples += part.length;
      chunkSpans.push({ seq: chunk.seq, text: chunk.text, startMs, endMs: (offsetSamples * 1000) / sampleRateHz });
    });
    const transcript = messages.filter((m) => m.type === 'transcript' && m.final).at(-1);
    const trace = messages.filter((m) => m.type === 'turn.trace').at(-1);
    const result: TurnJson = {
      transcript: transcript?.type === 'transcript' ? transcript.text : '',
      reply: ended.replyText,
      heard: ended.heardText,
      status: ended.status,
      sampleRateHz,
      durationMs: (reply.length * 1000) / sampleRateHz,
      phonemes,
      chunks: chunkSpans,
      trace: trace?.type === 'turn.trace' ? trace.trace : null,
      models: summary,
    };
    await mkdir(options.out, { recursive: true });
    await writeWavFile(join(options.out, 'reply.wav'), { pcm: reply, sampleRateHz });
    await writeFile(join(options.out, 'turn.json'), JSON.stringify(result, null, 2) + '\n');
    console.log(`transcript: ${result.transcript}`);
    console.log(`reply (${result.status}, ${(result.durationMs / 1000).toFixed(1)} s of audio): ${result.reply}`);
    const error = messages.find((m) => m.type === 'error');
    if (error?.type === 'error') console.error(`engine error: ${error.message}`);
  } finally {
    connection.close();
    await engine.shutdown();
  }
}

export const turnCommand: CliCommand = {
  summary: 'one spoken turn through the engine: question.wav → reply.wav + turn.json',
  usage: `Usage: npm run cli -- turn --audio <question.wav> --out <dir> [--profile auto|dev|scripted] [--fast 1]

Feeds the question as microphone audio (paced in real time unless --fast) through the same engine and
warm pool as the app (VAD → STT → LLM → chunker → TTS), then writes <dir>/reply.wav (the reply's chunks
in order) and <dir>/turn.json {transcript, reply, phonemes [{phoneme,startMs,endMs}], trace, …}, times
relative to the start of reply.wav.`,
  run: runTurn,
};
