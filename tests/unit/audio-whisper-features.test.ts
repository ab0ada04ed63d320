import { describe, expect, it } from 'vitest';
import { RealFft } from '../../app/shared/audio/real-fft';
import { fitToWindow, WHISPER_MEL_COUNT, WhisperFeatureExtractor } from '../../app/shared/audio/whisper-features';

/** |X[k]|² of a real signal by the DFT's definition. */
function directPowerSpectrum(signal: Float64Array): Float64Array {
  const size = signal.length;
  return Float64Array.from({ length: size / 2 + 1 }, (_, k) => {
    let re = 0;
    let im = 0;
    for (let n = 0; n < size; n++) {
      re += signal[n]! * Math.cos((2 * Math.PI * k * n) / size);
      im -= signal[n]! * Math.sin((2 * Math.PI * k * n) / size);
    }
    return re * re + im * im;
  });
}

/** A deterministic pseudo-random signal (no Math.random in tests). */
function noise(length: number, amplitude: number, seed = 1): Float32Array {
  let state = seed;
  return Float32Array.from({ length }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return amplitude * (state / 2147483648 - 0.5);
  });
}

const SAMPLES_8_SEC = 128_000;

describe('RealFft', () => {
  it.each([400, 2, 6, 8, 14, 30, 50])('gives the power spectrum of the DFT for %i samples (radix 4, 2, 5 and odd factors)', (size) => {
    const signal = Float64Array.from(noise(size, 2, size));
    const fft = new RealFft(size);
    const power = new Float64Array(fft.binCount);
    fft.powerSpectrum(signal, 0, new Float64Array(size).fill(1), power);
    const expected = directPowerSpectrum(signal);
    const scale = Math.max(...expected);
    for (let k = 0; k < fft.binCount; k++) expect(Math.abs(power[k]! - expected[k]!) / scale).toBeLessThan(1e-12);
  });

  it('windows a frame of a longer signal in place of a copy', () => {
    const signal = Float64Array.from(noise(1000, 1));
    const window = Float64Array.from({ length: 400 }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / 400));
    const fft = new RealFft(400);
    const power = new Float64Array(fft.binCount);
    fft.powerSpectrum(signal, 160, window, power);
    const expected = directPowerSpectrum(Float64Array.from(window, (w, n) => w * signal[160 + n]!));
    for (let k = 0; k < fft.binCount; k++) expect(power[k]).toBeCloseTo(expected[k]!, 9);
  });

  it('refuses odd sizes', () => {
    expect(() => new RealFft(401)).toThrow(/even size/);
  });
});

describe('Whisper log-mel features for Smart Turn', () => {
  it('places a turn at the end of the 8 s window: zeros in front of a short one, the last 8 s of a long one', () => {
    const short = Float32Array.of(1, 2, 3);
    const placed = fitToWindow(short, 8);
    expect(Array.from(placed)).toEqual([0, 0, 0, 0, 0, 1, 2, 3]);
    const long = Float32Array.from({ length: 12 }, (_, i) => i);
    expect(Array.from(fitToWindow(long, 8))).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    const exact = long.subarray(0, 8);
    expect(fitToWindow(exact, 8)).toBe(exact);
  });

  it('gives 80 mels × 800 frames for 8 s, all −1.5 for digital silence (log10 of the 1e-10 floor, scaled)', () => {
    const extractor = new WhisperFeatureExtractor(SAMPLES_8_SEC);
    expect(extractor.frameCount).toBe(800);
    const features = extractor.compute(new Float32Array(SAMPLES_8_SEC));
    expect(features.length).toBe(WHISPER_MEL_COUNT * 800);
    expect(features.every((value) => value === -1.5)).toBe(true);
  });

  it('keeps 8 decades of dynamic range below the loudest mel and ignores the level of the input', () => {
    const extractor = new WhisperFeatureExtractor(SAMPLES_8_SEC);
    // Level-free up to the 1e-7 added to the variance, which matters only for very quiet input.
    const quiet = noise(SAMPLES_8_SEC, 0.2);
    const features = extractor.compute(quiet);
    const max = Math.max(...features);
    const min = Math.min(...features);
    expect(max - min).toBeLessThanOrEqual(2 + 1e-6);
    const loud = extractor.compute(Float32Array.from(quiet, (x) => x * 4));
    let difference = 0;
    for (let i = 0; i < features.length; i++) difference = Math.max(difference, Math.abs(features[i]! - loud[i]!));
    expect(difference).toBeLessThan(1e-4);
  });

  it('puts a tone in the mel band of its frequency, frame by frame in time', () => {
    const extractor = new WhisperFeatureExtractor(SAMPLES_8_SEC);
    const window = new Float32Array(SAMPLES_8_SEC);
    // 1 kHz from 4 s on: 1000 Hz is 15 Slaney mels, the centre of band 26 of 80 (0–45.25 mels in 81 steps).
    for (let i = 4 * 16_000; i < SAMPLES_8_SEC; i++) window[i] = 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 16_000);
    const features = extractor.compute(window);
    const loudestBand = (frame: number): number => {
      let best = 0;
      for (let mel = 1; mel < WHISPER_MEL_COUNT; mel++) if (features[mel * 800 + frame]! > features[best * 800 + frame]!) best = mel;
      return best;
    };
    expect(loudestBand(600)).toBe(26);
    expect(features[26 * 800 + 200]!).toBeLessThan(features[26 * 800 + 600]! - 1);
  });

  it('computes 8 s in milliseconds (logged, not asserted: shared machines are noisy)', () => {
    const extractor = new WhisperFeatureExtractor(SAMPLES_8_SEC);
    const window = noise(SAMPLES_8_SEC, 0.3);
    for (let i = 0; i < 3; i++) extractor.compute(window);
    const wallMs: number[] = [];
    const cpuStart = process.cpuUsage();
    for (let i = 0; i < 20; i++) {
      const startedMs = performance.now();
      extractor.compute(window);
      wallMs.push(performance.now() - startedMs);
    }
    const cpu = process.cpuUsage(cpuStart);
    wallMs.sort((a, b) => a - b);
    console.log(
      `Whisper features for 8 s: p50 ${wallMs[10]!.toFixed(1)} ms wall, ${((cpu.user + cpu.system) / 1000 / 20).toFixed(1)} ms CPU per call (20 runs)`,
    );
    expect(wallMs.length).toBe(20);
  });

  it('refuses a window of the wrong length', () => {
    expect(() => new WhisperFeatureExtractor(1000)).toThrow(/multiple of 160/);
    expect(() => new WhisperFeatureExtractor(1600).compute(new Float32Array(1599))).toThrow(/expected 1600 samples/);
  });
});
