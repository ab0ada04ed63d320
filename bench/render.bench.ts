import type { Page } from 'playwright-core';
import { ensureAvatarFixtures } from '../scripts/fixtures/avatar-fixture';
import { quantile, round3, type Benchmark } from './bench-api';
import { openAndAsk, type OpenOptions, sampleFrames, startBrowserSession, type BrowserSession } from './browser-session';

const QUESTION = 'Please tell me a short story about a robot who learns to sing.';

interface FrameStats {
  fpsP50: number;
  frameMsP50: number;
  frameMsP95: number;
  speakingRatio: number;
}

async function measure(session: BrowserSession, durationMs: number, options: OpenOptions): Promise<FrameStats> {
  const page: Page = await openAndAsk(session, QUESTION, { width: 1280, height: 720 }, options);
  try {
    // Sample once the reply is being spoken.
    await page.waitForFunction(() => (window as unknown as { avatarDiagnostics?: { state: string } }).avatarDiagnostics?.state === 'speaking', null, { timeout: 60_000 });
    const samples = await sampleFrames(page, durationMs);
    const frameMs = samples.slice(1).map((sample, index) => sample.atMs - samples[index]!.atMs);
    const fpsPerSecond: number[] = [];
    for (let start = samples[0]!.atMs; start + 1000 <= samples.at(-1)!.atMs; start += 1000) {
      fpsPerSecond.push(samples.filter((sample) => sample.atMs >= start && sample.atMs < start + 1000).length);
    }
    return {
      fpsP50: round3(quantile(fpsPerSecond, 0.5)),
      frameMsP50: round3(quantile(frameMs, 0.5)),
      frameMsP95: round3(quantile(frameMs, 0.95)),
      speakingRatio: round3(samples.filter((sample) => sample.state === 'speaking').length / samples.length),
    };
  } finally {
    await page.close();
  }
}

/**
 * `npm run bench -- render`: frame rate and frame time at 1280×720 in headless Chromium with
 * SwiftShader (CPU-rendered WebGL: a floor, not a GPU figure), while the avatar speaks: the default
 * avatar at the detail software GL now gets (`light`), the same avatar at `full` detail (the
 * previous rendering, measured in the same run as the before/after peer), and the generated VRM 1.0
 * sample loaded through the avatar picker.
 */
const bench: Benchmark = {
  name: 'render',
  description: 'fps and frame time at 1280x720 while speaking: default avatar (light vs full detail) and the VRM sample (headless Chromium, SwiftShader)',
  async run(options) {
    const durationMs = Number(options.seconds ?? 8) * 1000;
    const { vrm1 } = await ensureAvatarFixtures();
    const session = await startBrowserSession('scripted');
    try {
      const light = await measure(session, durationMs, {});
      const full = await measure(session, durationMs, { query: { quality: 'full' } });
      const vrm = await measure(session, durationMs, { avatarPath: vrm1 });
      return {
        models: {
          avatar: 'default procedural avatar (light and full detail); generated VRM 1.0 sample (tests/fixtures/generated)',
          renderer: 'Chromium headless, SwiftShader WebGL, 1280x720',
        },
        runs: 3,
        metrics: {
          fps_p50: light.fpsP50,
          frame_ms_p50: light.frameMsP50,
          frame_ms_p95: light.frameMsP95,
          speaking_frame_ratio: light.speakingRatio,
          default_fps_p50: light.fpsP50,
          default_frame_ms_p95: light.frameMsP95,
          default_full_detail_fps_p50: full.fpsP50,
          default_full_detail_frame_ms_p95: full.frameMsP95,
          light_over_full_frame_ms_p50_ratio: round3(light.frameMsP50 / Math.max(1e-9, full.frameMsP50)),
          vrm_fps_p50: vrm.fpsP50,
          vrm_frame_ms_p95: vrm.frameMsP95,
        },
        notes: ['each avatar is sampled for the given seconds once its reply is being spoken; a busy machine lowers every figure alike, so compare within one run'],
      };
    } finally {
      await session.close();
    }
  },
};

export default bench;
