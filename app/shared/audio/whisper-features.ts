import { slaneyMelFilterBank } from './mel-filters';
import { RealFft } from './real-fft';

/**
 * Whisper log-mel features, the input of Whisper encoders and of Smart Turn v3 (Hugging Face's
 * WhisperFeatureExtractor with do_normalize, which pipecat's `_whisper_features.py` reproduces in
 * numpy): 16 kHz mono; the waveform normalized to zero mean and unit variance over the whole window
 * (in float32, as the reference does); periodic Hann window of 400 samples, hop 160, centred frames
 * (reflect padding of 200 at both ends); power spectrum; 80 Slaney mel filters (0–8 kHz); log10 with a
 * 1e-10 floor; the last frame dropped (a window of N samples gives N / 160 frames); values below
 * (max − 8) raised to it; then (x + 4) / 4. The result is [80 mels][frames], row-major — the model's
 * [1, 80, frames] tensor without its batch axis. There is no attention mask: padding is plain zeros in
 * the waveform (see `fitToWindow`).
 */

export const WHISPER_SAMPLE_RATE_HZ = 16_000;
export const WHISPER_FFT_SIZE = 400;
export const WHISPER_HOP_SAMPLES = 160;
export const WHISPER_MEL_COUNT = 80;

const MEL_FLOOR = 1e-10;
const LOG_DYNAMIC_RANGE = 8;
const NORMALIZE_VARIANCE_EPSILON = Math.fround(1e-7);

/** The last `windowSamples` of `pcm`, zeros in front when it is shorter (how Smart Turn places a turn). */
export function fitToWindow(pcm: Float32Array, windowSamples: number): Float32Array {
  if (pcm.length === windowSamples) return pcm;
  if (pcm.length > windowSamples) return pcm.subarray(pcm.length - windowSamples);
  const window = new Float32Array(windowSamples);
  window.set(pcm, windowSamples - pcm.length);
  return window;
}

const PAIRWISE_BLOCK = 128;

/** numpy's pairwise summation of float32 (8 accumulators per block of up to 128), in float32. */
function pairwiseSumFloat32(values: Float32Array, start: number, count: number): number {
  if (count < 8) {
    let sum = 0;
    for (let i = 0; i < count; i++) sum = Math.fround(sum + values[start + i]!);
    return sum;
  }
  if (count <= PAIRWISE_BLOCK) {
    const r = values.slice(start, start + 8);
    let i = 8;
    for (; i < count - (count % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] = r[j]! + values[start + i + j]!;
    }
    let sum = Math.fround(Math.fround(Math.fround(r[0]! + r[1]!) + Math.fround(r[2]! + r[3]!)) + Math.fround(Math.fround(r[4]! + r[5]!) + Math.fround(r[6]! + r[7]!)));
    for (; i < count; i++) sum = Math.fround(sum + values[start + i]!);
    return sum;
  }
  let firstHalf = Math.floor(count / 2);
  firstHalf -= firstHalf % 8;
  return Math.fround(pairwiseSumFloat32(values, start, firstHalf) + pairwiseSumFloat32(values, start + firstHalf, count - firstHalf));
}

/**
 * The mel filters as spans of the FFT bins where their weights are not zero: filter m weighs bins
 * firstBin[m] … with weights[offset[m]] … weights[offset[m + 1] − 1].
 */
interface SparseFilterBank {
  firstBin: Int32Array;
  offset: Int32Array;
  weights: Float64Array;
}

function sparseFilterBank(): SparseFilterBank {
  const bank = slaneyMelFilterBank(WHISPER_SAMPLE_RATE_HZ, WHISPER_FFT_SIZE, WHISPER_MEL_COUNT);
  const firstBin = new Int32Array(bank.melCount);
  const offset = new Int32Array(bank.melCount + 1);
  const weights: number[] = [];
  for (let mel = 0; mel < bank.melCount; mel++) {
    const row = bank.weights.subarray(mel * bank.binCount, (mel + 1) * bank.binCount);
    const first = Math.max(0, row.findIndex((weight) => weight !== 0));
    let last = row.length - 1;
    while (last > first && row[last] === 0) last--;
    firstBin[mel] = first;
    weights.push(...row.subarray(first, last + 1));
    offset[mel + 1] = weights.length;
  }
  return { firstBin, offset, weights: Float64Array.from(weights) };
}

/**
 * Features for windows of a fixed length. Keeps its buffers between calls (one extractor per
 * thread); `compute` is synchronous and allocates only its result.
 */
export class WhisperFeatureExtractor {
  readonly frameCount: number;
  private readonly fft = new RealFft(WHISPER_FFT_SIZE);
  private readonly filters = sparseFilterBank();
  private readonly hann: Float64Array;
  /** The normalized window with WHISPER_FFT_SIZE / 2 reflected samples at each end. */
  private readonly padded: Float64Array;
  private readonly power: Float64Array;
  /** Squared deviations from the mean (float32, as numpy's var keeps them). */
  private readonly squares: Float32Array;
  /** log10 mel energies before the dynamic-range floor, [80][frameCount]. */
  private readonly logMel: Float64Array;

  constructor(readonly windowSamples: number) {
    if (!Number.isInteger(windowSamples) || windowSamples <= WHISPER_FFT_SIZE || windowSamples % WHISPER_HOP_SAMPLES !== 0) {
      throw new RangeError(`a Whisper feature window is a multiple of ${WHISPER_HOP_SAMPLES} samples above ${WHISPER_FFT_SIZE}, not ${windowSamples}`);
    }
    this.frameCount = windowSamples / WHISPER_HOP_SAMPLES;
    this.hann = Float64Array.from({ length: WHISPER_FFT_SIZE }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / WHISPER_FFT_SIZE));
    this.padded = new Float64Array(windowSamples + WHISPER_FFT_SIZE);
    this.squares = new Float32Array(windowSamples);
    this.power = new Float64Array(this.fft.binCount);
    this.logMel = new Float64Array(WHISPER_MEL_COUNT * this.frameCount);
  }

  /** Features of exactly `windowSamples` samples (use `fitToWindow` first): [80][frameCount] float32. */
  compute(window: Float32Array): Float32Array {
    if (window.length !== this.windowSamples) throw new RangeError(`expected ${this.windowSamples} samples, got ${window.length}`);
    this.normalizeInto(window);
    const { frameCount, padded, hann, power, logMel } = this;
    const { firstBin, offset, weights } = this.filters;
    let max = -Infinity;
    for (let t = 0; t < frameCount; t++) {
      this.fft.powerSpectrum(padded, t * WHISPER_HOP_SAMPLES, hann, power);
      for (let mel = 0; mel < WHISPER_MEL_COUNT; mel++) {
        let energy = 0;
        const end = offset[mel + 1]!;
        for (let w = offset[mel]!, bin = firstBin[mel]!; w < end; w++, bin++) energy += weights[w]! * power[bin]!;
        const value = Math.log10(Math.max(MEL_FLOOR, energy));
        logMel[mel * frameCount + t] = value;
        if (value > max) max = value;
      }
    }
    const floor = max - LOG_DYNAMIC_RANGE;
    const features = new Float32Array(logMel.length);
    for (let i = 0; i < logMel.length; i++) features[i] = (Math.max(logMel[i]!, floor) + 4) / 4;
    return features;
  }

  /**
   * Zero-mean, unit-variance waveform into `padded` (with the reflected ends), computed as the
   * reference's numpy float32 code does — pairwise sums, every step rounded to float32 — so the
   * spectra start from the very same samples (a mean that differs in its last bits shifts the DC of
   * the whole window, which shows in the lowest mel band of quiet frames).
   */
  private normalizeInto(window: Float32Array): void {
    const count = window.length;
    const mean = Math.fround(pairwiseSumFloat32(window, 0, count) / count);
    const { squares, padded } = this;
    for (let i = 0; i < count; i++) {
      const d = Math.fround(window[i]! - mean);
      squares[i] = d * d;
    }
    const variance = Math.fround(pairwiseSumFloat32(squares, 0, count) / count);
    const deviation = Math.fround(Math.sqrt(Math.fround(variance + NORMALIZE_VARIANCE_EPSILON)));
    const pad = WHISPER_FFT_SIZE / 2;
    for (let i = 0; i < count; i++) padded[pad + i] = Math.fround(Math.fround(window[i]! - mean) / deviation);
    for (let i = 1; i <= pad; i++) {
      padded[pad - i] = padded[pad + i]!;
      padded[pad + count - 1 + i] = padded[pad + count - 1 - i]!;
    }
  }
}
