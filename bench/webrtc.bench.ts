import { quantile, round3, type Benchmark } from './bench-api';
import { STAMP_LAYOUT } from '../app/renderer/share/share-stamp';
import { launchShareBrowser, openSharingApp, startShareServe } from '../tests/support/share-session';

/**
 * `npm run bench -- webrtc [--seconds 10] [--preset 720p30|1080p60] [--viewport 980x640]`: the avatar share between two
 * headless Chromium pages on this machine (host ICE candidates only). The sender draws its
 * wall-clock capture time into every frame and emits a click into the shared audio each second;
 * the viewer page decodes each presented frame's stamp (requestVideoFrameCallback) and detects
 * the clicks in an AudioWorklet, both against the same machine clock (timeOrigin + now).
 */

interface ReceiverResult {
  firstFrameMs: number | null;
  frames: { displayWallMs: number; glassToGlassMs: number | null; height: number }[];
  onsetsWallMs: number[];
}

/** Pairs each click with the first onset heard after it; its latency minus the video's around then is the skew. */
function audioVideoSkews(clicksWallMs: number[], onsetsWallMs: number[], frames: ReceiverResult['frames']): { audioMs: number[]; skewMs: number[] } {
  const audioMs: number[] = [];
  const skewMs: number[] = [];
  for (const click of clicksWallMs) {
    const onset = onsetsWallMs.find((time) => time > click && time < click + 1000);
    if (onset === undefined) continue;
    const nearby = frames.filter((frame) => frame.glassToGlassMs !== null && Math.abs(frame.displayWallMs - onset) < 1500).map((frame) => frame.glassToGlassMs!);
    if (nearby.length === 0) continue;
    audioMs.push(onset - click);
    skewMs.push(onset - click - quantile(nearby, 0.5));
  }
  return { audioMs, skewMs };
}

const bench: Benchmark = {
  name: 'webrtc',
  description: 'avatar share sender -> viewer page on loopback: glass-to-glass, received fps, A/V skew, first frame',
  async run(options) {
    const seconds = Number(options.seconds ?? 10);
    const preset = options.preset ?? '720p30';
    const serve = await startShareServe('scripted');
    const browser = await launchShareBrowser();
    try {
      // The app window's size sets the avatar's WebGL cost (software rendering); the share scales it to the preset.
      const [width, height] = (options.viewport ?? '980x640').split('x').map(Number);
      const app = await openSharingApp(browser, serve, `&shareStamp=1&sharePreset=${preset}`, { width: width!, height: height! });
      // The AudioWorklet module comes from a blob: the viewer's CSP allows only its own scripts.
      const viewerContext = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 720 } });
      const viewer = await viewerContext.newPage();
      await viewer.addInitScript({ content: 'window.__name = (fn) => fn;' });
      await viewer.addInitScript(() => {
        document.addEventListener('DOMContentLoaded', () => {
          const video = document.querySelector('video')!;
          video.requestVideoFrameCallback((_now, metadata) => {
            (window as unknown as { firstFrameMs: number }).firstFrameMs = metadata.expectedDisplayTime;
          });
        });
      });
      await viewer.goto(serve.viewUrl.href);
      await viewer.waitForFunction(() => (window as unknown as { firstFrameMs?: number }).firstFrameMs !== undefined, null, { timeout: 60_000 });

      const renderFps: number[] = [];
      const sampler = setInterval(() => {
        void app.evaluate(() => window.avatarDiagnostics?.fps ?? 0).then((fps) => renderFps.push(fps), () => undefined);
      }, 1000);
      const received = await viewer.evaluate(
        async ({ layout, durationMs }) => {
          const video = document.querySelector('video')!;
          const result: ReceiverResult = { firstFrameMs: (window as unknown as { firstFrameMs: number }).firstFrameMs, frames: [], onsetsWallMs: [] };
          const stampWidth = layout.bits * layout.cellPx;
          const canvas = new OffscreenCanvas(stampWidth, layout.cellPx);
          const context = canvas.getContext('2d', { willReadFrequently: true })!;
          const onFrame = (_now: number, metadata: VideoFrameCallbackMetadata): void => {
            context.drawImage(video, 0, 0, stampWidth, layout.cellPx, 0, 0, stampWidth, layout.cellPx);
            const pixels = context.getImageData(0, 0, stampWidth, layout.cellPx).data;
            let value = 0;
            for (let bit = 0; bit < layout.bits; bit++) {
              const index = (Math.floor(layout.cellPx / 2) * stampWidth + bit * layout.cellPx + Math.floor(layout.cellPx / 2)) * 4;
              value = value * 2 + ((pixels[index]! + pixels[index + 1]! + pixels[index + 2]!) / 3 > 128 ? 1 : 0);
            }
            const displayWallMs = performance.timeOrigin + metadata.expectedDisplayTime;
            // The stamp is the capture time modulo 2^32 ms; anything outside 0..10 s is a misread.
            const latencyMs = (((displayWallMs - value) % 2 ** 32) + 2 ** 32) % 2 ** 32;
            result.frames.push({ displayWallMs, glassToGlassMs: latencyMs < 10_000 ? latencyMs : null, height: metadata.height });
            video.requestVideoFrameCallback(onFrame);
          };
          video.requestVideoFrameCallback(onFrame);

          const audio = new AudioContext();
          // An onset: the first loud sample after 0.3 s without one (clicks come once a second).
          const source = `class Onset extends AudioWorkletProcessor {
            constructor() { super(); this.lastLoudSec = -1; }
            process(inputs) {
              const samples = inputs[0] && inputs[0][0];
              if (samples) for (let i = 0; i < samples.length; i++) {
                if (Math.abs(samples[i]) < 0.3) continue;
                const atSec = currentTime + i / sampleRate;
                if (this.lastLoudSec < 0 || atSec - this.lastLoudSec > 0.3) this.port.postMessage(atSec);
                this.lastLoudSec = atSec;
              }
              return true;
            }
          }
          registerProcessor('onset', Onset);`;
          await audio.audioWorklet.addModule(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
          const onset = new AudioWorkletNode(audio, 'onset');
          audio.createMediaStreamSource(video.srcObject as MediaStream).connect(onset).connect(audio.destination);
          onset.port.onmessage = (event: MessageEvent<number>) => {
            // Heard time of that sample: the output timestamp maps the audio clock onto performance.now().
            const stamp = audio.getOutputTimestamp();
            const heardMs =
              stamp.performanceTime && stamp.contextTime !== undefined
                ? stamp.performanceTime + (event.data - stamp.contextTime) * 1000
                : performance.now() - (audio.currentTime - event.data - audio.outputLatency) * 1000;
            result.onsetsWallMs.push(performance.timeOrigin + heardMs);
          };
          await new Promise((resolve) => setTimeout(resolve, durationMs));
          await audio.close();
          return result;
        },
        { layout: STAMP_LAYOUT, durationMs: seconds * 1000 },
      );
      clearInterval(sampler);
      const clicks = await app.evaluate(() => window.avatarShareStatus!.clickWallMs);

      const latencies = received.frames.flatMap((frame) => (frame.glassToGlassMs === null ? [] : [frame.glassToGlassMs]));
      const fpsPerSecond: number[] = [];
      const times = received.frames.map((frame) => frame.displayWallMs);
      for (let start = times[0]!; start + 1000 <= times.at(-1)!; start += 1000) {
        fpsPerSecond.push(times.filter((time) => time >= start && time < start + 1000).length);
      }
      const { audioMs, skewMs } = audioVideoSkews(clicks, received.onsetsWallMs, received.frames);
      return {
        models: {
          avatar: 'default avatar, idle motion (scripted profile)',
          renderer: `Chromium headless, SwiftShader WebGL, app window ${width}x${height}; share preset ${preset}, VP8/Opus, host candidates on this machine`,
        },
        runs: received.frames.length,
        metrics: {
          glass_to_glass_ms_p50: round3(quantile(latencies, 0.5)),
          glass_to_glass_ms_p95: round3(quantile(latencies, 0.95)),
          received_fps_p50: round3(quantile(fpsPerSecond, 0.5)),
          audio_video_skew_ms_p95: round3(quantile(skewMs.map(Math.abs), 0.95)),
          time_to_first_frame_ms: round3(received.firstFrameMs ?? Number.NaN),
          audio_glass_to_glass_ms_p50: round3(quantile(audioMs, 0.5)),
          sender_render_fps_p50: round3(quantile(renderFps, 0.5)),
          received_height_px_p50: round3(quantile(received.frames.map((frame) => frame.height), 0.5)),
          stamp_decoded_ratio: round3(latencies.length / Math.max(1, received.frames.length)),
          clicks_sent_count: clicks.length,
          clicks_heard_count: received.onsetsWallMs.length,
        },
        notes: [
          'Frames carry their capture time (wall clock) as a stamp; glass-to-glass = receiver expectedDisplayTime - stamp.',
          'A/V skew = click latency (sender stream -> receiver heard) - median video latency around it.',
          'time_to_first_frame_ms: from opening the viewer page to its first presented frame (page load, signaling, ICE, DTLS, keyframe).',
          'The received frame rate cannot exceed the sender render rate (sender_render_fps_p50, software WebGL on a shared CPU).',
        ],
      };
    } finally {
      await browser.close();
      await serve.stop();
    }
  },
};

export default bench;
