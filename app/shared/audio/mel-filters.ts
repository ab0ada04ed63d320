/**
 * Slaney-style mel filter bank, as librosa's `filters.mel(sr, n_fft, n_mels)` computes it with its
 * defaults (fmin 0, fmax sr/2, htk=False, norm='slaney', float32) — the matrix OpenAI Whisper ships
 * in `assets/mel_filters.npz` and whisper.cpp reads from the ggml file.
 */

const SLANEY_LINEAR_STEP_HZ = 200 / 3;
const SLANEY_LOG_START_HZ = 1000;
const SLANEY_LOG_START_MEL = SLANEY_LOG_START_HZ / SLANEY_LINEAR_STEP_HZ;
const SLANEY_LOG_STEP = Math.log(6.4) / 27;

export function hzToSlaneyMel(hz: number): number {
  if (hz < SLANEY_LOG_START_HZ) return hz / SLANEY_LINEAR_STEP_HZ;
  return SLANEY_LOG_START_MEL + Math.log(hz / SLANEY_LOG_START_HZ) / SLANEY_LOG_STEP;
}

export function slaneyMelToHz(mel: number): number {
  if (mel < SLANEY_LOG_START_MEL) return mel * SLANEY_LINEAR_STEP_HZ;
  return SLANEY_LOG_START_HZ * Math.exp(SLANEY_LOG_STEP * (mel - SLANEY_LOG_START_MEL));
}

/** numpy.linspace(start, stop, count) with its exact arithmetic (i·step + start; last = stop). */
function linspace(start: number, stop: number, count: number): number[] {
  const step = (stop - start) / (count - 1);
  const out = Array.from({ length: count }, (_, i) => i * step + start);
  out[count - 1] = stop;
  return out;
}

export interface MelFilterBank {
  melCount: number;
  /** FFT bins: n_fft / 2 + 1 */
  binCount: number;
  /** Row-major [melCount, binCount] weights. */
  weights: Float32Array;
}

export function slaneyMelFilterBank(sampleRateHz: number, fftSize: number, melCount: number): MelFilterBank {
  const binCount = Math.floor(fftSize / 2) + 1;
  const fftFreqsHz = linspace(0, sampleRateHz / 2, binCount);
  const melEdgesHz = linspace(hzToSlaneyMel(0), hzToSlaneyMel(sampleRateHz / 2), melCount + 2).map(slaneyMelToHz);
  const weights = new Float32Array(melCount * binCount);
  for (let m = 0; m < melCount; m++) {
    const left = melEdgesHz[m] ?? 0;
    const center = melEdgesHz[m + 1] ?? 0;
    const right = melEdgesHz[m + 2] ?? 0;
    const norm = 2 / (right - left);
    for (let bin = 0; bin < binCount; bin++) {
      const hz = fftFreqsHz[bin] ?? 0;
      const lower = -(left - hz) / (center - left);
      const upper = (right - hz) / (right - center);
      // librosa stores the triangle into a float32 array, then scales it in place.
      const triangle = Math.fround(Math.max(0, Math.min(lower, upper)));
      weights[m * binCount + bin] = triangle * norm;
    }
  }
  return { melCount, binCount, weights };
}
