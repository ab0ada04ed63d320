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

/** In-place iterative radix-2 FFT of (re, im); length must be a power of two. */
function fft(re: Float64Array, im: Float64Array): void {
  const size = re.length;
  for (let i = 1, j = 0; i < size; i++) {
    let bit = size >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let length = 2; length <= size; length <<= 1) {
    const angle = (-2 * Math.PI) / length;
    const stepRe = Math.cos(angle);
    const stepIm = Math.sin(angle);
    for (let start = 0; start < size; start += length) {
      let wRe = 1;
      let wIm = 0;
      for (let k = 0; k < length / 2; k++) {
        const a = start + k;
        const b = a + length / 2;
        const tRe = re[b]! * wRe - im[b]! * wIm;
        const tIm = re[b]! * wIm + im[b]! * wRe;
        re[b] = re[a]! - tRe;
        im[b] = im[a]! - tIm;
        re[a] = re[a]! + tRe;
        im[a] = im[a]! + tIm;
        const nextRe = wRe * stepRe - wIm * stepIm;
        wIm = wRe * stepIm + wIm * stepRe;
        wRe = nextRe;
      }
    }
  }
}

const hzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
const melToHz = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);

/** Triangular mel filters over the power-spectrum bins: filters[band] = weights per bin. */
function melFilterbank(bandCount: number, fftSize: number, sampleRateHz: number, minHz: number, maxHz: number): Float64Array[] {
  const binCount = fftSize / 2 + 1;
  const minMel = hzToMel(minHz);
  const maxMel = hzToMel(maxHz);
  const edgesHz = Array.from({ length: bandCount + 2 }, (_, index) => melToHz(minMel + ((maxMel - minMel) * index) / (bandCount + 1)));
  return Array.from({ length: bandCount }, (_, band) => {
    const filter = new Float64Array(binCount);
    const [low, centre, high] = [edgesHz[band]!, edgesHz[band + 1]!, edgesHz[band + 2]!];
    for (let bin = 0; bin < binCount; bin++) {
      const hz = (bin * sampleRateHz) / fftSize;
      if (hz > low && hz < high) filter[bin] = hz <= centre ? (hz - low) / (centre - low) : (high - hz) / (high - centre);
    }
    return filter;
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
  const sampleAt = (index: number): number => (index >= 0 && index < pcm.length ? pcm[index]! : 0);

  for (let frame = 0; frame < frameCount; frame++) {
    const first = Math.round(frame * hopSize) - half;
    re.fill(0);
    im.fill(0);
    let energy = 0;
    for (let i = 0; i < windowSize; i++) {
      const sample = sampleAt(first + i) - preEmphasis * sampleAt(first + i - 1);
      energy += sampleAt(first + i) ** 2;
      re[i] = sample * window[i]!;
    }
    logEnergy[frame] = Math.log(energy / windowSize + 1e-10);
    fft(re, im);
    for (let band = 0; band < options.melBandCount; band++) {
      const filter = filters[band]!;
      let sum = 0;
      for (let bin = 0; bin <= fftSize / 2; bin++) {
        const weight = filter[bin]!;
        if (weight > 0) sum += weight * (re[bin]! * re[bin]! + im[bin]! * im[bin]!);
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
