/**
 * Our Smart Turn input against the reference: the pipecat-ai wheel's own numpy feature code
 * (`_whisper_features.py`, unpacked by `npm run models -- dev`) run by scripts/smart-turn-reference.py
 * on the same clips, with the wheel's placement (last 8 s, zeros in front). Features are compared
 * element by element and the model's probability on both sides. Skipped with the reason when the
 * development models or Python with numpy are missing; the Python-side probability needs the Python
 * onnxruntime package as well, and without it the model is run here on the Python features instead.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedVoice } from '../../app/engine/lipsync/embedded-voice';
import { resample } from '../../app/engine/lipsync/wav-file';
import { appRoot } from '../../app/engine/app-paths';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';
import { SMART_TURN_SAMPLE_RATE_HZ, SMART_TURN_WINDOW_SAMPLES, SmartTurnModel } from '../../app/native-workers/turn/smart-turn-model';
import { fitToWindow, WhisperFeatureExtractor } from '../../app/shared/audio/whisper-features';

/**
 * Largest feature difference accepted. What remains between the two after matching numpy's float32
 * normalization (same pairwise sums) is float64 rounding in the FFT and the mel products (~1e-15
 * relative) and the mel weights kept in float32 (≤ 6e-8 relative, ≤ 1e-8 after log10 and /4), so the
 * outputs differ by at most a float32 rounding step (1.2e-7 below 2). Without numpy's summation order
 * the mean differs in its last bits and quiet low bands moved by ~1.2e-5; 1e-4 leaves room for a
 * numpy that sums differently, and is still 3 orders below anything the model could notice.
 */
const MAX_FEATURE_ERROR = 1e-4;
/** The int8 model's output moves in steps; identical features must give the same step. */
const MAX_PROBABILITY_DIFFERENCE = 1e-3;

const python = process.env.AVATAR_PYTHON ?? 'python3';
const dev = await devModelsOrSkipReason();

function pythonSkipReason(): string | undefined {
  const probe = spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.error) return `${python} cannot be run (${probe.error.message})`;
  if (probe.status !== 0) return `${python} has no numpy (pip install numpy)`;
  return undefined;
}

const skipReason = dev.ok ? pythonSkipReason() : dev.skipReason;
if (skipReason) console.warn(`SKIPPED (${skipReason})`);
const workDir = mkdtempSync(join(tmpdir(), 'smart-turn-reference-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

interface ReferenceOutput {
  numpy: string;
  onnxruntime: string | null;
  results: Array<{ name: string; shape: number[]; featuresPath: string; probability: number | null }>;
}

/** The test clips, 16 kHz: speech, its cut, a sweep, silence, a quiet short clip and a 12 s clip (truncated to its last 8 s). */
async function testClips(): Promise<Record<string, Float32Array>> {
  const voice = await EmbeddedVoice.create();
  const speak = (text: string): Float32Array => {
    const clip = voice.render(text);
    return resample(clip.pcm, clip.sampleRateHz, SMART_TURN_SAMPLE_RATE_HZ);
  };
  const question = voice.render('What is the capital of France?');
  const questionPcm = resample(question.pcm, question.sampleRateHz, SMART_TURN_SAMPLE_RATE_HZ);
  const france = question.phonemes.findLast((span) => span.phoneme === 'f')!;
  const sweepSec = 3;
  const sweep = Float32Array.from({ length: sweepSec * SMART_TURN_SAMPLE_RATE_HZ }, (_, i) => {
    const t = i / SMART_TURN_SAMPLE_RATE_HZ;
    // Logarithmic sweep 100 Hz → 7 kHz.
    const rate = Math.log(7000 / 100) / sweepSec;
    return 0.5 * Math.sin(((2 * Math.PI * 100) / rate) * (Math.exp(rate * t) - 1));
  });
  let state = 7;
  const quietNoise = Float32Array.from({ length: SMART_TURN_SAMPLE_RATE_HZ / 2 }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return 1e-3 * (state / 2147483648 - 0.5);
  });
  const long = new Float32Array(12 * SMART_TURN_SAMPLE_RATE_HZ);
  const sentences = ['Tell me a story about a dragon.', 'It lived in a cave by the sea.', 'One day it flew to the city, and then'];
  let at = 0;
  for (let i = 0; at < long.length; i++) {
    const part = speak(sentences[i % sentences.length]!).subarray(0, long.length - at);
    long.set(part, at);
    at += part.length + Math.min(long.length - at - part.length, 0.3 * SMART_TURN_SAMPLE_RATE_HZ);
  }
  return {
    question: questionPcm,
    cutQuestion: questionPcm.subarray(0, Math.round((france.startMs / 1000) * SMART_TURN_SAMPLE_RATE_HZ)),
    sweep,
    silence: new Float32Array(2 * SMART_TURN_SAMPLE_RATE_HZ),
    quietNoise,
    twelveSeconds: long,
  };
}

describe.skipIf(skipReason !== undefined)(`Smart Turn input against pipecat's reference code${skipReason ? ` (SKIPPED: ${skipReason})` : ''}`, () => {
  it('computes the same features and the same probability as the reference on every clip', { timeout: 120_000 }, async () => {
    if (!dev.ok) return;
    const clips = await testClips();
    const clipArgs = Object.entries(clips).map(([name, pcm]) => {
      const path = join(workDir, `${name}.f32`);
      writeFileSync(path, new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength));
      return `${name}=${path}`;
    });
    const script = join(appRoot, 'scripts', 'smart-turn-reference.py');
    const run = spawnSync(
      python,
      [script, '--features-code', dev.profile.turn!.referenceFeaturesPath, '--model', dev.profile.turn!.smartTurnOnnxPath, '--out-dir', workDir, ...clipArgs],
      { encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
    const reference = JSON.parse(run.stdout) as ReferenceOutput;

    const extractor = new WhisperFeatureExtractor(SMART_TURN_WINDOW_SAMPLES);
    const model = await SmartTurnModel.load({ modelPath: dev.profile.turn!.smartTurnOnnxPath });
    const session = await ort.InferenceSession.create(dev.profile.turn!.smartTurnOnnxPath, { intraOpNumThreads: 1 });
    const lines: string[] = [];
    for (const result of reference.results) {
      const pcm = clips[result.name]!;
      expect(result.shape).toEqual([80, 800]);
      const expected = new Float32Array(readFileSync(result.featuresPath).buffer.slice(0));
      const actual = extractor.compute(fitToWindow(pcm, SMART_TURN_WINDOW_SAMPLES));
      let maxError = 0;
      for (let i = 0; i < actual.length; i++) maxError = Math.max(maxError, Math.abs(actual[i]! - expected[i]!));

      const ours = (await model.predict(pcm)).completeProbability;
      const outputs = await session.run({ input_features: new ort.Tensor('float32', expected, [1, 80, 800]) });
      const onPythonFeatures = (outputs[session.outputNames[0]!]!.data as Float32Array)[0]!;
      lines.push(
        `${result.name.padEnd(13)} max |Δfeature| ${maxError.toExponential(2)}  p(complete) ours ${ours.toFixed(6)}  ` +
          `Python ${result.probability === null ? 'n/a' : result.probability.toFixed(6)}  model here on Python features ${onPythonFeatures.toFixed(6)}`,
      );
      expect(maxError, result.name).toBeLessThanOrEqual(MAX_FEATURE_ERROR);
      expect(Math.abs(ours - onPythonFeatures), result.name).toBeLessThanOrEqual(MAX_PROBABILITY_DIFFERENCE);
      if (result.probability !== null) expect(Math.abs(ours - result.probability), result.name).toBeLessThanOrEqual(MAX_PROBABILITY_DIFFERENCE);
    }
    console.log(
      `Smart Turn features and probabilities, TypeScript vs pipecat's numpy code (numpy ${reference.numpy}, Python onnxruntime ${reference.onnxruntime ?? 'absent'}):\n  ${lines.join('\n  ')}`,
    );
    await session.release();
    await model.release();
  });
});
