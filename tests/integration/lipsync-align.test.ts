import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedVoice } from '../../app/engine/lipsync/embedded-voice';
import { alignTextToAudio } from '../../app/engine/lipsync/text-aligner';
import { readWavFile, writeWavFile } from '../../app/engine/lipsync/wav-file';
import { estimateVisemesFromAudio, estimateVisemesFromVolume } from '../../app/shared/lipsync/audio-visemes';
import { visemeAt, visemeSpansFromPhonemes } from '../../app/shared/lipsync/viseme-spans';
import { EMBEDDED_VOICE_VISEME_CLASSIFIER } from '../../app/shared/lipsync/viseme-classifier-model';
import { quantile } from '../../bench/bench-api';
import { frameAgreement, mean, onsetErrorsMs, pairPhonemes, speechRangeMs } from '../../bench/lipsync-metrics';

function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const SENTENCES = [
  'Peter Piper picked a peck of pickled peppers.',
  'Would you like a cup of tea before we go to the museum this afternoon?',
  'The ship sailed smoothly through the calm blue sea.',
];

describe('aligning text to real speech', () => {
  let voice: EmbeddedVoice;
  let workDir: string;

  beforeAll(async () => {
    voice = await EmbeddedVoice.create();
    // The wasm2js build runs slowly until V8 has optimized it.
    for (const text of SENTENCES) voice.render(text);
    workDir = mkdtempSync(join(tmpdir(), 'lipsync-align-'));
  });

  afterAll(() => {
    rmSync(workDir, { recursive: true, force: true });
  });

  it('times the embedded voice in other variants and speeds than its references (mean ≤ 20 ms, p95 ≤ 40 ms)', { timeout: 180_000 }, () => {
    const errors: number[] = [];
    const renderings = [{ voice: 'en-us+f3', speed: 0.85 }, { voice: 'en-us+m7', speed: 1.2 }, { voice: 'en-us+m2', speed: 1 }];
    SENTENCES.forEach((text, index) => {
      const target = voice.render(text, renderings[index]);
      const aligned = alignTextToAudio(voice, text, target);
      const pairs = pairPhonemes(target.phonemes, aligned.phonemes);
      expect(pairs.length).toBe(target.phonemes.filter((span) => span.phoneme !== 'sil').length);
      errors.push(...onsetErrorsMs(target.phonemes, aligned.phonemes));
      expect(aligned.phonemes.at(-1)!.endMs).toBeCloseTo((target.pcm.length * 1000) / target.sampleRateHz, 6);
    });
    expect(mean(errors)).toBeLessThanOrEqual(20);
    expect(quantile(errors, 0.95)).toBeLessThanOrEqual(40);
  });

  it.skipIf(!hasCommand('espeak-ng') || !hasCommand('sox'))(
    "times Debian's espeak-ng (another build, voice and rate) resampled by sox to 44.1 kHz 24-bit and 8 kHz µ-law",
    { timeout: 180_000 },
    async () => {
      const text = SENTENCES[1]!;
      const original = join(workDir, 'debian.wav');
      execFileSync('espeak-ng', ['-v', 'en-us+f3', '-s', '140', '-w', original, text]);
      // The embedded build at the same voice and rate reproduces Debian's phoneme timing (only trailing silence differs).
      const truth = voice.render(text, { voice: 'en-us+f3', speed: 140 / 175 }).phonemes;
      for (const [name, soxArgs, expectedRateHz] of [
        ['hifi.wav', ['-r', '44100', '-b', '24'], 44100],
        ['phone.wav', ['-r', '8000', '-e', 'mu-law', '-b', '8'], 8000],
      ] as const) {
        const converted = join(workDir, name);
        execFileSync('sox', [original, ...soxArgs, converted]);
        const clip = await readWavFile(converted);
        expect(clip.sampleRateHz).toBe(expectedRateHz);
        const aligned = alignTextToAudio(voice, text, clip);
        const errors = onsetErrorsMs(truth, aligned.phonemes);
        expect(errors.length).toBe(truth.filter((span) => span.phoneme !== 'sil').length);
        expect(mean(errors)).toBeLessThanOrEqual(20);
        expect(quantile(errors, 0.95)).toBeLessThanOrEqual(40);
      }
    },
  );

  it.skipIf(!hasCommand('sox'))(
    'survives a pitch shift, reverb and background noise at 48 kHz float (timing unchanged by the effects)',
    { timeout: 180_000 },
    async () => {
      const text = SENTENCES[2]!;
      const source = voice.render(text, { voice: 'en-us+m7', speed: 1.1 });
      const sourcePath = join(workDir, 'source.wav');
      await writeWavFile(sourcePath, source);
      const noisePath = join(workDir, 'noise.wav');
      const durationSec = String(source.pcm.length / source.sampleRateHz);
      execFileSync('sox', ['-n', '-r', '48000', '-c', '1', noisePath, 'synth', durationSec, 'whitenoise', 'vol', '0.01']);
      for (const effect of [['pitch', '400'], ['reverb', '30']]) {
        const affected = join(workDir, 'affected.wav');
        const mixed = join(workDir, 'mixed.wav');
        execFileSync('sox', [sourcePath, '-r', '48000', '-e', 'floating-point', '-b', '32', affected, ...effect]);
        execFileSync('sox', ['-m', affected, noisePath, mixed]);
        const clip = await readWavFile(mixed);
        expect(clip.sampleRateHz).toBe(48000);
        const errors = onsetErrorsMs(source.phonemes, alignTextToAudio(voice, text, clip).phonemes);
        expect(mean(errors)).toBeLessThanOrEqual(20);
        expect(quantile(errors, 0.95)).toBeLessThanOrEqual(40);
      }
    },
  );

  it('estimates visemes from audio alone clearly better than volume-only mouth flapping', () => {
    const audio = { matching: 0, total: 0 };
    const volume = { matching: 0, total: 0 };
    for (const text of SENTENCES) {
      const clip = voice.render(text, { voice: 'en-us+m7', speed: 1.1 });
      const truth = visemeSpansFromPhonemes(clip.phonemes);
      const speech = speechRangeMs(clip.phonemes)!;
      const fromAudio = estimateVisemesFromAudio(clip, EMBEDDED_VOICE_VISEME_CLASSIFIER);
      const fromVolume = estimateVisemesFromVolume(clip);
      const a = frameAgreement(truth, speech, (timeMs) => visemeAt(fromAudio, timeMs));
      const v = frameAgreement(truth, speech, (timeMs) => visemeAt(fromVolume, timeMs));
      audio.matching += a.matching;
      audio.total += a.total;
      volume.matching += v.matching;
      volume.total += v.total;
    }
    expect(audio.matching / audio.total).toBeGreaterThan(0.45);
    expect(audio.matching / audio.total).toBeGreaterThan(volume.matching / volume.total + 0.25);
  });
});
