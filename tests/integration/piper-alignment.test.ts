/**
 * The alignment patch on the real development voice (Piper en_US joe, medium): the patched model
 * gains the durations output, keeps its audio output, and speaks the same audio as the original.
 * Skipped (with the reason in the title) when the dev models cannot be fetched.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import protobuf from 'protobufjs';
import { afterAll, describe, expect, it } from 'vitest';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';
import { ensureAlignedModel } from '../../app/native-workers/piper/piper-aligned-model';
import { inspectPiperGraph } from '../../app/native-workers/piper/piper-alignment-patch';
import { PiperPhonemizer } from '../../app/native-workers/piper/piper-phonemizer';
import { sentenceIds } from '../../app/native-workers/piper/piper-timeline';
import { readPiperConfig } from '../../app/native-workers/piper/piper-voice-config';

const dev = await devModelsOrSkipReason();
const DURATIONS = '/Ceil_output_0';
/** Two sessions of the 60 MB voice on a busy 2-core machine take 10–60 s to open. */
const TWO_SESSIONS_TIMEOUT_MS = 240_000;

/** Top-level fields of a ModelProto as hex, the graph's payload apart. */
function fieldsOf(model: Uint8Array): { others: string[]; graph: Uint8Array } {
  const reader = protobuf.Reader.create(model);
  const others: string[] = [];
  let graph: Uint8Array = new Uint8Array();
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const key = reader.uint32();
    if (key >>> 3 === 7) {
      graph = reader.bytes();
      continue;
    }
    reader.skipType(key & 7);
    others.push(Buffer.from(model.subarray(start, reader.pos)).toString('hex'));
  }
  return { others, graph };
}

describe.skipIf(!dev.ok)(`Piper alignment patch on the dev voice${dev.ok ? '' : ` (SKIPPED: ${dev.skipReason})`}`, () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'piper-aligned-'));
  const modelPath = dev.ok ? dev.profile.tts.piperOnnxPath : '';

  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('patches once into the cache, then reuses it; the source file is untouched', async () => {
    const sourceBefore = statSync(modelPath);
    const first = await ensureAlignedModel(modelPath, cacheDir);
    expect(first).toMatchObject({ durationsOutput: DURATIONS, hasSpeakerInput: false, source: 'patched' });
    expect(first.path.startsWith(cacheDir)).toBe(true);
    const second = await ensureAlignedModel(modelPath, cacheDir);
    expect(second).toEqual({ ...first, source: 'cache' });
    const ofPatched = await ensureAlignedModel(first.path, cacheDir);
    expect(ofPatched).toMatchObject({ path: first.path, source: 'model' });
    expect(statSync(modelPath).mtimeMs).toBe(sourceBefore.mtimeMs);
  });

  it('adds only the output: every other byte of the 60 MB model is copied as it was', async () => {
    const { path } = await ensureAlignedModel(modelPath, cacheDir);
    const original = readFileSync(modelPath);
    const patched = readFileSync(path);
    expect(inspectPiperGraph(original).outputNames).toEqual(['output']);
    expect(inspectPiperGraph(patched).outputNames).toEqual(['output', DURATIONS]);
    const before = fieldsOf(original);
    const after = fieldsOf(patched);
    expect(after.others).toEqual(before.others);
    expect(Buffer.from(after.graph.subarray(0, before.graph.length)).equals(Buffer.from(before.graph))).toBe(true);
    expect(patched.length - original.length).toBeLessThan(300);
  });

  it('onnxruntime sees two outputs; with noise 0 the audio equals the original model’s and the durations add up to it', async () => {
    const { path } = await ensureAlignedModel(modelPath, cacheDir);
    const config = await readPiperConfig(dev.ok ? dev.profile.tts.piperConfigPath : '');
    const phonemizer = await PiperPhonemizer.create();
    phonemizer.setVoice(config.espeakVoice);
    const [sentence] = phonemizer.phonemize('Bob met Pam by the map.');
    const { ids } = sentenceIds(sentence!, config.phonemeIdMap);
    const feeds = {
      input: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
      input_lengths: new ort.Tensor('int64', BigInt64Array.of(BigInt(ids.length)), [1]),
      scales: new ort.Tensor('float32', Float32Array.of(0, config.lengthScale, 0), [3]),
    };
    const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1 };
    const plain = await ort.InferenceSession.create(modelPath, options);
    const aligned = await ort.InferenceSession.create(path, options);
    try {
      expect(plain.outputNames).toEqual(['output']);
      expect(aligned.outputNames).toEqual(['output', DURATIONS]);
      const a = await plain.run(feeds);
      const b = await aligned.run(feeds);
      const audioA = a.output!.data as Float32Array;
      const audioB = b.output!.data as Float32Array;
      expect(b.output!.dims).toEqual(a.output!.dims);
      let maxDifference = 0;
      for (let i = 0; i < audioA.length; i++) maxDifference = Math.max(maxDifference, Math.abs(audioA[i]! - audioB[i]!));
      expect(maxDifference).toBeLessThanOrEqual(1e-6);

      const frames = Array.from(b[DURATIONS]!.data as Float32Array);
      expect(b[DURATIONS]!.dims).toEqual([1, 1, ids.length]);
      expect(frames.every((count) => Number.isInteger(count) && count >= 1)).toBe(true);
      expect(frames.reduce((sum, count) => sum + count, 0) * config.hopLength).toBe(audioB.length);
    } finally {
      await plain.release();
      await aligned.release();
    }
  }, TWO_SESSIONS_TIMEOUT_MS);
});
