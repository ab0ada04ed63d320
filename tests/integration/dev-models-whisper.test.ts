/**
 * The development Whisper model (faster-whisper tiny.en, CTranslate2) converted to whisper.cpp ggml
 * by our converter, loaded by @fugood/whisper.node and transcribing real and synthesized speech.
 * Skipped (with the reason in the title) when the dev models cannot be fetched.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initWhisper, type WhisperContext } from '@fugood/whisper.node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRoot } from '../../app/engine/app-paths';
import { convertCt2WhisperToGgml } from '../../app/engine/models/ct2-whisper/convert-ct2-whisper';
import { wordErrorRate } from '../../app/engine/models/ct2-whisper/wer';
import { readDevManifest } from '../../app/engine/models/dev-model-profile';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';
import { sha256OfFile } from '../../app/engine/models/file-hash';

const dev = await devModelsOrSkipReason();
const jfkWav = join(appRoot, '..', 'shared', 'models', 'jfk.wav');
const JFK_TEXT = 'And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.';
const hasEspeak = existsSync('/usr/bin/espeak-ng') && existsSync('/usr/bin/sox');
/** One 30 s encoder window of this whisper.node build (no SIMD) takes ~25 s on 2 idle cores, minutes on busy ones. */
const TRANSCRIBE_TIMEOUT_MS = 600_000;

const SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'Please turn off the lights in the kitchen before you leave.',
  'My favorite color is blue and I like to read books.',
  'The weather today is sunny with a light breeze.',
  'Can you tell me how to get to the train station?',
];

/** The 16-bit PCM samples of a mono 16 kHz WAV file. */
function pcm16kOf(wavPath: string): Buffer {
  const wav = readFileSync(wavPath);
  let offset = 12;
  while (offset + 8 <= wav.length) {
    const id = wav.toString('latin1', offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      expect(wav.readUInt16LE(offset + 10)).toBe(1);
      expect(wav.readUInt32LE(offset + 12)).toBe(16_000);
      expect(wav.readUInt16LE(offset + 22)).toBe(16);
    }
    if (id === 'data') return wav.subarray(offset + 8, Math.min(wav.length, offset + 8 + size));
    offset += 8 + size + (size & 1);
  }
  throw new Error(`${wavPath}: no data chunk`);
}

const arrayBufferOf = (pcm: Buffer): ArrayBuffer => pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength) as ArrayBuffer;

describe.skipIf(!dev.ok)(`dev whisper tiny.en converted from CTranslate2${dev.ok ? '' : ` (SKIPPED: ${dev.skipReason})`}`, () => {
  const workDir = mkdtempSync(join(tmpdir(), 'dev-whisper-'));
  let whisper: WhisperContext;

  beforeAll(async () => {
    if (!dev.ok) return;
    whisper = await initWhisper({ filePath: dev.profile.stt.whisperGgmlPath, useGpu: false });
  });

  afterAll(async () => {
    await whisper?.release();
    rmSync(workDir, { recursive: true, force: true });
  });

  async function transcribe(pcm: Buffer): Promise<string> {
    const { promise } = whisper.transcribeData(arrayBufferOf(pcm), { language: 'en', maxThreads: 2, temperature: 0 });
    return (await promise).result.trim();
  }

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

  it.skipIf(!existsSync(jfkWav))(
    `transcribes jfk.wav (real speech) with WER ≤ 10 %${existsSync(jfkWav) ? '' : ' (SKIPPED: ../shared/models/jfk.wav is absent)'}`,
    async () => {
      const text = await transcribe(pcm16kOf(jfkWav));
      const { wer } = wordErrorRate(JFK_TEXT, text);
      console.log(`jfk.wav → "${text}" (WER ${(wer * 100).toFixed(1)} %)`);
      expect(wer).toBeLessThanOrEqual(0.1);
    },
    TRANSCRIBE_TIMEOUT_MS,
  );

  it.skipIf(!hasEspeak)(
    `transcribes five espeak-ng sentences with WER ≤ 20 %${hasEspeak ? '' : ' (SKIPPED: espeak-ng or sox missing)'}`,
    async () => {
      const gap = Buffer.alloc(16_000 * 2 * 0.6);
      const parts = SENTENCES.flatMap((sentence, i) => {
        const raw = join(workDir, `s${i}.wav`);
        const resampled = join(workDir, `s${i}-16k.wav`);
        execFileSync('espeak-ng', ['-v', 'en-us', '-w', raw, sentence]);
        execFileSync('sox', [raw, '-r', '16000', '-c', '1', '-b', '16', resampled]);
        return [pcm16kOf(resampled), gap];
      });
      // One clip (< 30 s): one encoder window instead of five.
      const text = await transcribe(Buffer.concat(parts));
      const { wer } = wordErrorRate(SENTENCES.join(' '), text);
      console.log(`espeak-ng sentences → "${text}" (WER ${(wer * 100).toFixed(1)} %)`);
      expect(wer).toBeLessThanOrEqual(0.2);
    },
    TRANSCRIBE_TIMEOUT_MS,
  );
});
