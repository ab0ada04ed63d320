/**
 * Streaming windowed-sinc resampler for microphone audio (any capture rate → 16 kHz). Each output
 * sample is a Blackman-windowed sinc low-pass (cut-off 0.45 × the output rate, so the band above
 * 8 kHz does not alias) evaluated at the output instant; taps come from a table of `PHASES`
 * fractional offsets. Pure and allocation-free per sample: runs inside the AudioWorklet and in tests.
 */

export const MIC_SAMPLE_RATE_HZ = 16000;
/** The name mic-capture.worklet.ts registers its processor under. */
export const MIC_CAPTURE_PROCESSOR = 'mic-capture';
/** 20 ms at 16 kHz. */
export const MIC_FRAME_SAMPLES = 320;

const PHASES = 256;
/** Zero crossings of the output-rate sinc on each side of the centre. */
const ZERO_CROSSINGS = 8;
const CUTOFF_FRACTION_OF_OUTPUT_NYQUIST = 0.9;

export class MicResampler {
  /** Taps on each side of the centre (the kernel spans 2 × halfTaps input samples). */
  private readonly halfTaps: number;
  private readonly table: Float32Array;
  private history: Float32Array;
  private length: number;
  /** Output samples produced so far; the next one sits at input position outputIndex × inputRateHz / outputRateHz. */
  private outputIndex = 0;
  /** Input samples (including the leading zeros) dropped from the front of `history`. */
  private dropped = 0;

  constructor(
    readonly inputRateHz: number,
    readonly outputRateHz = MIC_SAMPLE_RATE_HZ,
  ) {
    if (!(inputRateHz > 0) || !(outputRateHz > 0)) throw new RangeError(`invalid resampling ${inputRateHz} → ${outputRateHz} Hz`);
    // Input samples per output sample.
    const step = inputRateHz / outputRateHz;
    // Cut-off in cycles per input sample: below both Nyquist limits.
    const cutoff = (CUTOFF_FRACTION_OF_OUTPUT_NYQUIST * 0.5 * Math.min(outputRateHz, inputRateHz)) / inputRateHz;
    const support = ZERO_CROSSINGS * Math.max(1, step);
    this.halfTaps = Math.ceil(support);
    const width = 2 * this.halfTaps;
    this.table = new Float32Array(PHASES * width);
    for (let phase = 0; phase < PHASES; phase += 1) {
      const fraction = phase / PHASES;
      let sum = 0;
      for (let tap = 0; tap < width; tap += 1) {
        const x = tap - this.halfTaps + 1 - fraction;
        const value = Math.abs(x) >= support ? 0 : windowedSinc(x, cutoff, support);
        this.table[phase * width + tap] = value;
        sum += value;
      }
      // Unity gain at DC for every phase.
      for (let tap = 0; tap < width; tap += 1) this.table[phase * width + tap]! /= sum;
    }
    this.history = new Float32Array(4096);
    // Leading zeros so the first output sample has its full left half.
    this.length = this.halfTaps;
  }

  /** Next output instant in `history` coordinates, computed afresh so no rounding accumulates. */
  private position(): number {
    return this.halfTaps - 1 + (this.outputIndex * this.inputRateHz) / this.outputRateHz - this.dropped;
  }

  /** Resamples `input` (appended to what came before) and calls `emit` for each output sample. */
  push(input: Float32Array, emit: (sample: number) => void): void {
    this.append(input);
    const width = 2 * this.halfTaps;
    const history = this.history;
    const table = this.table;
    let position = this.position();
    for (;;) {
      const centre = Math.floor(position);
      if (centre + this.halfTaps >= this.length) break;
      const phase = Math.min(PHASES - 1, Math.round((position - centre) * PHASES));
      const start = centre - this.halfTaps + 1;
      const offset = phase * width;
      let sum = 0;
      for (let tap = 0; tap < width; tap += 1) sum += history[start + tap]! * table[offset + tap]!;
      emit(sum);
      this.outputIndex += 1;
      position = this.position();
    }
    // Drop input no future output needs.
    const keepFrom = Math.max(0, Math.floor(position) - this.halfTaps + 1);
    if (keepFrom > 0) {
      history.copyWithin(0, keepFrom, this.length);
      this.length -= keepFrom;
      this.dropped += keepFrom;
    }
  }

  private append(input: Float32Array): void {
    if (this.length + input.length > this.history.length) {
      const grown = new Float32Array(Math.max(this.history.length * 2, this.length + input.length));
      grown.set(this.history.subarray(0, this.length));
      this.history = grown;
    }
    this.history.set(input, this.length);
    this.length += input.length;
  }
}

function windowedSinc(x: number, cutoff: number, support: number): number {
  const arg = 2 * Math.PI * cutoff * x;
  const sinc = x === 0 ? 2 * cutoff : Math.sin(arg) / (Math.PI * x);
  // Blackman window over [-support, support].
  const t = (x + support) / (2 * support);
  const window = 0.42 - 0.5 * Math.cos(2 * Math.PI * t) + 0.08 * Math.cos(4 * Math.PI * t);
  return sinc * window;
}

/** Cuts a sample stream into fixed-size frames; each full frame is handed over (and not reused). */
export class FrameAssembler {
  private frame: Float32Array<ArrayBuffer>;
  private filled = 0;

  constructor(
    private readonly frameSamples: number,
    private readonly onFrame: (frame: Float32Array<ArrayBuffer>) => void,
  ) {
    this.frame = new Float32Array(frameSamples);
  }

  readonly add = (sample: number): void => {
    this.frame[this.filled++] = sample;
    if (this.filled === this.frameSamples) {
      const full = this.frame;
      this.frame = new Float32Array(this.frameSamples);
      this.filled = 0;
      this.onFrame(full);
    }
  };
}
