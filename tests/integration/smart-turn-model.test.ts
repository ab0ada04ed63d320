/**
 * The Smart Turn v3.2 end-of-turn model in onnxruntime-node: files that are not the model are
 * refused in words before onnxruntime sees them; the real model (development profile) tells a
 * finished question from the same audio cut mid-phrase. Real-model cases are skipped with the
 * reason when the development models cannot be fetched.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedVoice } from '../../app/engine/lipsync/embedded-voice';
import { resample } from '../../app/engine/lipsync/wav-file';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';
import { PiperVoice } from '../../app/native-workers/piper/piper-voice';
import { readOnnxModelInfo } from '../../app/native-workers/tts/onnx-model-info';
import { SMART_TURN_SAMPLE_RATE_HZ, SMART_TURN_WINDOW_SAMPLES, SmartTurnModel } from '../../app/native-workers/turn/smart-turn-model';
import { AppError, ErrorCode } from '../../app/shared/errors.contract';

const dev = await devModelsOrSkipReason();
const workDir = mkdtempSync(join(tmpdir(), 'smart-turn-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

async function refusal(modelPath: string): Promise<AppError> {
  const error = await SmartTurnModel.load({ modelPath }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

function file(name: string, bytes: Uint8Array): string {
  const path = join(workDir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Deterministic bytes (no Math.random in tests). */
function noiseBytes(length: number, first?: number): Uint8Array {
  const bytes = Uint8Array.from({ length }, (_, i) => (i * 2654435761) >>> 24);
  if (first !== undefined) bytes[0] = first;
  return bytes;
}

function withSilence(pcm: Float32Array, silenceMs: number): Float32Array {
  const out = new Float32Array(pcm.length + (silenceMs * SMART_TURN_SAMPLE_RATE_HZ) / 1000);
  out.set(pcm);
  return out;
}

describe('Smart Turn model file checks', () => {
  it('refuses a missing file, a tiny file and bytes that are not ONNX, naming the file', async () => {
    const missing = await refusal(join(workDir, 'nope.onnx'));
    expect(missing.code).toBe(ErrorCode.ModelMissing);
    expect(missing.message).toMatch(/Smart Turn model file .*nope\.onnx is missing/);

    const tiny = await refusal(file('tiny.onnx', noiseBytes(1000, 0x08)));
    expect(tiny.code).toBe(ErrorCode.ModelInvalid);
    expect(tiny.message).toMatch(/tiny\.onnx has 1000 bytes, not the 1–200 MB of a Smart Turn model \(a truncated or wrong file\)/);

    const notOnnx = await refusal(file('not-onnx.onnx', noiseBytes(2_000_000, 0x50)));
    expect(notOnnx.message).toMatch(/not-onnx\.onnx does not start like an ONNX model; expected a Smart Turn v3 ONNX model \(input "input_features"/);

    const garbage = await refusal(file('garbage.onnx', noiseBytes(2_000_000, 0x08)));
    expect(garbage.message).toMatch(/garbage\.onnx is not a complete ONNX model \(/);
    expect(garbage.recoverable).toBe(false);
  });

  it('refuses a bad thread count before reading anything', async () => {
    await expect(SmartTurnModel.load({ modelPath: join(workDir, 'nope.onnx'), threads: 0 })).rejects.toThrow(/threads must be a whole number ≥ 1, not 0/);
  });
});

describe.skipIf(!dev.ok)(`Smart Turn v3.2 on the development model${dev.ok ? '' : ` (SKIPPED: ${dev.skipReason})`}`, () => {
  const modelPath = dev.ok ? dev.profile.turn!.smartTurnOnnxPath : '';

  it('declares the interface the checks expect', () => {
    const info = readOnnxModelInfo(readFileSync(modelPath));
    expect(info.inputs).toEqual([{ name: 'input_features', elementType: 1, dims: [expect.any(String), 80, 800] }]);
    expect(info.outputs).toEqual([{ name: 'logits', elementType: 1, dims: [expect.any(String), 1] }]);
  });

  it('refuses the model cut short and an ONNX model of another kind (the Piper voice), in words', async () => {
    const bytes = readFileSync(modelPath);
    const truncated = await refusal(file('truncated.onnx', bytes.subarray(0, Math.floor(bytes.length / 2))));
    expect(truncated.code).toBe(ErrorCode.ModelInvalid);
    expect(truncated.message).toMatch(/truncated\.onnx is not a complete ONNX model \(length-delimited field runs past the end\)/);
    if (!dev.ok) return;
    const voice = await refusal(dev.profile.tts.piperOnnxPath);
    expect(voice.message).toMatch(/en_US-joe-medium\.onnx has inputs "input" int64 \[batch_size, phonemes\], "input_lengths" int64 \[batch_size\], "scales" float32 \[3\]; expected a Smart Turn v3 ONNX model/);
  });

  it('scores a finished eSpeak NG question above the same audio cut before its last word', { timeout: 60_000 }, async () => {
    const model = await SmartTurnModel.load({ modelPath });
    const voice = await EmbeddedVoice.create();
    const clip = voice.render('What is the capital of France?');
    const pcm = resample(clip.pcm, clip.sampleRateHz, SMART_TURN_SAMPLE_RATE_HZ);
    // "What is the capital of": up to the /f/ of "France".
    const france = clip.phonemes.findLast((span) => span.phoneme === 'f');
    expect(france).toBeDefined();
    const cut = pcm.subarray(0, Math.round((france!.startMs / 1000) * SMART_TURN_SAMPLE_RATE_HZ));
    const complete = await model.predict(pcm);
    const incomplete = await model.predict(cut);
    console.log(
      `Smart Turn on eSpeak NG: "What is the capital of France?" ${complete.completeProbability.toFixed(3)}, cut to "What is the capital of" ${incomplete.completeProbability.toFixed(3)}`,
    );
    expect(complete.completeProbability).toBeGreaterThan(incomplete.completeProbability);
    expect(complete.completeProbability).toBeGreaterThan(0.5);
    await model.release();
  });

  it('scores finished Piper questions above the same audio cut mid-phrase, with and without trailing silence', { timeout: 120_000 }, async () => {
    if (!dev.ok) return;
    const model = await SmartTurnModel.load({ modelPath });
    const voice = await PiperVoice.load({ modelPath: dev.profile.tts.piperOnnxPath, cacheDir: join(workDir, 'piper'), noiseScale: 0, noiseW: 0 });
    const lines: string[] = [];
    // The first phoneme of each last word occurs nowhere after it: /f/ of France, /t/ of Tokyo.
    for (const [text, lastWordStart] of [
      ['What is the capital of France?', 'f'],
      ['Can you tell me the time in Tokyo?', 't'],
    ] as const) {
      const speech = await voice.synthesize(text);
      const pcm = resample(speech.pcm, speech.sampleRateHz, SMART_TURN_SAMPLE_RATE_HZ);
      const lastWord = speech.phonemes.findLast((span) => span.phoneme === lastWordStart);
      expect(lastWord).toBeDefined();
      const cut = pcm.subarray(0, Math.round((lastWord!.startMs / 1000) * SMART_TURN_SAMPLE_RATE_HZ));
      for (const silenceMs of [0, 200]) {
        const complete = (await model.predict(withSilence(pcm, silenceMs))).completeProbability;
        const incomplete = (await model.predict(withSilence(cut, silenceMs))).completeProbability;
        lines.push(`"${text}" +${silenceMs} ms silence: ${complete.toFixed(3)}, cut before its last word ${incomplete.toFixed(3)}`);
        expect(complete, `${text} +${silenceMs} ms`).toBeGreaterThan(incomplete);
      }
    }
    console.log(`Smart Turn on Piper joe:\n  ${lines.join('\n  ')}`);
    await voice.release();
    await model.release();
  });

  it('predicts 8 s of speech in tens of milliseconds on one thread (logged, not asserted)', { timeout: 60_000 }, async () => {
    const model = await SmartTurnModel.load({ modelPath });
    const voice = await EmbeddedVoice.create();
    const clip = voice.render('What is the capital of France? I would like to know it before tonight, please.');
    const speech = resample(clip.pcm, clip.sampleRateHz, SMART_TURN_SAMPLE_RATE_HZ);
    const eightSeconds = Float32Array.from({ length: SMART_TURN_WINDOW_SAMPLES }, (_, i) => speech[i % speech.length]!);
    for (let i = 0; i < 3; i++) await model.predict(eightSeconds);
    const inferenceMs: number[] = [];
    for (let i = 0; i < 20; i++) inferenceMs.push((await model.predict(eightSeconds)).inferenceMs);
    inferenceMs.sort((a, b) => a - b);
    const uptime = process.platform === 'linux' ? execFileSync('uptime', { encoding: 'utf8' }).trim() : `load average ${loadavg().join(', ')}`;
    console.log(
      `Smart Turn 8 s (features + model, 1 thread): p50 ${inferenceMs[10]!.toFixed(1)} ms, min ${inferenceMs[0]!.toFixed(1)}, max ${inferenceMs[19]!.toFixed(1)} over 20 runs; ${uptime}`,
    );
    expect(inferenceMs.every((ms) => ms > 0)).toBe(true);
    await model.release();
  });

  it('refuses audio it cannot score, recoverably', async () => {
    const model = await SmartTurnModel.load({ modelPath });
    await expect(model.predict(new Float32Array(0))).rejects.toMatchObject({ code: ErrorCode.BadAudio, recoverable: true });
    await expect(model.predict(Float32Array.of(0, Number.NaN))).rejects.toThrow(/non-finite sample at 1/);
    await model.release();
  });
});
