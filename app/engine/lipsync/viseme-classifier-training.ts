import { AUDIO_VISEME_DIMS, SILENCE_BELOW_PEAK_LOG, type AudioVisemeFeatures, type VisemeClassifier } from '../../shared/lipsync/audio-visemes';
import { VISEMES, type Viseme } from '../../shared/phoneme.contract';
import { mulberry32 } from '../../shared/random/mulberry32';

/**
 * Trains the audio-only viseme classifier: multinomial logistic regression over the audible frames
 * of labelled clips, minibatch SGD with momentum and L2, deterministic (seeded shuffling).
 */

export interface TrainingOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** The learning rate is multiplied by `decay` every `decayEveryEpochs`. */
  decay: number;
  decayEveryEpochs: number;
  momentum: number;
  l2: number;
  seed: number;
}

export const DEFAULT_TRAINING_OPTIONS: TrainingOptions = {
  epochs: 30,
  batchSize: 64,
  learningRate: 0.05,
  decay: 0.6,
  decayEveryEpochs: 5,
  momentum: 0.9,
  l2: 1e-4,
  seed: 1,
};

/** One clip's features with the true viseme of every frame. */
export interface LabelledClip {
  features: AudioVisemeFeatures;
  labels: readonly Viseme[];
}

export function trainVisemeClassifier(clips: readonly LabelledClip[], options: TrainingOptions = DEFAULT_TRAINING_OPTIONS): VisemeClassifier {
  const dims = AUDIO_VISEME_DIMS;
  const classes = VISEMES.length;
  const stride = dims + 1;
  const inputs: Float32Array[] = [];
  const targets: number[] = [];
  for (const { features, labels } of clips) {
    for (let frame = 0; frame < features.frameCount; frame++) {
      if (features.relativeEnergy[frame]! < -SILENCE_BELOW_PEAK_LOG) continue; // silence is decided by energy
      inputs.push(features.vectors.subarray(frame * dims, (frame + 1) * dims));
      targets.push(VISEMES.indexOf(labels[frame]!));
    }
  }
  const weights = new Float64Array(classes * stride);
  const velocity = new Float64Array(classes * stride);
  const gradient = new Float64Array(classes * stride);
  const scores = new Float64Array(classes);
  const order = inputs.map((_, index) => index);
  const next = mulberry32(options.seed);
  let learningRate = options.learningRate;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let start = 0; start < order.length; start += options.batchSize) {
      const end = Math.min(order.length, start + options.batchSize);
      gradient.fill(0);
      for (let n = start; n < end; n++) {
        const input = inputs[order[n]!]!;
        const target = targets[order[n]!]!;
        let max = Number.NEGATIVE_INFINITY;
        for (let k = 0; k < classes; k++) {
          let score = weights[k * stride + dims]!;
          for (let d = 0; d < dims; d++) score += weights[k * stride + d]! * input[d]!;
          scores[k] = score;
          max = Math.max(max, score);
        }
        let sum = 0;
        for (let k = 0; k < classes; k++) {
          scores[k] = Math.exp(scores[k]! - max);
          sum += scores[k]!;
        }
        for (let k = 0; k < classes; k++) {
          const error = scores[k]! / sum - (k === target ? 1 : 0);
          for (let d = 0; d < dims; d++) gradient[k * stride + d]! += error * input[d]!;
          gradient[k * stride + dims]! += error;
        }
      }
      for (let q = 0; q < weights.length; q++) {
        velocity[q] = options.momentum * velocity[q]! - learningRate * (gradient[q]! / (end - start) + options.l2 * weights[q]!);
        weights[q]! += velocity[q]!;
      }
    }
    if ((epoch + 1) % options.decayEveryEpochs === 0) learningRate *= options.decay;
  }
  return {
    dims,
    templates: VISEMES.map((viseme, k) => ({
      viseme,
      weights: Array.from(weights.subarray(k * stride, k * stride + dims)),
      bias: weights[k * stride + dims]!,
    })),
  };
}
