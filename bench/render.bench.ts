import type { Page } from 'playwright-core';
import { ensureAvatarFixtures } from '../scripts/fixtures/avatar-fixture';
import { quantile, round3, type Benchmark } from './bench-api';
import { openAndAsk, type OpenOptions, sampleFrames, startBrowserSession, type BrowserSession } from './browser-session';

const QUESTION = 'Please tell me a short story about a robot who learns to sing.';

/**
 * three.js announces each WebGLRenderer to `__THREE_DEVTOOLS__`; the bench wraps its `render` to
 * keep the scene and camera the app draws and to pause the app's drawing while it times frames.
 */
const RENDER_PROBE = `
window.__renderProbe = { paused: false };
window.__THREE_DEVTOOLS__ = new EventTarget();
window.__THREE_DEVTOOLS__.addEventListener('observe', (event) => {
  const renderer = event.detail;
  if (!renderer || typeof renderer.render !== 'function' || !renderer.isWebGLRenderer) return;
  const render = renderer.render;
  renderer.render = function (scene, camera) {
    if (this.getRenderTarget() === null) Object.assign(window.__renderProbe, { renderer: this, render, scene, camera });
    if (window.__renderProbe.paused && this.getRenderTarget() === null) return;
    return render.call(this, scene, camera);
  };
});
`;

/**
 * GL cost of one frame of the app's scene: the app's drawing paused, the scene drawn `count` times,
 * each waited for by a one-pixel read (the GPU process finishes the frame first). Median, ms.
 */
async function glFrameMs(page: Page, count: number): Promise<number> {
  return page.evaluate(async (n) => {
    interface Probe {
      paused: boolean;
      renderer: { getContext(): WebGL2RenderingContext };
      render: (this: unknown, scene: unknown, camera: unknown) => void;
      scene: unknown;
      camera: unknown;
    }
    const probe = (window as unknown as { __renderProbe: Probe }).__renderProbe;
    const gl = probe.renderer.getContext();
    const pixel = new Uint8Array(4);
    probe.paused = true;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const times: number[] = [];
    try {
      for (let i = 0; i < n + 2; i += 1) {
        const startMs = performance.now();
        probe.render.call(probe.renderer, probe.scene, probe.camera);
        gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
        // The first two warm up (programs, uploads).
        if (i >= 2) times.push(performance.now() - startMs);
      }
    } finally {
      probe.paused = false;
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  }, count);
}

interface FrameStats {
  fpsP50: number;
  frameMsP50: number;
  frameMsP95: number;
  speakingRatio: number;
  drawCalls: number;
  triangles: number;
  glFrameMsP50: number;
}

interface RoundSamples {
  frameMs: number[];
  fpsPerSecond: number[];
  speaking: number;
  frames: number;
  render: { drawCalls: number; triangles: number };
  glFrameMs: number;
}

async function sampleRound(session: BrowserSession, durationMs: number, options: OpenOptions): Promise<RoundSamples> {
  let idleGlFrameMs = Number.NaN;
  const page: Page = await openAndAsk(session, QUESTION, { width: 1280, height: 720 }, {
    ...options,
    initScript: RENDER_PROBE,
    // Timed before the reply: while it is spoken the engine's speech synthesis shares the CPU.
    beforeAsk: async (ready) => {
      await ready.waitForTimeout(1000);
      idleGlFrameMs = await glFrameMs(ready, 15);
    },
  });
  try {
    // Sample once the reply is being spoken.
    await page.waitForFunction(() => (window as unknown as { avatarDiagnostics?: { state: string } }).avatarDiagnostics?.state === 'speaking', null, { timeout: 60_000 });
    const samples = await sampleFrames(page, durationMs);
    const fpsPerSecond: number[] = [];
    for (let start = samples[0]!.atMs; start + 1000 <= samples.at(-1)!.atMs; start += 1000) {
      fpsPerSecond.push(samples.filter((sample) => sample.atMs >= start && sample.atMs < start + 1000).length);
    }
    const render = await page.evaluate(
      () => (window as unknown as { avatarDiagnostics: { render: { drawCalls: number; triangles: number } } }).avatarDiagnostics.render,
    );
    return {
      glFrameMs: idleGlFrameMs,
      frameMs: samples.slice(1).map((sample, index) => sample.atMs - samples[index]!.atMs),
      fpsPerSecond,
      speaking: samples.filter((sample) => sample.state === 'speaking').length,
      frames: samples.length,
      render,
    };
  } finally {
    await page.close();
  }
}

function stats(rounds: readonly RoundSamples[]): FrameStats {
  const frameMs = rounds.flatMap((round) => round.frameMs);
  const fpsPerSecond = rounds.flatMap((round) => round.fpsPerSecond);
  const last = rounds.at(-1)!;
  return {
    fpsP50: round3(quantile(fpsPerSecond, 0.5)),
    frameMsP50: round3(quantile(frameMs, 0.5)),
    frameMsP95: round3(quantile(frameMs, 0.95)),
    speakingRatio: round3(rounds.reduce((sum, round) => sum + round.speaking, 0) / rounds.reduce((sum, round) => sum + round.frames, 0)),
    drawCalls: last.render.drawCalls,
    triangles: last.render.triangles,
    glFrameMsP50: round3(quantile(rounds.map((round) => round.glFrameMs), 0.5)),
  };
}

/**
 * `npm run bench -- render`: frame rate and frame time at 1280×720 in headless Chromium with
 * SwiftShader (CPU-rendered WebGL: a floor, not a GPU figure), while the avatar speaks: the default
 * avatar at the detail software GL gets (`light`), the same avatar at `full` detail (the GPU
 * rendering, measured in the same run as a peer), and the generated VRM 1.0 sample loaded through
 * the avatar picker. The default avatar and the VRM sample take turns (`--rounds`, default 2), so a
 * machine whose load drifts during the run weighs on both alike; their ratio is the figure to read.
 */
const bench: Benchmark = {
  name: 'render',
  description: 'fps and frame time at 1280x720 while speaking: default avatar (light vs full detail) and the VRM sample (headless Chromium, SwiftShader)',
  async run(options) {
    const durationMs = Number(options.seconds ?? 6) * 1000;
    const rounds = Math.max(1, Number(options.rounds ?? 2));
    const { vrm1 } = await ensureAvatarFixtures();
    const session = await startBrowserSession('scripted');
    try {
      const lightRounds: RoundSamples[] = [];
      const vrmRounds: RoundSamples[] = [];
      for (let round = 0; round < rounds; round += 1) {
        lightRounds.push(await sampleRound(session, durationMs, {}));
        vrmRounds.push(await sampleRound(session, durationMs, { avatarPath: vrm1 }));
      }
      const light = stats(lightRounds);
      const vrm = stats(vrmRounds);
      const full = stats([await sampleRound(session, durationMs, { query: { quality: 'full' } })]);
      return {
        models: {
          avatar: 'default procedural avatar (light and full detail); generated VRM 1.0 sample (tests/fixtures/generated)',
          renderer: 'Chromium headless, SwiftShader WebGL, 1280x720',
        },
        runs: rounds * 2 + 1,
        metrics: {
          fps_p50: light.fpsP50,
          frame_ms_p50: light.frameMsP50,
          frame_ms_p95: light.frameMsP95,
          speaking_frame_ratio: light.speakingRatio,
          default_fps_p50: light.fpsP50,
          default_frame_ms_p95: light.frameMsP95,
          default_draw_calls: light.drawCalls,
          default_triangles: light.triangles,
          default_full_detail_fps_p50: full.fpsP50,
          default_full_detail_frame_ms_p95: full.frameMsP95,
          light_over_full_frame_ms_p50_ratio: round3(light.frameMsP50 / Math.max(1e-9, full.frameMsP50)),
          vrm_fps_p50: vrm.fpsP50,
          vrm_frame_ms_p50: vrm.frameMsP50,
          vrm_frame_ms_p95: vrm.frameMsP95,
          vrm_draw_calls: vrm.drawCalls,
          vrm_triangles: vrm.triangles,
          default_gl_frame_ms_p50: light.glFrameMsP50,
          default_full_detail_gl_frame_ms_p50: full.glFrameMsP50,
          vrm_gl_frame_ms_p50: vrm.glFrameMsP50,
          vrm_over_default_gl_frame_ms_ratio: round3(vrm.glFrameMsP50 / Math.max(1e-9, light.glFrameMsP50)),
          default_over_vrm_fps_ratio: round3(light.fpsP50 / Math.max(1e-9, vrm.fpsP50)),
          vrm_over_default_frame_ms_p50_ratio: round3(vrm.frameMsP50 / Math.max(1e-9, light.frameMsP50)),
        },
        notes: [
          'each avatar is sampled for the given seconds once its reply is being spoken, the default avatar and the VRM sample in alternating rounds',
          'a busy machine lowers every figure alike, so compare within one run (the ratios)',
          'gl_frame_ms: the idle scene alone before the question, drawn again and again with the app paused and each frame waited for (one-pixel read): what the avatar costs the GL, apart from the page around it',
        ],
      };
    } finally {
      await session.close();
    }
  },
};

export default bench;
