import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRoot } from '../../app/engine/app-paths';
import { decodeWavAt } from '../../app/engine/lipsync/wav-file';
import { wordErrorRate } from '../../app/engine/models/ct2-whisper/wer';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';
import { BACKCHANNEL_PROMPT, isBackchannel } from '../../app/engine/conversation/backchannel';
import { startWhisperWorker, stopWhisperWorker, transcribeOn } from '../support/whisper-worker';

/**
 * The whisper worker on the development model (tiny.en converted from CTranslate2 by our converter):
 * the pre-load check accepts a real file, whisper.cpp loads it, and it transcribes real speech
 * (jfk.wav from the shared models folder) and eSpeak NG sentences within word-error-rate gates.
 */
const dev = await devModelsOrSkipReason();
const jfkWav = join(appRoot, '..', 'shared', 'models', 'jfk.wav');
const JFK_TEXT = 'And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.';
const espeakNg = '/usr/bin/espeak-ng';
const ESPEAK_SENTENCES = [
  'Hello there, how are you doing today?',
  'Could you tell me the weather for tomorrow?',
  'I would like to order a large pizza with mushrooms, please.',
];
const SAMPLE_RATE_HZ = 16_000;

const wavTo16kHz = (wav: Buffer): Float32Array<ArrayBuffer> => decodeWavAt(wav, SAMPLE_RATE_HZ);

describe.skipIf(!dev.ok)(`whisper worker on the dev tiny.en model${dev.ok ? '' : ` (SKIPPED: ${dev.skipReason})`}`, () => {
  let worker: Worker;

  beforeAll(async () => {
    if (!dev.ok) return;
    const modelPath = dev.profile.stt.whisperGgmlPath;
    let info: Record<string, unknown>;
    ({ worker, info } = await startWhisperWorker(modelPath));
    expect(info).toMatchObject({ modelPath, weightType: 'f16', layers: 4, width: 384, multilingual: false, language: 'en' });
  });

  afterAll(async () => {
    await stopWhisperWorker(worker);
  });

  it.skipIf(!existsSync(jfkWav))(`transcribes jfk.wav within 10 % WER${existsSync(jfkWav) ? '' : ` (SKIPPED: ${jfkWav} is absent)`}`, async () => {
    const pcm = wavTo16kHz(readFileSync(jfkWav));
    const result = await transcribeOn(worker, pcm);
    expect(wordErrorRate(JFK_TEXT, result.text).wer, result.text).toBeLessThanOrEqual(0.1);
    expect(result.segments.length).toBeGreaterThan(0);
    for (const segment of result.segments) expect(segment.endMs).toBeLessThanOrEqual((pcm.length / SAMPLE_RATE_HZ) * 1000);
  });

  it.skipIf(!existsSync(espeakNg))(`transcribes eSpeak NG sentences within 20 % WER${existsSync(espeakNg) ? '' : ' (SKIPPED: espeak-ng is not installed)'}`, async () => {
    for (const sentence of ESPEAK_SENTENCES) {
      const result = await transcribeOn(worker, wavTo16kHz(execFileSync(espeakNg, ['--stdout', '-v', 'en-us', sentence])));
      expect(wordErrorRate(sentence, result.text).wer, result.text).toBeLessThanOrEqual(0.2);
    }
  });

  it.skipIf(!existsSync(espeakNg))('reads hums and nods as backchannels with the backchannel prompt (eSpeak\'s "Mm-hmm." is "And I\'m the..." without it), and real words as said', async () => {
    const say = (text: string, voice: string): Float32Array<ArrayBuffer> => {
      const speech = wavTo16kHz(execFileSync(espeakNg, ['--stdout', '-v', voice, text]));
      // As an utterance reaches STT: some silence before and after the speech.
      const padded = new Float32Array(speech.length + SAMPLE_RATE_HZ / 2);
      padded.set(speech, SAMPLE_RATE_HZ / 5);
      return padded;
    };
    for (const [text, voice] of [['Mm-hmm.', 'en-us'], ['Uh-huh.', 'en-us+f2'], ['Yeah.', 'en-us']] as const) {
      const primed = await transcribeOn(worker, say(text, voice), BACKCHANNEL_PROMPT);
      expect(isBackchannel(primed.text), `${text} (${voice}) heard as "${primed.text}"`).toBe(true);
    }
    for (const text of ['Wait, stop.', 'Can you repeat that?']) {
      const primed = await transcribeOn(worker, say(text, 'en-us'), BACKCHANNEL_PROMPT);
      expect(isBackchannel(primed.text), primed.text).toBe(false);
      expect(wordErrorRate(text, primed.text).wer, primed.text).toBeLessThanOrEqual(0.34);
    }
  });
});
