import { describe, expect, it } from 'vitest';
import { trainVisemeClassifier } from '../../app/engine/lipsync/viseme-classifier-training';
import { AUDIO_VISEME_HOP_MS, audioVisemeFeatures, estimateVisemesFromAudio } from '../../app/shared/lipsync/audio-visemes';
import { visemeAt, type VisemeSpan } from '../../app/shared/lipsync/viseme-spans';
import type { Viseme } from '../../app/shared/phoneme.contract';

const SAMPLE_RATE_HZ = 16000;

/** A clip of vowel-like buzzes: each part is [viseme, formant Hz (0 = silence), duration ms]. */
function clip(parts: readonly (readonly [Viseme, number, number])[]): { pcm: Float32Array; sampleRateHz: number; spans: VisemeSpan[] } {
  const spans: VisemeSpan[] = [];
  const samples: number[] = [];
  let startMs = 0;
  for (const [viseme, formantHz, durationMs] of parts) {
    const count = Math.round((durationMs * SAMPLE_RATE_HZ) / 1000);
    for (let i = 0; i < count; i++) {
      const t = i / SAMPLE_RATE_HZ;
      samples.push(formantHz === 0 ? 0 : 0.2 * Math.sin(2 * Math.PI * formantHz * t) + 0.1 * Math.sin(2 * Math.PI * 120 * t));
    }
    spans.push({ viseme, startMs, endMs: startMs + durationMs });
    startMs += durationMs;
  }
  return { pcm: Float32Array.from(samples), sampleRateHz: SAMPLE_RATE_HZ, spans };
}

describe('audio-only visemes', () => {
  it('learns per-viseme templates from labelled audio and recovers the visemes of new audio', () => {
    const training = [
      clip([['sil', 0, 100], ['ou', 350, 200], ['ih', 2600, 200], ['sil', 0, 100]]),
      clip([['sil', 0, 80], ['ih', 2600, 150], ['ou', 350, 250], ['sil', 0, 120]]),
    ].map(({ pcm, sampleRateHz, spans }) => {
      const features = audioVisemeFeatures({ pcm, sampleRateHz });
      return { features, labels: Array.from({ length: features.frameCount }, (_, frame) => visemeAt(spans, frame * AUDIO_VISEME_HOP_MS)) };
    });
    const classifier = trainVisemeClassifier(training);
    expect(classifier.templates.map((template) => template.viseme)).toHaveLength(15);

    const test = clip([['sil', 0, 150], ['ou', 350, 300], ['ih', 2600, 120], ['ou', 350, 200], ['sil', 0, 100]]);
    const estimated = estimateVisemesFromAudio(test, classifier);
    expect(estimated.map((span) => span.viseme)).toEqual(['sil', 'ou', 'ih', 'ou', 'sil']);
    expect(estimated[0]!.startMs).toBe(0);
    expect(estimated.at(-1)!.endMs).toBe(870);
    for (const [index, truthStartMs] of [[1, 150], [2, 450], [3, 570], [4, 770]] as const) {
      expect(Math.abs(estimated[index]!.startMs - truthStartMs)).toBeLessThanOrEqual(30);
    }
  });

  it('is deterministic: the same data trains the same classifier', () => {
    const { pcm, sampleRateHz, spans } = clip([['sil', 0, 50], ['aa', 700, 100], ['sil', 0, 50]]);
    const features = audioVisemeFeatures({ pcm, sampleRateHz });
    const labels = Array.from({ length: features.frameCount }, (_, frame) => visemeAt(spans, frame * AUDIO_VISEME_HOP_MS));
    const options = { epochs: 3, batchSize: 4, learningRate: 0.05, decay: 0.5, decayEveryEpochs: 1, momentum: 0.9, l2: 1e-4, seed: 7 };
    expect(trainVisemeClassifier([{ features, labels }], options)).toEqual(trainVisemeClassifier([{ features, labels }], options));
  });
});
