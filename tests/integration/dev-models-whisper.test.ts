/**
 * The development Whisper model (faster-whisper tiny.en, CTranslate2) converted to whisper.cpp ggml
 * by our converter: byte for byte the pinned file, and the app's whisper worker transcribes a clip of
five synthesized sentences with it (stt-whisper-dev-model.test.ts covers real speech and single sentences).
 * Skipped (with the reason in the title) when the dev models cannot be fetched.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCt2WhisperToGgml } from '../../app/engine/models/ct2-whisper/convert-ct2-whisper';
import { wordErrorRate } from '../../app/engine/models/ct2-whisper/wer';
import { readDevManifest } from '../../app/engine/models/dev-model-profile';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';
import { sha256OfFile } from '../../app/engine/models/file-hash';
import { decodeWavAt } from '../../app/engine/lipsync/wav-file';
import { startWhisperWorker, stopWhisperWorker, transcribeOn } from '../support/whisper-worker';

const dev = await devModelsOrSkipReason();
const hasEspeak = existsSync('/usr/bin/espeak-ng') && existsSync('/usr/bin/sox');
const TRANSCRIBE_TIMEOUT_MS = 120_000;

const SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'Please turn off the lights in the kitchen before you leave.',
  'My favorite color is blue and I like to read books.',
  'The weather today is sunny with a light breeze.',
  'Can you tell me how to get to the train station?',
];

describe.skipIf(!dev.ok)(`dev whisper tiny.en converted from CTranslate2${dev.ok ? '' : ` (SKIPPED: ${dev.skipReason})`}`, () => {
  const workDir = mkdtempSync(join(tmpdir(), 'dev-whisper-'));
  let worker: Worker | undefined;

  beforeAll(async () => {
    if (!dev.ok) return;
    ({ worker } = await startWhisperWorker(dev.profile.stt.whisperGgmlPath));
  });

  afterAll(async () => {
    await stopWhisperWorker(worker);
    rmSync(workDir, { recursive: true, force: true });
  });

  it('re-converts the CTranslate2 model byte for byte to the pinned ggml file', async () => {
    if (!dev.ok) return;
    const out = join(workDir, 'ggml-tiny.en.bin');
    const result = convertCt2WhisperToGgml(dev.profile.stt.ct2Dir, out);
    expect(result.hparams).toEqual({
      nVocab: 51864,
      nAudioCtx: 1500,
      nAudioState: 384,
      nAudioHead: 6,
      nAudioLayer: 4,
      nTextCtx: 448,
      nTextState: 384,
      nTextHead: 6,
      nTextLayer: 4,
      nMels: 80,
      ftype: 1,
    });
    expect(result.tensorCount).toBe(167);
    expect(result.vocabularyTokens).toBe(50256);
    expect(await sha256OfFile(out)).toBe(readDevManifest().whisperGgml.sha256);
  });

  it.skipIf(!hasEspeak)(
    `transcribes five espeak-ng sentences with WER ≤ 20 %${hasEspeak ? '' : ' (SKIPPED: espeak-ng or sox missing)'}`,
    async () => {
      const gap = new Float32Array(16_000 * 0.6);
      const parts = SENTENCES.flatMap((sentence, i) => {
        const raw = join(workDir, `s${i}.wav`);
        const resampled = join(workDir, `s${i}-16k.wav`);
        execFileSync('espeak-ng', ['-v', 'en-us', '-w', raw, sentence]);
        execFileSync('sox', [raw, '-r', '16000', '-c', '1', '-b', '16', resampled]);
        return [decodeWavAt(readFileSync(resampled), 16_000), gap];
      });
      // One clip (< 30 s): one encoder window instead of five.
      const clip = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
      parts.reduce((offset, part) => (clip.set(part, offset), offset + part.length), 0);
      const text = (await transcribeOn(worker!, clip)).text.trim();
      const { wer } = wordErrorRate(SENTENCES.join(' '), text);
      console.log(`espeak-ng sentences → "${text}" (WER ${(wer * 100).toFixed(1)} %)`);
      expect(wer).toBeLessThanOrEqual(0.2);
    },
    TRANSCRIBE_TIMEOUT_MS,
  );
});
