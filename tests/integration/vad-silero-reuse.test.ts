import { describe, expect, it } from 'vitest';
import { EmbeddedVoice } from '../../app/engine/lipsync/embedded-voice';
import { resample } from '../../app/engine/lipsync/wav-file';
import { SileroVadEngine } from '../../app/native-workers/vad/silero-vad-engine';
import type { VadDetection } from '../../app/shared/worker.contract';

/**
 * The silero VAD's streams come and go with the page's sessions (every load, reload, reconnect).
 * sherpa-onnx-node never frees a detector's native memory (about 10 MB each, two per stream), which
 * the soak saw as the VAD host's RSS climbing with every reload; detectors are reset and reused.
 * The real engine and model, in this process: a reused detector hears exactly what a new one
 * hears, and a hundred streams opened and closed leave the process's RSS where it was.
 */

const SAMPLE_RATE_HZ = 16_000;
const FRAME_SAMPLES = 320;

async function question(): Promise<Float32Array> {
  const clip = (await EmbeddedVoice.create()).render('Hello there, what is the capital of France?');
  const speech = resample(clip.pcm, clip.sampleRateHz, SAMPLE_RATE_HZ);
  const pcm = new Float32Array(SAMPLE_RATE_HZ + speech.length + SAMPLE_RATE_HZ);
  pcm.set(speech, SAMPLE_RATE_HZ);
  return pcm;
}

function detect(engine: SileroVadEngine, streamId: string, pcm: Float32Array): VadDetection[] {
  const events: VadDetection[] = [];
  engine.stream.open(streamId, {});
  for (let offset = 0; offset < pcm.length; offset += FRAME_SAMPLES) events.push(...engine.stream.push(streamId, pcm.slice(offset, offset + FRAME_SAMPLES)).events);
  engine.stream.close(streamId);
  return events;
}

describe('silero VAD streams opened and closed', () => {
  it('reuse their detectors: same events as new ones, and no native memory growth over 100 streams', { timeout: 120_000 }, async () => {
    const engine = new SileroVadEngine();
    await engine.load({ kind: 'vad', engine: 'silero', modelName: 'silero-v5', threads: 1, options: {} });
    const pcm = await question();
    const first = detect(engine, 'first', pcm);
    expect(first.map((event) => event.event)).toEqual(['speech-start', 'speech-end']);
    // The next stream gets the first one's detectors back, reset: it hears the same thing.
    expect(detect(engine, 'second', pcm)).toEqual(first);

    const silence = new Float32Array(FRAME_SAMPLES);
    const rssBeforeMb = process.memoryUsage().rss / 1e6;
    for (let i = 0; i < 100; i++) {
      engine.stream.open(`s${i}`, {});
      engine.stream.push(`s${i}`, silence);
      // Half of them leave the way a session's end does, half the way a closed stream does.
      if (i % 2 === 0) engine.stream.close(`s${i}`);
      else engine.release(`s${i}`);
    }
    const growthMb = process.memoryUsage().rss / 1e6 - rssBeforeMb;
    // A new pair of detectors per stream would be ~2 GB here.
    expect(growthMb).toBeLessThan(100);
    expect(detect(engine, 'last', pcm)).toEqual(first);
    await engine.unload();
  });
});
