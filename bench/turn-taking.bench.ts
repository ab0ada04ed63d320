import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type EngineInstance } from '../app/engine/create-engine';
import type { EngineConfig } from '../app/engine/engine-config';
import { EmbeddedVoice } from '../app/engine/lipsync/embedded-voice';
import { resample } from '../app/engine/lipsync/wav-file';
import { resolveProfile } from '../app/engine/model-profile';
import { devModelsOrSkipReason } from '../app/engine/models/dev-models';
import { PiperVoice } from '../app/native-workers/piper/piper-voice';
import { concatPcm, rmsOf } from '../app/shared/audio/pcm';
import type { ServerMessage } from '../app/shared/messages.contract';
import type { BenchResult, Benchmark } from './bench-api';
import { quantile, round3, turnDetectionOverrides } from './bench-api';

/**
 * `npm run bench -- turn_taking`: spoken turn-taking on the development models (silero VAD, Smart
 * Turn, whisper tiny.en; the LLM and voice are scripted so the avatar speaks at once and long).
 * Utterances are made here by the Piper voice and two eSpeak NG voices and sent as 20 ms microphone
 * frames in real time:
 * - complete questions → `endpoint_ms_p50` (last speech frame sent → turn decided) and
 *   `complete_cut_ratio` (decided more than 100 ms before the last speech frame: cut mid-question,
 *   left out of the endpoint figures);
 * - questions with a 0.5–1.0 s thinking pause in the middle → `premature_endpoint_ratio` (a turn
 *   decided before the question's last speech frame was sent);
 * - backchannels and interruptions spoken over the speaking avatar → `false_interruption_ratio`,
 *   `missed_interruption_ratio`, `duck_ms_p95` and `interruption_stop_ms_p95` (from the first
 *   speech frame sent).
 */

const RATE_HZ = 16_000;
const FRAME_SAMPLES = 320;

const COMPLETE = [
  'What is the capital of France?',
  'Can you tell me a joke about cats?',
  'How far away is the moon?',
  'What should I cook for dinner tonight?',
  'Why is the sky blue?',
  'Tell me something about the ocean.',
  'What time is it in Tokyo?',
  'How do I make a cup of tea?',
  'Which planet is the largest?',
  'What is your favourite book?',
];
/** A question split where people pause to think. */
const PAUSED: Array<[string, string]> = [
  ['I was wondering', 'whether you could tell me a joke about cats.'],
  ['So my question is', 'how far away is the moon?'],
  ['Let me think', 'what should I cook for dinner tonight?'],
  ['Can you tell me', 'the capital of France?'],
  ['I would like to know', 'why the sky is blue.'],
  ['What I really want', 'is a recipe for pancakes.'],
  ['Could you maybe', 'explain how rainbows form?'],
  ['My favourite thing is', 'walking by the sea.'],
  ['The thing about cats is', 'that they sleep all day.'],
  ['Tell me about', 'the largest planet.'],
];
const BACKCHANNELS = ['Uh-huh.', 'Yeah.', 'Okay.', 'Right.', 'Mm-hmm.', 'I see.', 'Sure.'];
const INTERRUPTIONS = ['Wait, stop.', 'Hold on a second.', 'No, that is not what I asked.', 'Can you repeat that?', 'Stop talking, please.', 'Actually, tell me about dogs.', 'Excuse me, one question.'];
const ESPEAK_VOICES = ['en-us', 'en-us+f2'];

type Say = (text: string) => Promise<Float32Array>;

/**
 * A complete question whose turn was decided more than this before its last speech frame (the last
 * sample above −40 dBFS, which can be a quiet tail) was cut mid-question.
 */
const CUT_BEFORE_END_MS = 100;

interface Listener {
  messages: Array<{ message: ServerMessage; atMs: number }>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `pcm` as real-time microphone frames; returns the send time of every frame. */
async function speak(send: (pcm: Float32Array<ArrayBuffer>) => void, pcm: Float32Array): Promise<number[]> {
  const sentAtMs: number[] = [];
  const startedMs = performance.now();
  for (let offset = 0, index = 0; offset < pcm.length; offset += FRAME_SAMPLES, index++) {
    const frame = new Float32Array(FRAME_SAMPLES);
    frame.set(pcm.subarray(offset, offset + FRAME_SAMPLES));
    const waitMs = startedMs + index * 20 - performance.now();
    if (waitMs > 0) await sleep(waitMs);
    sentAtMs.push(performance.now());
    send(frame);
  }
  return sentAtMs;
}

function silence(ms: number): Float32Array {
  return new Float32Array(Math.round((ms * RATE_HZ) / 1000));
}

/** Index of the first and last sample louder than −40 dBFS. */
function speechBounds(pcm: Float32Array): [number, number] {
  let first = -1;
  let last = -1;
  for (let i = 0; i < pcm.length; i++) {
    if (Math.abs(pcm[i]!) > 0.01) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return [Math.max(0, first), Math.max(0, last)];
}

/**
 * `pcm` with its quietest 20 ms stretch near `fraction` of the speech (the comma's pause) widened to
 * `pauseMs` of silence.
 */
function withPause(pcm: Float32Array, fraction: number, pauseMs: number): Float32Array {
  const [first, last] = speechBounds(pcm);
  const target = first + Math.round((last - first) * fraction);
  const window = Math.round(0.4 * RATE_HZ);
  let quietest = target;
  let quietestRms = Number.POSITIVE_INFINITY;
  for (let start = Math.max(first, target - window); start + FRAME_SAMPLES < Math.min(last, target + window); start += FRAME_SAMPLES / 4) {
    const rms = rmsOf(pcm, start, start + FRAME_SAMPLES);
    if (rms < quietestRms) {
      quietestRms = rms;
      quietest = start + FRAME_SAMPLES / 2;
    }
  }
  return concatPcm([pcm.subarray(0, quietest), silence(pauseMs), pcm.subarray(quietest)]);
}

type Diagnostic = Parameters<NonNullable<EngineConfig['onDiagnostic']>>[0];
type DuckDiagnostic = Extract<Diagnostic, { type: 'duck' | 'duck-withdrawn' }>;
type PauseDiagnostic = Extract<Diagnostic, { type: 'pause-judged' }>;
type WithdrawnDiagnostic = Extract<Diagnostic, { type: 'end-withdrawn' }>;

function config(base: EngineConfig, onEndOfTurnMs: (ms: number) => void, onDuck: (event: DuckDiagnostic) => void, onPause: (event: PauseDiagnostic) => void, onWithdrawn: (event: WithdrawnDiagnostic) => void): EngineConfig {
  const scripted = (kind: 'llm' | 'tts', options: Record<string, unknown>) => ({ engine: 'scripted', modelName: `scripted-${kind}`, count: 1, options, cpuBound: false });
  return {
    ...base,
    workers: {
      ...base.workers,
      llm: scripted('llm', { firstTokenMs: 20, tokenMs: 60, replySentences: 10 }),
      tts: scripted('tts', { ttsFirstChunkMs: 20, ttsMsPerChar: 0.5 }),
    },
    onDiagnostic: (event) => {
      if (event.type === 'end-of-turn') onEndOfTurnMs(event.ms);
      if (event.type === 'duck' || event.type === 'duck-withdrawn') onDuck(event);
      if (event.type === 'pause-judged') onPause(event);
      if (event.type === 'end-withdrawn') onWithdrawn(event);
    },
  };
}

async function run(options: Record<string, string>): Promise<BenchResult> {
  const dev = await devModelsOrSkipReason();
  if (!dev.ok) return { models: { skipped: dev.skipReason }, runs: 0, metrics: {}, notes: [`turn_taking skipped: ${dev.skipReason}`] };
  const endOfTurn: 'smart' | 'silence' = options['end-of-turn'] === 'silence' ? 'silence' : 'smart';
  const interruptions: 'smart' | 'always-stop' = options.interruptions === 'always-stop' ? 'always-stop' : 'smart';
  // `--limit N`: the first N texts of each list (a quick look; the figures need the whole set).
  const limit = Math.max(1, Number(options.limit ?? 1000));
  // `--part questions|overlap`: only the questions, or only the speech over the avatar.
  const part = options.part;
  const complete = part === 'overlap' ? [] : COMPLETE.slice(0, limit);
  const pausedTexts = part === 'overlap' ? [] : PAUSED.slice(0, limit);
  const backchannels = part === 'questions' ? [] : BACKCHANNELS.slice(0, limit);
  const interruptionTexts = part === 'questions' ? [] : INTERRUPTIONS.slice(0, limit);
  const resolved = await resolveProfile({ profile: 'dev' });
  const endOfTurnMs: number[] = [];
  const detection = turnDetectionOverrides(resolved.config.pipeline, options);
  // `--loudness-onset 0`: only silero's onset ducks the avatar (the duck before loudness onsets).
  const loudnessOnset = options['loudness-onset'] !== '0';
  // `--prime-backchannels 0`: the words over the avatar transcribed without whisper's backchannel prompt.
  const primeBackchannels = options['prime-backchannels'] !== '0';
  // `--overlap-hold-ms MS`: how long speech over the avatar that pauses is held open for more words.
  const holdMs = options['overlap-hold-ms'] !== undefined ? { holdMs: Number(options['overlap-hold-ms']) } : {};
  const base = { ...resolved.config, pipeline: { ...detection, ...(detection.interruptions ? { interruptions: { ...detection.interruptions, loudnessOnset, primeBackchannels, ...holdMs } } : {}) } };
  const ducks: Array<{ event: DuckDiagnostic; atMs: number }> = [];
  const pauses: Array<{ event: PauseDiagnostic; atMs: number }> = [];
  const withdrawn: Record<string, number> = {};
  const engine: EngineInstance = createEngine({
    ...config(base, (ms) => endOfTurnMs.push(ms), (event) => ducks.push({ event, atMs: performance.now() }), (event) => pauses.push({ event, atMs: performance.now() }), (event) => (withdrawn[event.cause] = (withdrawn[event.cause] ?? 0) + 1)),
    vadSensitivity: () => ({ endOfTurn, interruptions }),
  });
  await engine.start();

  const piper = await PiperVoice.load({ modelPath: dev.profile.tts.piperOnnxPath, cacheDir: join(mkdtempSync(join(tmpdir(), 'turn-taking-')), 'piper'), noiseScale: 0, noiseW: 0 });
  const espeak = await EmbeddedVoice.create();
  const voices: Array<[string, Say]> = [
    ['piper joe', async (text) => {
      const spoken = await piper.synthesize(text);
      return resample(spoken.pcm, spoken.sampleRateHz, RATE_HZ);
    }],
    ...ESPEAK_VOICES.map((voice): [string, Say] => [`espeak ${voice}`, async (text) => {
      const clip = espeak.render(text, { voice });
      return resample(clip.pcm, clip.sampleRateHz, RATE_HZ);
    }]),
  ];

  const listener: Listener = { messages: [] };
  const connection = engine.connect((message) => listener.messages.push({ message, atMs: performance.now() }));
  connection.handle({ type: 'session.open', requestId: 'turn-taking' });
  while (!listener.messages.some(({ message }) => message.type === 'session.opened')) await sleep(10);
  const sessionId = (listener.messages.find(({ message }) => message.type === 'session.opened')!.message as Extract<ServerMessage, { type: 'session.opened' }>).sessionId;
  let seq = 0;
  /** When each frame was sent, by seq (frame n covers stream ms 20n to 20n + 20). */
  const frameSentMs: number[] = [];
  const send = (pcm: Float32Array<ArrayBuffer>): void => {
    frameSentMs.push(performance.now());
    connection.handle({ type: 'mic.audio', sessionId, seq: seq++, sampleRateHz: RATE_HZ, pcm });
  };
  const since = (index: number) => listener.messages.slice(index);
  const firstVoiceTurn = (index: number) => since(index).find(({ message }) => message.type === 'turn.started' && message.source === 'voice');
  /** Stops whatever the avatar does and waits until no turn is active. */
  const settle = async (): Promise<void> => {
    connection.handle({ type: 'turn.interrupt', sessionId });
    await sleep(300);
    connection.handle({ type: 'turn.interrupt', sessionId });
    await sleep(200);
  };

  const endpointMs: number[] = [];
  /** Last speech frame sent → the reply's LLM request (the words in and, after a provisional end, the VAD's silence run out). */
  const replyStartMs: number[] = [];
  /** Where a complete question's endpoint went: last speech frame sent → the pause's judging started (the VAD's silence); the judging (voice and words). */
  const vadEndMs: number[] = [];
  const judgeMs: number[] = [];
  /** Each question's pauses as judged: the voice's probability, the words' cue, complete or not. */
  const judged: string[] = [];
  const describePauses = (from: number, lastSpeechSentMs: number): string =>
    pauses
      .slice(from)
      .map(({ event, atMs }) => `${Math.round(atMs - lastSpeechSentMs)}ms p=${event.completeProbability.toFixed(2)} ${event.textCue}${event.complete ? ' END' : ''}`)
      .join('; ');
  let premature = 0;
  let paused = 0;
  let completeMissed = 0;
  let completeCut = 0;
  const notes: string[] = [];
  // Questions: complete ones, then ones with a thinking pause.
  let pauseIndex = 0;
  for (const [voiceName, say] of voices) {
    for (const text of complete) {
      const speech = await say(text);
      const [, last] = speechBounds(speech);
      const from = listener.messages.length;
      const pausesFrom = pauses.length;
      const sentAtMs = await speak(send, concatPcm([silence(400), speech, silence(2200)]));
      const lastSpeechSentMs = sentAtMs[Math.floor((silence(400).length + last) / FRAME_SAMPLES)]!;
      const started = firstVoiceTurn(from);
      const turnId = started?.message.type === 'turn.started' ? started.message.turnId : undefined;
      await settle();
      // The session keeps a turn's trace once the turn has ended.
      const trace = engine.session(sessionId)!.traces.find((kept) => kept.turnId === turnId);
      // A turn decided well before the question's last speech frame cut the question (a gap between
      // words judged as its end): counted apart, not as a fast endpoint.
      const cut = trace?.endpointMs !== undefined && trace.endpointMs - lastSpeechSentMs < -CUT_BEFORE_END_MS;
      if (cut) completeCut++;
      else if (trace?.endpointMs !== undefined) {
        endpointMs.push(trace.endpointMs - lastSpeechSentMs);
        if (trace.llmRequestMs !== undefined) replyStartMs.push(trace.llmRequestMs - lastSpeechSentMs);
      } else completeMissed++;
      const firstPause = pauses[pausesFrom];
      if (firstPause && trace?.endpointMs !== undefined && !cut) {
        vadEndMs.push(firstPause.atMs - firstPause.event.ms - lastSpeechSentMs);
        judgeMs.push(firstPause.event.ms);
      }
      judged.push(`complete (${voiceName}) "${text}": endpoint ${trace?.endpointMs !== undefined ? Math.round(trace.endpointMs - lastSpeechSentMs) : '-'} ms; pauses ${describePauses(pausesFrom, lastSpeechSentMs)}`);
    }
    for (const [first, second] of pausedTexts) {
      const pauseMs = 500 + ((pauseIndex++ * 137) % 501);
      // One sentence, so the first half keeps its mid-sentence intonation (two separate sentences
      // would each end as a finished statement), opened up at the comma into a thinking pause.
      const whole = await say(`${first}, ${second}`);
      const question = withPause(whole, first.length / (first.length + 2 + second.length), pauseMs);
      const [, last] = speechBounds(question);
      const from = listener.messages.length;
      const pausesFrom = pauses.length;
      const lead = silence(400);
      const sentAtMs = await speak(send, concatPcm([lead, question, silence(2200)]));
      const lastSpeechSentMs = sentAtMs[Math.floor((lead.length + last) / FRAME_SAMPLES)]!;
      const started = firstVoiceTurn(from);
      paused++;
      judged.push(`paused ${pauseMs} ms (${voiceName}) "${first} … ${second}": pauses ${describePauses(pausesFrom, lastSpeechSentMs)}`);
      if (started && started.atMs < lastSpeechSentMs) {
        premature++;
        const startedId = started.message.type === 'turn.started' ? started.message.turnId : '';
        const heard = since(from).find(({ message }) => message.type === 'transcript' && message.final && message.turnId === startedId);
        const cut = ((lastSpeechSentMs - started.atMs) / 1000).toFixed(1);
        notes.push(`premature (${voiceName}, ${pauseMs} ms pause): "${first} … ${second}" ended ${cut} s early as "${heard?.message.type === 'transcript' ? heard.message.text : '?'}"`);
      }
      await settle();
    }
  }

  // Speech over the speaking avatar.
  const duckMs: number[] = [];
  /** Where the duck's time went: first speech frame sent → the frame that decided it sent; that frame's VAD round trip. */
  const duckAudioMs: number[] = [];
  const duckVadMs: number[] = [];
  const duckCauses: Record<string, number> = {};
  let duckWithdrawn = 0;
  const stopMs: number[] = [];
  let falseInterruptions = 0;
  let missedInterruptions = 0;
  let backchannelClips = 0;
  let interruptionClips = 0;
  for (const [voiceName, say] of voices) {
    for (const [text, isBackchannel] of [...backchannels.map((t) => [t, true] as const), ...interruptionTexts.map((t) => [t, false] as const)]) {
      const speech = await say(text);
      const [firstSample] = speechBounds(speech);
      const from = listener.messages.length;
      const ducksFrom = ducks.length;
      connection.handle({ type: 'user.text', sessionId, text: 'Tell me a long story about the sea.' });
      while (!since(from).some(({ message }) => message.type === 'tts.chunk')) await sleep(10);
      const chunk = since(from).find(({ message }) => message.type === 'tts.chunk')!.message as Extract<ServerMessage, { type: 'tts.chunk' }>;
      connection.handle({ type: 'playback.progress', sessionId, turnId: chunk.turnId, seq: 0, playedMs: 0, started: true });
      await sleep(300);
      const lead = silence(200);
      const sentAtMs = await speak(send, concatPcm([lead, speech, silence(1500)]));
      const firstSpeechSentMs = sentAtMs[Math.floor((lead.length + firstSample) / FRAME_SAMPLES)]!;
      const after = since(from);
      const ducked = after.find(({ message }) => message.type === 'turn.duck' && message.ducked && message.turnId === chunk.turnId);
      const stopped = after.find(({ message }) => message.type === 'turn.stop' && message.turnId === chunk.turnId);
      if (ducked) duckMs.push(ducked.atMs - firstSpeechSentMs);
      const clipDucks = ducks.slice(ducksFrom);
      duckWithdrawn += clipDucks.filter(({ event }) => event.type === 'duck-withdrawn').length;
      const firstDuck = clipDucks.find(({ event }) => event.type === 'duck')?.event;
      if (firstDuck?.type === 'duck') {
        duckCauses[firstDuck.cause] = (duckCauses[firstDuck.cause] ?? 0) + 1;
        const decidingFrameSentMs = firstDuck.frameEndStreamMs !== undefined ? frameSentMs[Math.round(firstDuck.frameEndStreamMs / 20) - 1] : undefined;
        if (decidingFrameSentMs !== undefined) duckAudioMs.push(decidingFrameSentMs - firstSpeechSentMs);
        if (firstDuck.vadMs !== undefined) duckVadMs.push(firstDuck.vadMs);
      }
      if (isBackchannel) {
        backchannelClips++;
        if (stopped) {
          falseInterruptions++;
          const heard = after.find(({ message }) => message.type === 'transcript' && message.final);
          notes.push(`false interruption (${voiceName}): "${text}" heard as "${heard?.message.type === 'transcript' ? heard.message.text : '?'}"`);
        }
      } else {
        interruptionClips++;
        if (stopped) stopMs.push(stopped.atMs - firstSpeechSentMs);
        else {
          missedInterruptions++;
          const heard = after.filter(({ message }) => message.type === 'transcript' && message.final).map(({ message }) => (message.type === 'transcript' ? `"${message.text}"` : ''));
          const ducks = after.filter(({ message }) => message.type === 'turn.duck').length;
          notes.push(`missed interruption (${voiceName}): "${text}" heard as ${heard.join(', ') || 'nothing'}; ${ducks} duck messages`);
        }
      }
      await settle();
    }
  }
  connection.close();
  await engine.shutdown();

  return {
    models: { profile: 'dev (llm and tts scripted)', vad: 'silero v5', turn: engine.plan?.kinds.turn ? 'Smart Turn v3.2' : 'none', stt: 'whisper tiny.en', endOfTurn, interruptions, loudnessOnset: String(loudnessOnset), primeBackchannels: String(primeBackchannels), overlapHoldMs: options['overlap-hold-ms'] ?? 'default', vadSilenceMs: String(base.pipeline.turnDetection?.vadSilenceMs ?? '-'), judgeAfterSilenceMs: String(base.pipeline.turnDetection?.judgeAfterSilenceMs ?? '-'), secondLook: String(base.pipeline.turnDetection?.secondLook ?? false), maxPauseMs: String(base.pipeline.turnDetection?.maxPauseMs ?? '-') },
    runs: endpointMs.length + paused + backchannelClips + interruptionClips,
    metrics: {
      endpoint_ms_p50: round3(quantile(endpointMs, 0.5)),
      endpoint_ms_p95: round3(quantile(endpointMs, 0.95)),
      endpoint_vad_ms_p50: round3(quantile(vadEndMs, 0.5)),
      reply_start_ms_p50: round3(quantile(replyStartMs, 0.5)),
      reply_start_ms_p95: round3(quantile(replyStartMs, 0.95)),
      withdrawn_by_voice_count: withdrawn.voice ?? 0,
      withdrawn_by_words_count: withdrawn.words ?? 0,
      withdrawn_by_second_look_count: withdrawn['second-look'] ?? 0,
      endpoint_judge_ms_p50: round3(quantile(judgeMs, 0.5)),
      endpoint_judge_ms_p95: round3(quantile(judgeMs, 0.95)),
      complete_missed_count: completeMissed,
      complete_cut_ratio: round3(completeCut / Math.max(1, complete.length * voices.length)),
      premature_endpoint_ratio: round3(premature / Math.max(1, paused)),
      smart_turn_ms_p50: round3(quantile(endOfTurnMs, 0.5)),
      smart_turn_ms_p95: round3(quantile(endOfTurnMs, 0.95)),
      false_interruption_ratio: round3(falseInterruptions / Math.max(1, backchannelClips)),
      missed_interruption_ratio: round3(missedInterruptions / Math.max(1, interruptionClips)),
      duck_ms_p50: round3(quantile(duckMs, 0.5)),
      duck_ms_p95: round3(quantile(duckMs, 0.95)),
      duck_audio_ms_p50: round3(quantile(duckAudioMs, 0.5)),
      duck_audio_ms_p95: round3(quantile(duckAudioMs, 0.95)),
      duck_vad_ms_p50: round3(quantile(duckVadMs, 0.5)),
      duck_vad_ms_p95: round3(quantile(duckVadMs, 0.95)),
      duck_withdrawn_count: duckWithdrawn,
      interruption_stop_ms_p50: round3(quantile(stopMs, 0.5)),
      interruption_stop_ms_p95: round3(quantile(stopMs, 0.95)),
    },
    notes: [
      `${complete.length * voices.length} complete questions, ${pausedTexts.length * voices.length} with a 500–1000 ms pause, ${backchannelClips} backchannels and ${interruptionClips} interruptions over the speaking avatar; voices: ${voices.map(([name]) => name).join(', ')}; 20 ms frames in real time`,
      'endpoint = last speech frame sent → the voice turn decided (trace endpointMs; a provisional end, decided on the voice before the words were in, counts when it stood); reply_start = last speech frame sent → the reply requested from the LLM (the words in, and after a provisional end the VAD\'s silence run out); withdrawn = provisional ends the voice coming back or the words withdrew (no turn started for them; the utterance went on); premature = a voice turn started before the question\'s last speech frame was sent; duck and stop times from the first speech frame sent',
      'smart_turn_ms = the end-of-turn verdict: lease, features and model',
      `duck parts: duck_audio_ms = first speech frame sent → the frame that decided the duck sent (how much voice it took); duck_vad_ms = that frame's arrival → its VAD verdict back (0 for a loudness duck, decided on arrival); ducks by cause: ${JSON.stringify(duckCauses)}; duck_withdrawn_count = loudness ducks silero did not confirm`,
      `endpoint parts: endpoint_vad_ms = last speech frame sent → the pause's judging started (${base.pipeline.turnDetection?.judgeAfterSilenceMs !== undefined ? `its first ${base.pipeline.turnDetection.judgeAfterSilenceMs} ms unvoiced, judged before the VAD's end silence ran out` : "the VAD's end silence"}, silero's window and round trip); endpoint_judge_ms = the first pause's judging (Smart Turn and STT side by side)`,
      ...notes,
      ...(options.verbose === 'true' ? judged : []),
      `load average (1 min) at the end: ${loadavg()[0]!.toFixed(2)}`,
    ],
  };
}

const benchmark: Benchmark = {
  name: 'turn_taking',
  description: 'end of turn and interruptions on the dev models: endpoint after complete questions, premature endpoints on thinking pauses, backchannels vs interruptions over the avatar',
  run,
};

export default benchmark;
