import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinReplies, SpokenTurnClient, type SpokenTurn } from '../../app/hosts/cli/spoken-turn';
import { createEngine, type EngineInstance } from '../../app/engine/create-engine';
import { resolveProfile } from '../../app/engine/model-profile';
import { EmbeddedVoice } from '../../app/engine/lipsync/embedded-voice';
import { wordErrorRate } from '../../app/engine/models/ct2-whisper/wer';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';
import { speakableText } from '../../app/engine/pipeline/speakable-text';
import { workerEntryFor } from '../../app/engine/pool/worker-entry';
import { startWorkerThread } from '../../app/native-workers/worker-thread';
import { requestWorker } from '../support/worker-request';
import { SttRunResultSchema } from '../../app/shared/worker.contract';

/**
 * The reply is intelligible: a few spoken questions go through the engine exactly as `npm run cli
 * -- turn` sends them (SpokenTurnClient: VAD → whisper → SmolLM2 → chunker → Piper), and whisper
 * transcribes the reply audio back. SmolLM2's replies vary from run to run, so the reference is
 * the text the voice was given (the chunks, markdown removed), over all replies joined: one short reply cannot decide
 * the rate alone.
 */
const dev = await devModelsOrSkipReason();
const QUESTIONS = ['What color is the sky on a clear day?', 'How many legs does a spider have?', 'Can you tell me a short joke?'];

describe.skipIf(!dev.ok)(`the engine's spoken replies transcribed back${dev.ok ? '' : ` (SKIPPED: ${dev.skipReason})`}`, () => {
  let engine: EngineInstance;
  let whisper: Worker;
  const turns: SpokenTurn[] = [];

  beforeAll(async () => {
    const { config } = await resolveProfile({ profile: 'dev' });
    // Greedy decoding: the same replies every run, so the test measures the voice, not sampling luck.
    engine = createEngine({ ...config, pipeline: { ...config.pipeline, temperature: 0 } });
    whisper = startWorkerThread(workerEntryFor('whisper'));
    const [, ready] = await Promise.all([
      engine.start(),
      requestWorker(whisper, { type: 'load', spec: { kind: 'stt', engine: 'whisper', modelName: 'roundtrip', modelPath: dev.ok ? dev.profile.stt.whisperGgmlPath : '', threads: 1, options: { dropRepeatedSentences: false } } }, (r) => r.type === 'ready' || r.type === 'error'),
    ]);
    if (ready.type !== 'ready') throw new Error(`whisper did not load: ${JSON.stringify(ready)}`);
    const voice = await EmbeddedVoice.create();
    const client = await SpokenTurnClient.open(engine);
    for (const question of QUESTIONS) {
      const clip = voice.render(question);
      turns.push(await client.speak(clip.pcm, clip.sampleRateHz, { paced: false }));
    }
    client.close();
  }, 300_000);

  afterAll(async () => {
    await whisper?.terminate();
    await engine?.shutdown();
  });

  it('answers every question, and the voice speaks the whole reply', () => {
    for (const [index, turn] of turns.entries()) {
      expect(turn.status, `turn ${index}: ${turn.error ?? ''}`).toBe('complete');
      expect(wordErrorRate(QUESTIONS[index]!, turn.transcript).wer).toBeLessThanOrEqual(0.34);
      expect(turn.pcm.length).toBeGreaterThan(0);
      expect(wordErrorRate(turn.reply, turn.chunks.map((chunk) => chunk.text).join(' ')).edits).toBe(0);
    }
  });

  it('whisper hears the replies back with a word error rate ≤ 20 % of what the voice was given', { timeout: 120_000 }, async () => {
    const clips = joinReplies(turns.map((turn) => ({ pcm: turn.pcm, sampleRateHz: turn.sampleRateHz, text: turn.chunks.map((chunk) => speakableText(chunk.text)).join(' ') })));
    let edits = 0;
    let words = 0;
    const heard: string[] = [];
    for (const [index, clip] of clips.entries()) {
      const requestId = `roundtrip-${index}`;
      const reply = await requestWorker(whisper, { type: 'run', requestId, input: { kind: 'stt', sampleRateHz: 16000, pcm: clip.pcm, final: true } }, (r) => (r.type === 'result' || r.type === 'error') && r.requestId === requestId);
      if (reply.type !== 'result') throw new Error(`whisper failed: ${JSON.stringify(reply)}`);
      const text = SttRunResultSchema.parse(reply.data).text;
      heard.push(text);
      const result = wordErrorRate(clip.text, text);
      edits += result.edits;
      words += result.referenceWords;
    }
    expect(words).toBeGreaterThanOrEqual(8);
    expect(edits / words, `spoken: ${clips.map((c) => c.text).join(' | ')}\nheard: ${heard.join(' | ')}`).toBeLessThanOrEqual(0.2);
  });
});
