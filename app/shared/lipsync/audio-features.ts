/**
 * Short-time audio features for alignment and audio-driven visemes: MFCC (mel-frequency cepstral
 * coefficients) and log energy per frame. Frame i is centred on i · hopMs (the signal is padded by
 * half a window at both ends), so frame times line up with timeline times.
 */

export interface MfccOptions {
  windowMs: number;
  hopMs: number;
  melBandCount: number;
  /** Cepstral coefficients kept, c0 included. */
  coefficientCount: number;
  minFrequencyHz: number;
  /** Upper edge of the mel filterbank; lowered to just below Nyquist for low sample rates. */
  maxFrequencyHz: number;
  /** Pre-emphasis coefficient at 16 kHz; scaled for other rates so the spectral tilt is the same in Hz. */
  preEmphasis: number;
}

export const DEFAULT_MFCC_OPTIONS: MfccOptions = {
  windowMs: 25,
  hopMs: 10,
  melBandCount: 26,
  coefficientCount: 13,
  minFrequencyHz: 60,
  maxFrequencyHz: 7600,
  preEmphasis: 0.97,
};

/** Features of one audio clip: `mfcc[frame * coefficientCount + c]`, `logEnergy[frame]` (natural log of mean square). */
export interface AudioFeatures {
  hopMs: number;
  frameCount: number;
  coefficientCount: number;
  mfcc: Float32Array;
  logEnergy: Float32Array;
}

/** Bit-reversal permutation and twiddle factors of one FFT size. */
interface FftPlan {
  reversed: Uint32Array;
  cos: Float64Array;
  sin: Float64Array;
}

const fftPlans = new Map<number, FftPlan>();

function fftPlan(size: number): FftPlan {
  let plan = fftPlans.get(size);
  if (!plan) {
    const bits = Math.round(Math.log2(size));
    const reversed = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      reversed[i] = r;
    }
    const cos = Float64Array.from({ length: size / 2 }, (_, k) => Math.cos((-2 * Math.PI * k) / size));
    const sin = Float64Array.from({ length: size / 2 }, (_, k) => Math.sin((-2 * Math.PI * k) / size));
    plan = { reversed, cos, sin };
    fftPlans.set(size, plan);
  }
  return plan;
}

/** In-place iterative radix-2 FFT of (re, im); length must be a power of two. */
function fft(re: Float64Array, im: Float64Array): void {
  const size = re.length;
  const { reversed, cos, sin } = fftPlan(size);
  for (let i = 0; i < size; i++) {
    const j = reversed[i]!;
    if (i < j) {
      const swapRe = re[i]!;
      re[i] = re[j]!;
      re[j] = swapRe;
      const swapIm = im[i]!;
      im[i] = im[j]!;
      im[j] = swapIm;
    }
  }
  for (let length = 2; length <= size; length <<= 1) {
    const half = length >> 1;
    const step = size / length;
    for (let start = 0; start < size; start += length) {
      for (let k = 0; k < half; k++) {
        const wRe = cos[k * step]!;
        const wIm = sin[k * step]!;
        const a = start + k;
        const b = a + half;
        const tRe = re[b]! * wRe - im[b]! * wIm;
        const tIm = re[b]! * wIm + im[b]! * wRe;
        re[b] = re[a]! - tRe;
        im[b] = im[a]! - tIm;
        re[a] = re[a]! + tRe;
        im[a] = im[a]! + tIm;
      }
    }
  }
}

const hzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
const melToHz = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);

/** A triangular mel filter: weights of the power-spectrum bins from `firstBin` on. */
interface MelFilter {
  firstBin: number;
  weights: Float64Array;
}

/** Triangular mel filters over the power-spectrum bins. */
function melFilterbank(bandCount: number, fftSize: number, sampleRateHz: number, minHz: number, maxHz: number): MelFilter[] {
  const binCount = fftSize / 2 + 1;
  const minMel = hzToMel(minHz);
  const maxMel = hzToMel(maxHz);
  const edgesHz = Array.from({ length: bandCount + 2 }, (_, index) => melToHz(minMel + ((maxMel - minMel) * index) / (bandCount + 1)));
  return Array.from({ length: bandCount }, (_, band) => {
    const [low, centre, high] = [edgesHz[band]!, edgesHz[band + 1]!, edgesHz[band + 2]!];
    const firstBin = Math.min(binCount - 1, Math.floor((low * fftSize) / sampleRateHz) + 1);
    const lastBin = Math.min(binCount - 1, Math.ceil((high * fftSize) / sampleRateHz));
    const weights = new Float64Array(Math.max(0, lastBin - firstBin + 1));
    for (let bin = firstBin; bin <= lastBin; bin++) {
      const hz = (bin * sampleRateHz) / fftSize;
      if (hz > low && hz < high) weights[bin - firstBin] = hz <= centre ? (hz - low) / (centre - low) : (high - hz) / (high - centre);
    }
    return { firstBin, weights };
  });
}

/** MFCC and log energy of mono PCM at `sampleRateHz`. */
export function computeMfcc(pcm: Float32Array, sampleRateHz: number, options: MfccOptions = DEFAULT_MFCC_OPTIONS): AudioFeatures {
  const windowSize = Math.round((options.windowMs * sampleRateHz) / 1000);
  const hopSize = (options.hopMs * sampleRateHz) / 1000;
  let fftSize = 1;
  while (fftSize < windowSize) fftSize <<= 1;
  const maxHz = Math.min(options.maxFrequencyHz, sampleRateHz * 0.475);
  const filters = melFilterbank(options.melBandCount, fftSize, sampleRateHz, options.minFrequencyHz, maxHz);
  const window = Float64Array.from({ length: windowSize }, (_, i) => 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (windowSize - 1)));
  const dct = Array.from({ length: options.coefficientCount }, (_, c) =>
    Float64Array.from({ length: options.melBandCount }, (_, band) =>
      Math.cos((Math.PI * c * (band + 0.5)) / options.melBandCount) * Math.sqrt((c === 0 ? 1 : 2) / options.melBandCount),
    ),
  );
  const frameCount = Math.max(1, Math.floor(pcm.length / hopSize) + 1);
  const mfcc = new Float32Array(frameCount * options.coefficientCount);
  const logEnergy = new Float32Array(frameCount);
  const re = new Float64Array(fftSize);
  const im = new Float64Array(fftSize);
  const melEnergies = new Float64Array(options.melBandCount);
  const half = Math.floor(windowSize / 2);
  const preEmphasis = options.preEmphasis ** (16000 / sampleRateHz);
  // The signal padded by a window (plus one sample for pre-emphasis) of zeros on both sides.
  const pad = windowSize + 1;
  const padded = new Float64Array(pcm.length + 2 * pad);
  padded.set(pcm, pad);

  for (let frame = 0; frame < frameCount; frame++) {
    const first = Math.round(frame * hopSize) - half + pad;
    re.fill(0);
    im.fill(0);
    let energy = 0;
    for (let i = 0; i < windowSize; i++) {
      const sample = padded[first + i]!;
      energy += sample * sample;
      re[i] = (sample - preEmphasis * padded[first + i - 1]!) * window[i]!;
    }
    logEnergy[frame] = Math.log(energy / windowSize + 1e-10);
    fft(re, im);
    for (let band = 0; band < options.melBandCount; band++) {
      const { firstBin, weights } = filters[band]!;
      let sum = 0;
      for (let offset = 0; offset < weights.length; offset++) {
        const bin = firstBin + offset;
        sum += weights[offset]! * (re[bin]! * re[bin]! + im[bin]! * im[bin]!);
      }
      melEnergies[band] = Math.log(sum + 1e-10);
    }
    for (let c = 0; c < options.coefficientCount; c++) {
      const basis = dct[c]!;
      let sum = 0;
      for (let band = 0; band < options.melBandCount; band++) sum += basis[band]! * melEnergies[band]!;
      mfcc[frame * options.coefficientCount + c] = sum;
    }
  }
  return { hopMs: options.hopMs, frameCount, coefficientCount: options.coefficientCount, mfcc, logEnergy };
}
