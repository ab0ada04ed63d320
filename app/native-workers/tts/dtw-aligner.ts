import type { SampleSpan } from './phoneme-timeline';

/**
 * Aligns a phoneme timeline known for one rendering of a text (the reference: eSpeak NG with exact
 * phoneme events) to another rendering of the same text (a neural voice that reports no timing).
 * Both are turned into MFCC frames (10 ms hop); dynamic time warping finds the cheapest monotonic
 * frame-to-frame path; each reference boundary is carried along that path into the target audio.
 */

const HOP_MS = 10;
const WINDOW_MS = 25;
const MEL_BANDS = 26;
const CEPSTRA = 13;
const MIN_HZ = 60;
const MAX_HZ = 7600;
/** Above this many DTW cells (≈ 40 s against 40 s) the caller falls back to an estimate. */
export const MAX_DTW_CELLS = 16_000_000;

/** In-place radix-2 FFT of `real`/`imag` (length a power of two) with precomputed twiddles. */
function fft(real: Float64Array, imag: Float64Array, cosTable: Float64Array, sinTable: Float64Array): void {
  const size = real.length;
  for (let i = 1, j = 0; i < size; i++) {
    let bit = size >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const swapReal = real[i]!;
      real[i] = real[j]!;
      real[j] = swapReal;
      const swapImag = imag[i]!;
      imag[i] = imag[j]!;
      imag[j] = swapImag;
    }
  }
  for (let length = 2; length <= size; length <<= 1) {
    const half = length >> 1;
    const stride = size / length;
    for (let start = 0; start < size; start += length) {
      for (let k = 0; k < half; k++) {
        const cos = cosTable[k * stride]!;
        const sin = sinTable[k * stride]!;
        const a = start + k;
        const b = a + half;
        const tr = real[b]! * cos - imag[b]! * sin;
        const ti = real[b]! * sin + imag[b]! * cos;
        real[b] = real[a]! - tr;
        imag[b] = imag[a]! - ti;
        real[a] = real[a]! + tr;
        imag[a] = imag[a]! + ti;
      }
    }
  }
}

const hzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
const melToHz = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);

/** One triangular mel filter: weights for FFT bins firstBin… */
interface MelFilter {
  firstBin: number;
  weights: Float64Array;
}

/** Triangular mel filters over FFT bins, in Hz, so renderings at different sample rates compare. */
function melFilterbank(fftSize: number, sampleRateHz: number): MelFilter[] {
  const topHz = Math.min(MAX_HZ, sampleRateHz / 2);
  const lowMel = hzToMel(MIN_HZ);
  const step = (hzToMel(topHz) - lowMel) / (MEL_BANDS + 1);
  const edgesHz = Array.from({ length: MEL_BANDS + 2 }, (_, i) => melToHz(lowMel + i * step));
  const binHz = sampleRateHz / fftSize;
  return Array.from({ length: MEL_BANDS }, (_, band) => {
    const [left, centre, right] = [edgesHz[band]!, edgesHz[band + 1]!, edgesHz[band + 2]!];
    const firstBin = Math.floor(left / binHz) + 1;
    const lastBin = Math.min(fftSize / 2, Math.ceil(right / binHz) - 1);
    const weights = Float64Array.from({ length: Math.max(0, lastBin - firstBin + 1) }, (_, k) => {
      const hz = (firstBin + k) * binHz;
      return hz <= centre ? (hz - left) / (centre - left) : (right - hz) / (right - centre);
    });
    return { firstBin, weights };
  });
}

/** Mean-normalized MFCC frames (c0…c12), one per 10 ms. */
export function mfccFrames(pcm: Float32Array, sampleRateHz: number): Float64Array[] {
  const hop = Math.round((HOP_MS * sampleRateHz) / 1000);
  // The power of two nearest to 25 ms (512 at both 16 and 22.05 kHz); a shorter window is zero-padded.
  const fftSize = 2 ** Math.round(Math.log2((WINDOW_MS * sampleRateHz) / 1000));
  const window = Math.min(fftSize, Math.round((WINDOW_MS * sampleRateHz) / 1000));
  const hann = Float64Array.from({ length: window }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (window - 1)));
  const cosTable = Float64Array.from({ length: fftSize / 2 }, (_, k) => Math.cos((-2 * Math.PI * k) / fftSize));
  const sinTable = Float64Array.from({ length: fftSize / 2 }, (_, k) => Math.sin((-2 * Math.PI * k) / fftSize));
  const dct = Float64Array.from({ length: CEPSTRA * MEL_BANDS }, (_, index) =>
    Math.cos((Math.PI * Math.floor(index / MEL_BANDS) * ((index % MEL_BANDS) + 0.5)) / MEL_BANDS),
  );
  const filters = melFilterbank(fftSize, sampleRateHz);
  const frameCount = Math.max(1, Math.ceil(pcm.length / hop));
  const frames: Float64Array[] = [];
  const real = new Float64Array(fftSize);
  const imag = new Float64Array(fftSize);
  const logMel = new Float64Array(MEL_BANDS);
  for (let f = 0; f < frameCount; f++) {
    real.fill(0);
    imag.fill(0);
    const start = f * hop - Math.floor(window / 2);
    for (let i = 0; i < window; i++) {
      const index = start + i;
      if (index >= 0 && index < pcm.length) real[i] = pcm[index]! * hann[i]!;
    }
    fft(real, imag, cosTable, sinTable);
    filters.forEach(({ firstBin, weights }, band) => {
      let energy = 0;
      for (let k = 0; k < weights.length; k++) {
        const bin = firstBin + k;
        energy += weights[k]! * (real[bin]! * real[bin]! + imag[bin]! * imag[bin]!);
      }
      logMel[band] = Math.log(energy + 1e-10);
    });
    const cepstrum = new Float64Array(CEPSTRA);
    for (let c = 0; c < CEPSTRA; c++) {
      let sum = 0;
      for (let m = 0; m < MEL_BANDS; m++) sum += logMel[m]! * dct[c * MEL_BANDS + m]!;
      cepstrum[c] = sum;
    }
    frames.push(cepstrum);
  }
  const mean = new Float64Array(CEPSTRA);
  for (const frame of frames) for (let c = 0; c < CEPSTRA; c++) mean[c] = mean[c]! + frame[c]! / frames.length;
  for (const frame of frames) for (let c = 0; c < CEPSTRA; c++) frame[c] = frame[c]! - mean[c]!;
  return frames;
}

function distance(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let c = 0; c < a.length; c++) sum += (a[c]! - b[c]!) ** 2;
  return Math.sqrt(sum);
}

/** For every reference frame, the first target frame the cheapest warping path pairs it with. */
export function warpReferenceFrames(reference: readonly Float64Array[], target: readonly Float64Array[]): Int32Array {
  const rows = reference.length;
  const columns = target.length;
  const cost = new Float64Array(rows * columns);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) {
      const local = distance(reference[i]!, target[j]!);
      if (i === 0 && j === 0) cost[0] = local;
      else {
        const up = i > 0 ? cost[(i - 1) * columns + j]! : Infinity;
        const left = j > 0 ? cost[i * columns + j - 1]! : Infinity;
        // A diagonal step pays its local cost twice, so straight and bent paths compare fairly.
        const diagonal = i > 0 && j > 0 ? cost[(i - 1) * columns + j - 1]! + local : Infinity;
        cost[i * columns + j] = Math.min(up + local, left + local, diagonal + local);
      }
    }
  }
  const firstMatch = new Int32Array(rows).fill(-1);
  let i = rows - 1;
  let j = columns - 1;
  for (;;) {
    firstMatch[i] = j;
    if (i === 0 && j === 0) break;
    const up = i > 0 ? cost[(i - 1) * columns + j]! : Infinity;
    const left = j > 0 ? cost[i * columns + j - 1]! : Infinity;
    const diagonal = i > 0 && j > 0 ? cost[(i - 1) * columns + j - 1]! + distance(reference[i]!, target[j]!) : Infinity;
    if (diagonal <= up && diagonal <= left) {
      i--;
      j--;
    } else if (up <= left) i--;
    else j--;
  }
  return firstMatch;
}

/**
 * Carries `referenceSpans` (samples of `referencePcm`, tiling it) into `targetPcm`: the result tiles
 * the target exactly; a phoneme the path squeezes to nothing is dropped. Null when the audio is too
 * long for DTW.
 */
export function alignSpans(
  referenceSpans: readonly SampleSpan[],
  referencePcm: Float32Array,
  referenceRateHz: number,
  targetPcm: Float32Array,
  targetRateHz: number,
): SampleSpan[] | null {
  const reference = mfccFrames(referencePcm, referenceRateHz);
  const target = mfccFrames(targetPcm, targetRateHz);
  if (reference.length * target.length > MAX_DTW_CELLS) return null;
  const warp = warpReferenceFrames(reference, target);
  const referenceHop = (HOP_MS * referenceRateHz) / 1000;
  const targetHop = (HOP_MS * targetRateHz) / 1000;
  const mapSample = (sample: number): number => {
    const frame = Math.min(reference.length - 1, Math.round(sample / referenceHop));
    return Math.min(targetPcm.length, Math.round(warp[frame]! * targetHop));
  };
  const spans: SampleSpan[] = [];
  referenceSpans.forEach((span, index) => {
    const startSample = index === 0 ? 0 : mapSample(span.startSample);
    const endSample = index === referenceSpans.length - 1 ? targetPcm.length : mapSample(span.endSample);
    if (endSample > startSample) spans.push({ phoneme: span.phoneme, startSample, endSample });
  });
  return spans;
}
