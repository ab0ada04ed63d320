/**
 * Power spectrum of a real frame of any even length (Whisper's 400-sample frames are not a power of
 * two). The frame is packed into a complex sequence of half the length (even samples real, odd
 * samples imaginary), transformed by a mixed-radix Cooley–Tukey FFT (radix 4, 2 and any odd
 * factor), and unpacked into the `size / 2 + 1` bins of the real transform. Float64 throughout,
 * like numpy's pocketfft, so the result matches numpy.fft.rfft to rounding.
 */
export class RealFft {
  readonly binCount: number;
  private readonly half: number;
  /** Input position of each slot after the mixed-radix digit reversal. */
  private readonly order: Uint32Array;
  private readonly radices: number[];
  /** cos / sin of −2πk/half, k = 0 … half − 1, for the DFT of odd radices other than 5. */
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  /** cos / sin of 2πk/size for the real-spectrum unpacking. */
  private readonly unpackCos: Float64Array;
  private readonly unpackSin: Float64Array;
  /** The complex sequence being transformed (half the frame). */
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly scratchRe: Float64Array;
  private readonly scratchIm: Float64Array;
  /** Per stage, e^{−2πi·j·q/length} at [j · radix + q]. */
  private readonly twiddleRe: Float64Array[] = [];
  private readonly twiddleIm: Float64Array[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 2 || size % 2 !== 0) throw new RangeError(`RealFft needs an even size, not ${size}`);
    this.half = size / 2;
    this.binCount = this.half + 1;
    this.radices = factorize(this.half);
    this.order = digitReversal(this.half, this.radices);
    this.cos = Float64Array.from({ length: this.half }, (_, k) => Math.cos((2 * Math.PI * k) / this.half));
    this.sin = Float64Array.from({ length: this.half }, (_, k) => -Math.sin((2 * Math.PI * k) / this.half));
    this.unpackCos = Float64Array.from({ length: this.binCount }, (_, k) => Math.cos((2 * Math.PI * k) / size));
    this.unpackSin = Float64Array.from({ length: this.binCount }, (_, k) => Math.sin((2 * Math.PI * k) / size));
    this.re = new Float64Array(this.half);
    this.im = new Float64Array(this.half);
    let span = 1;
    for (const radix of this.radices) {
      const length = span * radix;
      this.twiddleRe.push(Float64Array.from({ length: span * radix }, (_, w) => Math.cos((2 * Math.PI * Math.floor(w / radix) * (w % radix)) / length)));
      this.twiddleIm.push(Float64Array.from({ length: span * radix }, (_, w) => -Math.sin((2 * Math.PI * Math.floor(w / radix) * (w % radix)) / length)));
      span = length;
    }
    const largest = Math.max(1, ...this.radices);
    this.scratchRe = new Float64Array(largest);
    this.scratchIm = new Float64Array(largest);
  }

  /**
   * |rfft(frame)|² into `power` (length binCount), where the frame is `size` samples of `signal` from
   * `start` on, multiplied by `window` (length `size`) — an STFT frame without a copy.
   */
  powerSpectrum(signal: Float64Array, start: number, window: Float64Array, power: Float64Array): void {
    const { half, re, im, order } = this;
    for (let slot = 0; slot < half; slot++) {
      const even = 2 * order[slot]!;
      re[slot] = signal[start + even]! * window[even]!;
      im[slot] = signal[start + even + 1]! * window[even + 1]!;
    }
    this.transform();
    for (let k = 0; k <= half; k++) {
      const at = k === half ? 0 : k;
      const mirror = k === 0 ? 0 : half - k;
      const a = re[at]!;
      const b = im[at]!;
      const c = re[mirror]!;
      const d = im[mirror]!;
      // Even part E = (Z[k] + conj Z[half−k]) / 2, odd part O = (Z[k] − conj Z[half−k]) / 2i.
      const evenRe = 0.5 * (a + c);
      const evenIm = 0.5 * (b - d);
      const oddRe = 0.5 * (b + d);
      const oddIm = -0.5 * (a - c);
      // X[k] = E + e^{−2πik/size} · O
      const cos = this.unpackCos[k]!;
      const sin = this.unpackSin[k]!;
      const xRe = evenRe + cos * oddRe + sin * oddIm;
      const xIm = evenIm + cos * oddIm - sin * oddRe;
      power[k] = xRe * xRe + xIm * xIm;
    }
  }

  /**
   * In-place decimation-in-time stages over the digit-reversed (re, im): stage by stage, each group
   * of `radix` sub-transforms of length `span` becomes one of length span · radix (inputs twiddled by
   * e^{−2πi·j·q/(span · radix)}, then a radix-point DFT).
   */
  private transform(): void {
    const { half: n, re, im } = this;
    let span = 1;
    for (let stage = 0; stage < this.radices.length; stage++) {
      const radix = this.radices[stage]!;
      const twiddleRe = this.twiddleRe[stage]!;
      const twiddleIm = this.twiddleIm[stage]!;
      if (radix === 4) stage4(re, im, n, span, twiddleRe, twiddleIm);
      else if (radix === 2) stage2(re, im, n, span, twiddleRe, twiddleIm);
      else if (radix === 5) stage5(re, im, n, span, twiddleRe, twiddleIm);
      else this.stageOdd(radix, span, twiddleRe, twiddleIm);
      span *= radix;
    }
  }

  /** A stage of any odd radix, by the DFT's definition. */
  private stageOdd(radix: number, span: number, twiddleRe: Float64Array, twiddleIm: Float64Array): void {
    const { half: n, re, im, cos, sin, scratchRe, scratchIm } = this;
    const step = n / radix;
    for (let block = 0; block < n; block += span * radix) {
      for (let j = 0; j < span; j++) {
        const base = block + j;
        for (let q = 0; q < radix; q++) {
          const xr = re[base + q * span]!;
          const xi = im[base + q * span]!;
          const w = j * radix + q;
          scratchRe[q] = xr * twiddleRe[w]! - xi * twiddleIm[w]!;
          scratchIm[q] = xr * twiddleIm[w]! + xi * twiddleRe[w]!;
        }
        for (let k = 0; k < radix; k++) {
          let sumRe = 0;
          let sumIm = 0;
          for (let q = 0; q < radix; q++) {
            const t = ((q * k) % radix) * step;
            sumRe += scratchRe[q]! * cos[t]! - scratchIm[q]! * sin[t]!;
            sumIm += scratchRe[q]! * sin[t]! + scratchIm[q]! * cos[t]!;
          }
          re[base + k * span] = sumRe;
          im[base + k * span] = sumIm;
        }
      }
    }
  }
}

function stage2(re: Float64Array, im: Float64Array, n: number, span: number, twRe: Float64Array, twIm: Float64Array): void {
  for (let block = 0; block < n; block += 2 * span) {
    for (let j = 0; j < span; j++) {
      const a = block + j;
      const b = a + span;
      const w = 2 * j + 1;
      const x1r = re[b]! * twRe[w]! - im[b]! * twIm[w]!;
      const x1i = re[b]! * twIm[w]! + im[b]! * twRe[w]!;
      const x0r = re[a]!;
      const x0i = im[a]!;
      re[a] = x0r + x1r;
      im[a] = x0i + x1i;
      re[b] = x0r - x1r;
      im[b] = x0i - x1i;
    }
  }
}

function stage4(re: Float64Array, im: Float64Array, n: number, span: number, twRe: Float64Array, twIm: Float64Array): void {
  for (let block = 0; block < n; block += 4 * span) {
    for (let j = 0; j < span; j++) {
      const a0 = block + j;
      const a1 = a0 + span;
      const a2 = a1 + span;
      const a3 = a2 + span;
      const w = 4 * j;
      const x0r = re[a0]!;
      const x0i = im[a0]!;
      const x1r = re[a1]! * twRe[w + 1]! - im[a1]! * twIm[w + 1]!;
      const x1i = re[a1]! * twIm[w + 1]! + im[a1]! * twRe[w + 1]!;
      const x2r = re[a2]! * twRe[w + 2]! - im[a2]! * twIm[w + 2]!;
      const x2i = re[a2]! * twIm[w + 2]! + im[a2]! * twRe[w + 2]!;
      const x3r = re[a3]! * twRe[w + 3]! - im[a3]! * twIm[w + 3]!;
      const x3i = re[a3]! * twIm[w + 3]! + im[a3]! * twRe[w + 3]!;
      const s0r = x0r + x2r;
      const s0i = x0i + x2i;
      const d0r = x0r - x2r;
      const d0i = x0i - x2i;
      const s1r = x1r + x3r;
      const s1i = x1i + x3i;
      const d1r = x1r - x3r;
      const d1i = x1i - x3i;
      // Outputs k = 0…3: s0 + s1, d0 − i·d1, s0 − s1, d0 + i·d1.
      re[a0] = s0r + s1r;
      im[a0] = s0i + s1i;
      re[a1] = d0r + d1i;
      im[a1] = d0i - d1r;
      re[a2] = s0r - s1r;
      im[a2] = s0i - s1i;
      re[a3] = d0r - d1i;
      im[a3] = d0i + d1r;
    }
  }
}

const COS_1_5 = Math.cos((2 * Math.PI) / 5);
const COS_2_5 = Math.cos((4 * Math.PI) / 5);
const SIN_1_5 = Math.sin((2 * Math.PI) / 5);
const SIN_2_5 = Math.sin((4 * Math.PI) / 5);

function stage5(re: Float64Array, im: Float64Array, n: number, span: number, twRe: Float64Array, twIm: Float64Array): void {
  for (let block = 0; block < n; block += 5 * span) {
    for (let j = 0; j < span; j++) {
      const a0 = block + j;
      const a1 = a0 + span;
      const a2 = a1 + span;
      const a3 = a2 + span;
      const a4 = a3 + span;
      const w = 5 * j;
      const x0r = re[a0]!;
      const x0i = im[a0]!;
      const x1r = re[a1]! * twRe[w + 1]! - im[a1]! * twIm[w + 1]!;
      const x1i = re[a1]! * twIm[w + 1]! + im[a1]! * twRe[w + 1]!;
      const x2r = re[a2]! * twRe[w + 2]! - im[a2]! * twIm[w + 2]!;
      const x2i = re[a2]! * twIm[w + 2]! + im[a2]! * twRe[w + 2]!;
      const x3r = re[a3]! * twRe[w + 3]! - im[a3]! * twIm[w + 3]!;
      const x3i = re[a3]! * twIm[w + 3]! + im[a3]! * twRe[w + 3]!;
      const x4r = re[a4]! * twRe[w + 4]! - im[a4]! * twIm[w + 4]!;
      const x4i = re[a4]! * twIm[w + 4]! + im[a4]! * twRe[w + 4]!;
      const b1r = x1r + x4r;
      const b1i = x1i + x4i;
      const b2r = x2r + x3r;
      const b2i = x2i + x3i;
      const d1r = x1r - x4r;
      const d1i = x1i - x4i;
      const d2r = x2r - x3r;
      const d2i = x2i - x3i;
      const t1r = x0r + COS_1_5 * b1r + COS_2_5 * b2r;
      const t1i = x0i + COS_1_5 * b1i + COS_2_5 * b2i;
      const t2r = x0r + COS_2_5 * b1r + COS_1_5 * b2r;
      const t2i = x0i + COS_2_5 * b1i + COS_1_5 * b2i;
      const u1r = SIN_1_5 * d1r + SIN_2_5 * d2r;
      const u1i = SIN_1_5 * d1i + SIN_2_5 * d2i;
      const u2r = SIN_2_5 * d1r - SIN_1_5 * d2r;
      const u2i = SIN_2_5 * d1i - SIN_1_5 * d2i;
      // y0 = x0 + b1 + b2; y1, y4 = t1 ∓ i·u1; y2, y3 = t2 ∓ i·u2.
      re[a0] = x0r + b1r + b2r;
      im[a0] = x0i + b1i + b2i;
      re[a1] = t1r + u1i;
      im[a1] = t1i - u1r;
      re[a4] = t1r - u1i;
      im[a4] = t1i + u1r;
      re[a2] = t2r + u2i;
      im[a2] = t2i - u2r;
      re[a3] = t2r - u2i;
      im[a3] = t2i + u2r;
    }
  }
}

/** Radices in stage order: fours first, then a two, then odd primes. */
function factorize(n: number): number[] {
  const radices: number[] = [];
  let rest = n;
  while (rest % 4 === 0) {
    radices.push(4);
    rest /= 4;
  }
  if (rest % 2 === 0) {
    radices.push(2);
    rest /= 2;
  }
  for (let p = 3; rest > 1; p += 2) {
    while (rest % p === 0) {
      radices.push(p);
      rest /= p;
    }
  }
  return radices;
}

/**
 * Which input lands in each slot so the stages can run in place: the last stage combines `radix`
 * sub-transforms of the inputs q, q + radix, q + 2·radix, …, each laid out contiguously, recursively.
 */
function digitReversal(n: number, radices: number[]): Uint32Array {
  const place = (indices: number[], depth: number): number[] => {
    if (depth < 0) return indices;
    const radix = radices[depth]!;
    const out: number[] = [];
    for (let q = 0; q < radix; q++) out.push(...place(indices.filter((_, i) => i % radix === q), depth - 1));
    return out;
  };
  return Uint32Array.from(place(Array.from({ length: n }, (_, i) => i), radices.length - 1));
}
