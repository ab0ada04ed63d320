import { quantile, round3, type Benchmark } from './bench-api';
import { openAndAsk, sampleFrames, startBrowserSession } from './browser-session';

/**
 * `npm run bench -- render`: frame rate and frame time of the default avatar speaking, at 1280×720
 * in headless Chromium with SwiftShader (CPU-rendered WebGL: a floor, not a GPU figure).
 */
const bench: Benchmark = {
  name: 'render',
  description: 'fps and frame time at 1280x720 with the default avatar speaking (headless Chromium, SwiftShader)',
  async run(options) {
    const durationMs = Number(options.seconds ?? 8) * 1000;
    const session = await startBrowserSession('scripted');
    try {
      const page = await openAndAsk(session, 'Please tell me a short story about a robot who learns to sing.');
      const samples = await sampleFrames(page, durationMs);
      const frameMs = samples.slice(1).map((sample, index) => sample.atMs - samples[index]!.atMs);
      const fpsPerSecond: number[] = [];
      for (let start = samples[0]!.atMs; start + 1000 <= samples.at(-1)!.atMs; start += 1000) {
        fpsPerSecond.push(samples.filter((sample) => sample.atMs >= start && sample.atMs < start + 1000).length);
      }
      return {
        models: { avatar: 'default procedural avatar (VRM sample: not yet)', renderer: 'Chromium headless, SwiftShader WebGL, 1280x720' },
        runs: frameMs.length,
        metrics: {
          fps_p50: round3(quantile(fpsPerSecond, 0.5)),
          frame_ms_p50: round3(quantile(frameMs, 0.5)),
          frame_ms_p95: round3(quantile(frameMs, 0.95)),
          speaking_frame_ratio: round3(samples.filter((sample) => sample.state === 'speaking').length / samples.length),
        },
      };
    } finally {
      await session.close();
    }
  },
};

export default bench;
