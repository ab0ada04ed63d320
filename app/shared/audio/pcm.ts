/** Small PCM helpers shared by the engine, the workers and the renderer (Float32 samples in −1 … 1). */

/** The frames joined in order into one buffer. */
export function concatPcm(frames: readonly Float32Array[]): Float32Array<ArrayBuffer> {
  const pcm = new Float32Array(frames.reduce((sum, frame) => sum + frame.length, 0));
  let offset = 0;
  for (const frame of frames) {
    pcm.set(frame, offset);
    offset += frame.length;
  }
  return pcm;
}

/** Root mean square of `pcm[start, end)` (the whole buffer by default); 0 for no samples. */
export function rmsOf(pcm: Float32Array, start = 0, end = pcm.length): number {
  let energy = 0;
  for (let i = start; i < end; i++) energy += pcm[i]! * pcm[i]!;
  return end > start ? Math.sqrt(energy / (end - start)) : 0;
}

const LEVEL_FLOOR_DB = -60;

/** RMS of a frame as 0 … 1 on a 60 dB scale (a level meter). */
export function frameLevel(pcm: Float32Array): number {
  const rms = rmsOf(pcm);
  if (rms <= 0) return 0;
  return Math.min(1, Math.max(0, (20 * Math.log10(rms) - LEVEL_FLOOR_DB) / -LEVEL_FLOOR_DB));
}

/** Duration of `samples` at `sampleRateHz`, in ms. */
export function samplesToMs(samples: number, sampleRateHz: number): number {
  return (samples * 1000) / sampleRateHz;
}
