/**
 * The development Piper voice (en_US-joe-medium) in onnxruntime-node: graph inputs/outputs and one
 * short synthesis. Skipped (with the reason in the title) when the dev models cannot be fetched.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';
import { sha256OfFile } from '../../app/engine/models/file-hash';

const dev = await devModelsOrSkipReason();

/** sha256 of the upstream voice rhasspy/piper-voices en/en_US/joe/medium/en_US-joe-medium.onnx (63 201 294 bytes). */
const UPSTREAM_JOE_MEDIUM_SHA256 = '58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06';

describe.skipIf(!dev.ok)(`dev Piper voice en_US-joe-medium${dev.ok ? '' : ` (SKIPPED: ${dev.skipReason})`}`, () => {
  it('is the upstream voice file and loads in onnxruntime-node with the single-speaker VITS interface', async () => {
    if (!dev.ok) return;
    expect(await sha256OfFile(dev.profile.tts.piperOnnxPath)).toBe(UPSTREAM_JOE_MEDIUM_SHA256);
    const config = JSON.parse(readFileSync(dev.profile.tts.piperConfigPath, 'utf8')) as {
      audio: { sample_rate: number };
      espeak: { voice: string };
      num_speakers: number;
      phoneme_id_map: Record<string, number[]>;
    };
    expect(config.audio.sample_rate).toBe(22_050);
    expect(config.espeak.voice).toBe('en-us');
    expect(config.num_speakers).toBe(1);

    const session = await ort.InferenceSession.create(dev.profile.tts.piperOnnxPath, { intraOpNumThreads: 2 });
    console.log(`Piper inputs ${JSON.stringify(session.inputNames)} outputs ${JSON.stringify(session.outputNames)}`);
    expect(session.inputNames).toEqual(['input', 'input_lengths', 'scales']);
    expect(session.outputNames).toEqual(['output']);

    // "həlˈoʊ" framed as Piper does: ^ _ (id _)* $
    const id = (symbol: string): number => config.phoneme_id_map[symbol]?.[0] ?? -1;
    const ids = [id('^'), id('_'), ...[...'həlˈoʊ'].flatMap((p) => [id(p), id('_')]), id('$')];
    expect(ids.every((v) => v >= 0)).toBe(true);
    const result = await session.run({
      input: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
      input_lengths: new ort.Tensor('int64', BigInt64Array.of(BigInt(ids.length)), [1]),
      scales: new ort.Tensor('float32', Float32Array.of(0.667, 1, 0.8), [3]),
    });
    const audio = result.output;
    expect(audio?.dims.slice(0, 3)).toEqual([1, 1, 1]);
    const samples = audio?.data as Float32Array;
    const seconds = samples.length / config.audio.sample_rate;
    expect(seconds).toBeGreaterThan(0.2);
    expect(seconds).toBeLessThan(3);
    expect(Math.max(...samples.map(Math.abs))).toBeGreaterThan(0.05);
    await session.release();
  });
});
