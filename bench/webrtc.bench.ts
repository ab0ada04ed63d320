import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { quantile, round3, type Benchmark } from './bench-api';
import { STAMP_LAYOUT } from '../app/renderer/share/share-stamp';
import { SHARE_PRESETS, type SharePresetName } from '../app/shared/share.contract';
import type { Browser, Page } from 'playwright-core';
import { launchShareBrowser, startShareServe, type ShareServe } from '../tests/support/share-session';

/**
 * `npm run bench -- webrtc [--seconds 10] [--preset 720p30|1080p60] [--viewport 980x640] [--pack alpha] [--lead MS]`: the
 * avatar share between two headless Chromium pages on this machine (host ICE candidates only). The
 * sender draws its wall-clock capture time into every frame and emits a click into the shared audio
 * each second; the viewer page decodes each presented frame's stamp (requestVideoFrameCallback) and
 * detects the clicks in an AudioWorklet, both against the same machine clock (timeOrigin + now).
 *
 * Two senders in one run, one after the other: the avatar as the app renders it, and a
 * transport-only sender (`transport_` metrics) with the same compositor, stamps, preset and encoder
 * settings but a cheap scene (light detail in a 320x200 window), so the WebRTC path's own latency
 * shows apart from software WebGL's. WebRTC's own counters and the viewer's receive times split
 * glass-to-glass further: on a busy 2-core machine nearly all of it lies between drawing the frame and
 * the encoder (a canvas capture track takes the canvas when the page paints, and the page's frames
 * wait for the GPU process, SwiftShader, shared by both pages); encoding, pacing, the jitter buffer
 * and decoding take tens of milliseconds.
 */

interface ReceiverResult {
  firstFrameMs: number | null;
  frames: {
    displayWallMs: number;
    glassToGlassMs: number | null;
    /** Stamp → last packet received (capture, encode, network), and received → expected display (jitter buffer, decode, display). */
    stampToReceivedMs: number | null;
    receivedToDisplayMs: number | null;
    width: number;
    height: number;
  }[];
  onsetsWallMs: number[];
  /** Stamp → the decoded frame leaving the receiver's track (MediaStreamTrackProcessor), before the video element. */
  decodedLagMs: number[];
}

/** One sender's page query and window size. */
interface SenderSetup {
  query: string;
  viewport: { width: number; height: number };
}

/**
 * Page init script: keeps every RTCPeerConnection the page makes (simple-peer holds them privately),
 * so the bench can read the encoder's and the receiver's own timing counters.
 */
const RECORD_PEER_CONNECTIONS = `(() => {
  const Native = window.RTCPeerConnection;
  const made = [];
  window.__peerConnections = made;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); made.push(this); }
  };
})();`;

/** Totals of the connected peer's video RTP stream (`outbound-rtp` on the sender, `inbound-rtp` on the viewer) and its media source. */
function videoRtpStats(page: Page, type: 'inbound-rtp' | 'outbound-rtp'): Promise<Record<string, number>> {
  return page.evaluate(async (type) => {
    const connections = (window as unknown as { __peerConnections: RTCPeerConnection[] }).__peerConnections;
    const totals: Record<string, number> = {};
    for (const pc of connections) {
      if (pc.connectionState !== 'connected') continue;
      (await pc.getStats()).forEach((stats: Record<string, unknown>) => {
        const ours = stats.kind === 'video' && (stats.type === type || stats.type === 'media-source');
        if (!ours) return;
        for (const [key, value] of Object.entries(stats)) if (typeof value === 'number') totals[key] = value;
      });
    }
    return totals;
  }, type);
}

/** `total / count` in milliseconds (WebRTC stats keep seconds), NaN without a count. */
function meanMs(totalSec: number | undefined, count: number | undefined): number {
  return count ? round3(((totalSec ?? 0) / count) * 1000) : Number.NaN;
}

/** The cheap scene of the transport-only sender. */
const TRANSPORT_VIEWPORT = { width: 320, height: 200 };

/** Pairs each click with the first onset heard after it; its latency minus the video's around then is the skew. */
function audioVideoSkews(clicksWallMs: number[], onsetsWallMs: number[], frames: ReceiverResult['frames']): { audioMs: number[]; skewMs: number[]; frameSkewMs: number[] } {
  const audioMs: number[] = [];
  const skewMs: number[] = [];
  // Also against the one frame drawn nearest the click (within 250 ms): its own latency, not the window's median.
  const frameSkewMs: number[] = [];
  for (const click of clicksWallMs) {
    const onset = onsetsWallMs.find((time) => time > click && time < click + 1000);
    if (onset === undefined) continue;
    const nearby = frames.filter((frame) => frame.glassToGlassMs !== null && Math.abs(frame.displayWallMs - onset) < 1500).map((frame) => frame.glassToGlassMs!);
    if (nearby.length === 0) continue;
    audioMs.push(onset - click);
    skewMs.push(onset - click - quantile(nearby, 0.5));
    let nearest: { distanceMs: number; latencyMs: number } | null = null;
    for (const frame of frames) {
      if (frame.glassToGlassMs === null) continue;
      const distanceMs = Math.abs(frame.displayWallMs - frame.glassToGlassMs - click);
      if (distanceMs < 250 && (!nearest || distanceMs < nearest.distanceMs)) nearest = { distanceMs, latencyMs: frame.glassToGlassMs };
    }
    if (nearest) frameSkewMs.push(onset - click - nearest.latencyMs);
  }
  return { audioMs, skewMs, frameSkewMs };
}

/**
 * On the sender page, for `seconds`: stamp → the frame leaving the video track it sends
 * (MediaStreamTrackProcessor on a clone), i.e. drawing and capture before the encoder.
 */
function senderCaptureLags(page: Page, seconds: number): Promise<number[]> {
  return page.evaluate(
    async ({ layout, durationMs }) => {
      const connections = (window as unknown as { __peerConnections: RTCPeerConnection[] }).__peerConnections;
      const track = connections.flatMap((pc) => pc.getSenders()).find((sender) => sender.track?.kind === 'video')?.track;
      if (!track) return [];
      const stampWidth = layout.bits * layout.cellPx;
      const context = new OffscreenCanvas(stampWidth, layout.cellPx).getContext('2d', { willReadFrequently: true })!;
      const processor = new (window as unknown as { MediaStreamTrackProcessor: new (init: { track: MediaStreamTrack }) => { readable: ReadableStream<VideoFrame> } }).MediaStreamTrackProcessor({
        track: track.clone(),
      });
      const reader = processor.readable.getReader();
      const lags: number[] = [];
      const endMs = performance.now() + durationMs;
      while (performance.now() < endMs) {
        const { value: frame } = await reader.read();
        if (!frame) break;
        const atMs = performance.timeOrigin + performance.now();
        context.drawImage(frame, 0, 0, stampWidth, layout.cellPx, 0, 0, stampWidth, layout.cellPx);
        frame.close();
        const pixels = context.getImageData(0, 0, stampWidth, layout.cellPx).data;
        let value = 0;
        for (let bit = 0; bit < layout.bits; bit++) {
          const index = (Math.floor(layout.cellPx / 2) * stampWidth + bit * layout.cellPx + Math.floor(layout.cellPx / 2)) * 4;
          value = value * 2 + ((pixels[index]! + pixels[index + 1]! + pixels[index + 2]!) / 3 > 128 ? 1 : 0);
        }
        const lagMs = (((atMs - value) % 2 ** 32) + 2 ** 32) % 2 ** 32;
        if (lagMs < 10_000) lags.push(lagMs);
      }
      await reader.cancel();
      return lags;
    },
    { layout: STAMP_LAYOUT, durationMs: seconds * 1000 },
  );
}

/**
 * On a viewer page whose first `<video>` plays the share: for `seconds`, each presented frame's stamp
 * (requestVideoFrameCallback) and, when the stream has audio, each click heard (AudioWorklet onsets),
 * on the machine's wall clock.
 */
function receiveFrames(page: Page, seconds: number): Promise<ReceiverResult> {
  return page.evaluate(
    async ({ layout, durationMs }) => {
      const video = document.querySelector('video')!;
      const result: ReceiverResult = { firstFrameMs: (window as unknown as { firstFrameMs: number }).firstFrameMs, frames: [], onsetsWallMs: [], decodedLagMs: [] };
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
        const valid = latencyMs < 10_000;
        const receivedWallMs = metadata.receiveTime === undefined ? null : performance.timeOrigin + metadata.receiveTime;
        result.frames.push({
          displayWallMs,
          glassToGlassMs: valid ? latencyMs : null,
          stampToReceivedMs: valid && receivedWallMs !== null ? latencyMs - (displayWallMs - receivedWallMs) : null,
          receivedToDisplayMs: receivedWallMs === null ? null : displayWallMs - receivedWallMs,
          width: metadata.width,
          height: metadata.height,
        });
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
      // The same stamps on the decoded frames as the receiving track hands them out, before the player.
      const decodedCanvas = new OffscreenCanvas(stampWidth, layout.cellPx);
      const decodedContext = decodedCanvas.getContext('2d', { willReadFrequently: true })!;
      const processor = new (window as unknown as { MediaStreamTrackProcessor: new (init: { track: MediaStreamTrack }) => { readable: ReadableStream<VideoFrame> } }).MediaStreamTrackProcessor({
        track: (video.srcObject as MediaStream).getVideoTracks()[0]!.clone(),
      });
      const reader = processor.readable.getReader();
      const endMs = performance.now() + durationMs;
      void (async () => {
        while (performance.now() < endMs) {
          const { value: frame } = await reader.read();
          if (!frame) break;
          const atMs = performance.timeOrigin + performance.now();
          decodedContext.drawImage(frame, 0, 0, stampWidth, layout.cellPx, 0, 0, stampWidth, layout.cellPx);
          frame.close();
          const pixels = decodedContext.getImageData(0, 0, stampWidth, layout.cellPx).data;
          let value = 0;
          for (let bit = 0; bit < layout.bits; bit++) {
            const index = (Math.floor(layout.cellPx / 2) * stampWidth + bit * layout.cellPx + Math.floor(layout.cellPx / 2)) * 4;
            value = value * 2 + ((pixels[index]! + pixels[index + 1]! + pixels[index + 2]!) / 3 > 128 ? 1 : 0);
          }
          const lagMs = (((atMs - value) % 2 ** 32) + 2 ** 32) % 2 ** 32;
          if (lagMs < 10_000) result.decodedLagMs.push(lagMs);
        }
        await reader.cancel();
      })();
      // The floor sends video only.
      if ((video.srcObject as MediaStream).getAudioTracks().length === 0) {
        await new Promise((resolve) => setTimeout(resolve, durationMs));
        return result;
      }

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
}

/** Chromium trace categories for one frame's life: canvas, capture, WebRTC send and receive, GPU, compositor. */
const TRACE_CATEGORIES = [
  'webrtc',
  'media',
  'gpu',
  'viz',
  'cc',
  'blink',
  'toplevel',
  'disabled-by-default-gpu.service',
  'disabled-by-default-webrtc',
  'disabled-by-default-video_and_image_capture',
];

/** `--trace DIR`: a Chromium trace of the whole browser while `measure` runs, kept as `DIR/<label>.json`. */
async function traced<T>(browser: Browser, traceDir: string | undefined, label: string, measure: () => Promise<T>): Promise<T> {
  if (!traceDir) return measure();
  mkdirSync(traceDir, { recursive: true });
  await browser.startTracing(undefined, { path: join(traceDir, `${label}.json`), categories: TRACE_CATEGORIES });
  try {
    return await measure();
  } finally {
    await browser.stopTracing();
  }
}

/** Shares from one sender page to one viewer page for `seconds` and measures what the viewer sees and hears. */
async function measureShare(browser: Browser, serve: ShareServe, sender: SenderSetup, seconds: number, trace?: { dir: string | undefined; label: string }): Promise<Record<string, number>> {
  const app = await browser.newPage({ viewport: sender.viewport });
  // tsx (esbuild keepNames) wraps named functions in __name(); page functions need it defined.
  await app.addInitScript({ content: 'window.__name = (fn) => fn;' });
  await app.addInitScript({ content: RECORD_PEER_CONNECTIONS });
  await app.goto(`${serve.url.href}&share=1${sender.query}`);
  await app.waitForFunction(() => window.avatarShareStatus?.signaling === true, null, { timeout: 60_000 });
  // The AudioWorklet module comes from a blob: the viewer's CSP allows only its own scripts.
  const viewerContext = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 720 } });
  try {
    const viewer = await viewerContext.newPage();
    await viewer.addInitScript({ content: 'window.__name = (fn) => fn;' });
    await viewer.addInitScript({ content: RECORD_PEER_CONNECTIONS });
    await viewer.addInitScript(() => {
      document.addEventListener('DOMContentLoaded', () => {
        const video = document.querySelector('video')!;
        video.requestVideoFrameCallback((_now, metadata) => {
          (window as unknown as { firstFrameMs: number }).firstFrameMs = metadata.expectedDisplayTime;
        });
      });
    });
    // unpack=none: the stamp is read from the received frame itself, packed or not.
    await viewer.goto(`${serve.viewUrl.href}&unpack=none`);
    await viewer.waitForFunction(() => (window as unknown as { firstFrameMs?: number }).firstFrameMs !== undefined, null, { timeout: 60_000 });

    // Where the sender page's main thread goes (Chromium's own per-page counters, seconds busy).
    const cdp = await app.context().newCDPSession(app);
    await cdp.send('Performance.enable');
    const mainThread = async (): Promise<Record<string, number>> =>
      Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((metric: { name: string; value: number }) => [metric.name, metric.value]));
    const mainBefore = await mainThread();
    const renderFps: number[] = [];
    const sampler = setInterval(() => {
      void app.evaluate(() => window.avatarDiagnostics?.fps ?? 0).then((fps) => renderFps.push(fps), () => undefined);
    }, 1000);
    const [received, captureLags] = await traced(browser, trace?.dir, trace?.label ?? '', () => Promise.all([receiveFrames(viewer, seconds), senderCaptureLags(app, seconds)]));
    clearInterval(sampler);
    const mainAfter = await mainThread();
    const busyPerSecond = (name: string): number => round3(((mainAfter[name]! - mainBefore[name]!) * 1000) / seconds);
    const { clickWallMs: clicks, videoCaptureDelayMs, audioHoldMs } = await app.evaluate(() => window.avatarShareStatus!);
    const sent = await videoRtpStats(app, 'outbound-rtp');
    const got = await videoRtpStats(viewer, 'inbound-rtp');

    const latencies = received.frames.flatMap((frame) => (frame.glassToGlassMs === null ? [] : [frame.glassToGlassMs]));
    const { audioMs, skewMs, frameSkewMs } = audioVideoSkews(clicks, received.onsetsWallMs, received.frames);
    return {
      glass_to_glass_ms_p50: round3(quantile(latencies, 0.5)),
      glass_to_glass_ms_p95: round3(quantile(latencies, 0.95)),
      stamp_to_received_ms_p50: round3(quantile(received.frames.flatMap((frame) => (frame.stampToReceivedMs === null ? [] : [frame.stampToReceivedMs])), 0.5)),
      received_to_display_ms_p50: round3(quantile(received.frames.flatMap((frame) => (frame.receivedToDisplayMs === null ? [] : [frame.receivedToDisplayMs])), 0.5)),
      stamp_to_captured_ms_p50: round3(quantile(captureLags, 0.5)),
      stamp_to_decoded_ms_p50: round3(quantile(received.decodedLagMs, 0.5)),
      // The sender's own estimate of draw → encoder (no stamps needed) and the audio hold it set.
      sender_video_capture_delay_ms: round3(videoCaptureDelayMs ?? Number.NaN),
      sender_audio_hold_ms: round3(audioHoldMs),
      received_fps_p50: round3(quantile(fpsPerSecond(received.frames), 0.5)),
      audio_video_skew_ms_p95: round3(quantile(skewMs.map(Math.abs), 0.95)),
      // Signed: negative = the voice is heard before its frames.
      audio_video_skew_ms_p50: round3(quantile(skewMs, 0.5)),
      audio_video_skew_ms_min: round3(Math.min(...skewMs)),
      audio_video_skew_ms_max: round3(Math.max(...skewMs)),
      audio_video_frame_skew_ms_p95: round3(quantile(frameSkewMs.map(Math.abs), 0.95)),
      audio_video_frame_skew_ms_p50: round3(quantile(frameSkewMs, 0.5)),
      time_to_first_frame_ms: round3(received.firstFrameMs ?? Number.NaN),
      audio_glass_to_glass_ms_p50: round3(quantile(audioMs, 0.5)),
      sender_render_fps_p50: round3(quantile(renderFps, 0.5)),
      received_height_px_p50: round3(quantile(received.frames.map((frame) => frame.height), 0.5)),
      received_width_px_p50: round3(quantile(received.frames.map((frame) => frame.width), 0.5)),
      stamp_decoded_ratio: round3(latencies.length / Math.max(1, received.frames.length)),
      frames_received_count: received.frames.length,
      // Where the time goes, from WebRTC's own counters (means over the connection's life).
      sender_encode_ms_mean: meanMs(sent.totalEncodeTime, sent.framesEncoded),
      sender_packet_send_delay_ms_mean: meanMs(sent.totalPacketSendDelay, sent.packetsSent),
      sender_frames_captured_count: sent.frames ?? Number.NaN,
      sender_frames_encoded_count: sent.framesEncoded ?? Number.NaN,
      receiver_jitter_buffer_ms_mean: meanMs(got.jitterBufferDelay, got.jitterBufferEmittedCount),
      receiver_decode_ms_mean: meanMs(got.totalDecodeTime, got.framesDecoded),
      receiver_processing_ms_mean: meanMs(got.totalProcessingDelay, got.framesDecoded),
      receiver_frames_dropped_count: got.framesDropped ?? Number.NaN,
      // Main-thread milliseconds per second of the sender page: all tasks, script, style, layout.
      sender_main_task_ms_per_s: busyPerSecond('TaskDuration'),
      sender_main_script_ms_per_s: busyPerSecond('ScriptDuration'),
      sender_main_style_ms_per_s: busyPerSecond('RecalcStyleDuration'),
      sender_main_layout_ms_per_s: busyPerSecond('LayoutDuration'),
      clicks_sent_count: clicks.length,
      clicks_heard_count: received.onsetsWallMs.length,
    };
  } finally {
    await viewerContext.close();
    await app.close();
  }
}

/**
 * The floor: what this machine's Chromium does with no app code at all. A bare WebGL canvas of the
 * preset size, cleared to a moving colour with the same stamp (scissored clears) on every
 * requestAnimationFrame, `captureStream(fps)` straight from it, one plain RTCPeerConnection to a
 * bare receiver page (host candidates, the preset's bitrate, maintain-resolution).
 */
async function measureFloor(
  browser: Browser,
  preset: { width: number; height: number; fps: number; maxBitrateKbps: number },
  seconds: number,
  options: {
    /** The app's way: a window-sized WebGL canvas composed into a 2D canvas of the preset size. */
    via2d?: boolean;
    /** A silent audio track in the same stream, played unmuted, as the app sends and the viewer plays it. */
    withAudio?: boolean;
    /** A secure origin for the pages (AudioWorklet needs one); they get their content set directly. */
    origin: string;
    trace?: { dir: string | undefined; label: string };
  },
): Promise<Record<string, number>> {
  const { via2d = false, withAudio = false, trace } = options;
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 720 } });
  try {
    const sender = await context.newPage();
    const receiver = await context.newPage();
    // via2d: the app's way, a window-sized WebGL canvas composed into a 2D canvas of the preset size.
    // A 404 page of the serve host: a secure context whose content is replaced below.
    for (const page of [sender, receiver]) await page.goto(`${options.origin}/floor-page`);
    await sender.setContent(via2d ? '<canvas width="980" height="640"></canvas>' : `<canvas width="${preset.width}" height="${preset.height}"></canvas>`);
    await receiver.setContent(withAudio ? '<video autoplay playsinline></video>' : '<video autoplay muted playsinline></video>');
    // tsx (esbuild keepNames) wraps named functions in __name(); page functions need it defined.
    for (const page of [sender, receiver]) await page.evaluate('window.__name = (fn) => fn');
    await receiver.evaluate(() => {
      const video = document.querySelector('video')!;
      video.requestVideoFrameCallback((_now, metadata) => {
        (window as unknown as { firstFrameMs: number }).firstFrameMs = metadata.expectedDisplayTime;
      });
    });
    const renderFps = { frames: 0 };
    const offer = await sender.evaluate(
      async ({ layout, fps, maxBitrateKbps, via2d, width, height, withAudio }) => {
        const canvas = document.querySelector('canvas')!;
        const gl = canvas.getContext('webgl', { alpha: false, antialias: false })!;
        const composed = document.createElement('canvas');
        composed.width = width;
        composed.height = height;
        const context2d = composed.getContext('2d', { alpha: false })!;
        let capture: CanvasCaptureMediaStreamTrack | null = null;
        const page = window as unknown as { renderedFrames: number; floorPc: RTCPeerConnection };
        page.renderedFrames = 0;
        const draw = (): void => {
          const hue = (performance.now() / 2000) % 1;
          gl.disable(gl.SCISSOR_TEST);
          gl.clearColor(0.2 + 0.6 * hue, 0.4, 0.8 - 0.6 * hue, 1);
          gl.clear(gl.COLOR_BUFFER_BIT);
          // The stamp: wall-clock ms modulo 2^32, 32 cells top-left, white = 1 (WebGL's y runs upwards).
          const value = Math.floor(performance.timeOrigin + performance.now()) % 2 ** layout.bits;
          gl.enable(gl.SCISSOR_TEST);
          for (let bit = 0; bit < layout.bits; bit++) {
            const on = Math.floor(value / 2 ** (layout.bits - 1 - bit)) % 2 === 1 ? 1 : 0;
            gl.scissor(bit * layout.cellPx, canvas.height - layout.cellPx, layout.cellPx, layout.cellPx);
            gl.clearColor(on, on, on, 1);
            gl.clear(gl.COLOR_BUFFER_BIT);
          }
          if (via2d && capture) {
            context2d.fillStyle = '#000';
            context2d.fillRect(0, 0, width, height);
            const scale = Math.min(width / canvas.width, height / canvas.height);
            context2d.drawImage(canvas, (width - canvas.width * scale) / 2, 0, canvas.width * scale, canvas.height * scale);
            for (let bit = 0; bit < layout.bits; bit++) {
              context2d.fillStyle = Math.floor(value / 2 ** (layout.bits - 1 - bit)) % 2 === 1 ? '#fff' : '#000';
              context2d.fillRect(bit * layout.cellPx, 0, layout.cellPx, layout.cellPx);
            }
            capture.requestFrame();
          }
          page.renderedFrames += 1;
          requestAnimationFrame(draw);
        };
        requestAnimationFrame(draw);
        const pc = new RTCPeerConnection();
        page.floorPc = pc;
        capture = via2d ? (composed.captureStream(0).getVideoTracks()[0] as CanvasCaptureMediaStreamTrack) : null;
        const track = capture ?? canvas.captureStream(fps).getVideoTracks()[0]!;
        track.contentHint = 'detail';
        // withAudio: a silent audio track in the same stream, as the app sends (the receiver then syncs audio and video).
        const stream = new MediaStream([track]);
        if (withAudio) {
          const audio = new AudioContext();
          const destination = audio.createMediaStreamDestination();
          const silence = audio.createConstantSource();
          silence.offset.value = 0;
          silence.connect(destination);
          silence.start();
          stream.addTrack(destination.stream.getAudioTracks()[0]!);
        }
        const sender = pc.addTrack(track, stream);
        for (const audioTrack of stream.getAudioTracks()) pc.addTrack(audioTrack, stream);
        await pc.setLocalDescription(await pc.createOffer());
        const parameters = sender.getParameters();
        for (const encoding of parameters.encodings) {
          encoding.maxBitrate = maxBitrateKbps * 1000;
          encoding.maxFramerate = fps;
        }
        parameters.degradationPreference = 'maintain-resolution';
        await sender.setParameters(parameters);
        await new Promise<void>((resolve) => {
          if (pc.iceGatheringState === 'complete') resolve();
          pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
        });
        return pc.localDescription!.sdp;
      },
      { layout: STAMP_LAYOUT, fps: preset.fps, maxBitrateKbps: preset.maxBitrateKbps, via2d, width: preset.width, height: preset.height, withAudio },
    );
    const answer = await receiver.evaluate(async (sdp) => {
      const pc = new RTCPeerConnection();
      (window as unknown as { __peerConnections: RTCPeerConnection[] }).__peerConnections = [pc];
      pc.ontrack = (event) => {
        document.querySelector('video')!.srcObject = event.streams[0] ?? new MediaStream([event.track]);
      };
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === 'complete') resolve();
        pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
      });
      return pc.localDescription!.sdp;
    }, offer);
    await sender.evaluate(async (sdp) => {
      const page = window as unknown as { floorPc: RTCPeerConnection; __peerConnections: RTCPeerConnection[] };
      page.__peerConnections = [page.floorPc];
      await page.floorPc.setRemoteDescription({ type: 'answer', sdp });
    }, answer);
    await receiver.waitForFunction(() => (window as unknown as { firstFrameMs?: number }).firstFrameMs !== undefined, null, { timeout: 60_000 });
    const renderedBefore = await sender.evaluate(() => (window as unknown as { renderedFrames: number }).renderedFrames);
    const startedMs = Date.now();
    const [received, captureLags] = await traced(browser, trace?.dir, trace?.label ?? '', () => Promise.all([receiveFrames(receiver, seconds), senderCaptureLags(sender, seconds)]));
    renderFps.frames = (await sender.evaluate(() => (window as unknown as { renderedFrames: number }).renderedFrames)) - renderedBefore;
    const sent = await videoRtpStats(sender, 'outbound-rtp');
    const latencies = received.frames.flatMap((frame) => (frame.glassToGlassMs === null ? [] : [frame.glassToGlassMs]));
    return {
      glass_to_glass_ms_p50: round3(quantile(latencies, 0.5)),
      glass_to_glass_ms_p95: round3(quantile(latencies, 0.95)),
      received_fps_p50: round3(quantile(fpsPerSecond(received.frames), 0.5)),
      stamp_to_received_ms_p50: round3(quantile(received.frames.flatMap((frame) => (frame.stampToReceivedMs === null ? [] : [frame.stampToReceivedMs])), 0.5)),
      received_to_display_ms_p50: round3(quantile(received.frames.flatMap((frame) => (frame.receivedToDisplayMs === null ? [] : [frame.receivedToDisplayMs])), 0.5)),
      stamp_to_captured_ms_p50: round3(quantile(captureLags, 0.5)),
      stamp_to_decoded_ms_p50: round3(quantile(received.decodedLagMs, 0.5)),
      sender_render_fps: round3((renderFps.frames * 1000) / (Date.now() - startedMs)),
      received_width_px_p50: round3(quantile(received.frames.map((frame) => frame.width), 0.5)),
      stamp_decoded_ratio: round3(latencies.length / Math.max(1, received.frames.length)),
      sender_encode_ms_mean: meanMs(sent.totalEncodeTime, sent.framesEncoded),
    };
  } finally {
    await context.close();
  }
}

/** Presented frames per wall-clock second, over the whole recording. */
function fpsPerSecond(frames: ReceiverResult['frames']): number[] {
  const counts: number[] = [];
  const times = frames.map((frame) => frame.displayWallMs);
  for (let start = times[0]!; start + 1000 <= times.at(-1)!; start += 1000) {
    counts.push(times.filter((time) => time >= start && time < start + 1000).length);
  }
  return counts;
}

const bench: Benchmark = {
  name: 'webrtc',
  description: 'avatar share sender -> viewer page on loopback, avatar sender and transport-only sender: glass-to-glass, received fps, A/V skew, first frame',
  async run(options) {
    const seconds = Number(options.seconds ?? 10);
    const preset = options.preset ?? '720p30';
    const pack = options.pack === 'alpha' ? '&pack=alpha' : '';
    const serve = await startShareServe('scripted');
    const browser = await launchShareBrowser();
    try {
      // The app window's size sets the avatar's WebGL cost (software rendering); the share scales it to the preset.
      const [width, height] = (options.viewport ?? '980x640').split('x').map(Number);
      // `--lead MS`: the audio path's lead the share takes off its voice hold (default AUDIO_PATH_LEAD_MS).
      const lead = options.lead !== undefined && /^\d+$/.test(options.lead) ? `&shareAudioLeadMs=${options.lead}` : '';
      const query = `&shareStamp=1&sharePreset=${preset}${pack}${lead}`;
      // `--trace DIR`: a Chromium trace of each sender's measurement (DIR/<sender>.json); `--skip avatar` leaves the avatar out.
      const traceDir = options.trace;
      const skipAvatar = options.skip === 'avatar';
      const avatar = skipAvatar ? {} : await measureShare(browser, serve, { query, viewport: { width: width!, height: height! } }, seconds, { dir: traceDir, label: 'avatar' });
      const transport = await measureShare(browser, serve, { query: `${query}&quality=light`, viewport: TRANSPORT_VIEWPORT }, seconds, { dir: traceDir, label: 'transport' });
      const floor = await measureFloor(browser, SHARE_PRESETS[preset as SharePresetName], seconds, { origin: serve.url.origin, trace: { dir: traceDir, label: 'floor' } });
      // `--variants shareCanvas=cpu,shareCanvas=gpu`: the avatar sender again with each query, side by side in this run.
      const variants: Record<string, Record<string, number>> = {};
      // `--variantSender transport`: the variants re-run the transport-only sender instead.
      const variantBase =
        options.variantSender === 'transport' ? { query: `${query}&quality=light`, viewport: TRANSPORT_VIEWPORT } : { query, viewport: { width: width!, height: height! } };
      for (const variant of (options.variants ?? '').split(',').filter(Boolean)) {
        const name = variant.replace(/\W+/g, '_');
        variants[name] = await measureShare(browser, serve, { ...variantBase, query: `${variantBase.query}&${variant}` }, seconds, { dir: traceDir, label: `variant-${name}` });
      }
      const metrics: Record<string, number> = { ...avatar };
      for (const [key, value] of Object.entries(transport)) metrics[`transport_${key}`] = value;
      for (const [key, value] of Object.entries(floor)) metrics[`floor_${key}`] = value;
      if (options.floor2d === '1') {
        const floor2d = await measureFloor(browser, SHARE_PRESETS[preset as SharePresetName], seconds, { origin: serve.url.origin, via2d: true });
        for (const [key, value] of Object.entries(floor2d)) metrics[`floor2d_${key}`] = value;
      }
      // `--floorAudio 1`: the floor again with a silent audio track in the same stream, as the app sends.
      if (options.floorAudio === '1') {
        const floorAudio = await measureFloor(browser, SHARE_PRESETS[preset as SharePresetName], seconds, {
          origin: serve.url.origin,
          withAudio: true,
          trace: { dir: traceDir, label: 'floor-audio' },
        });
        for (const [key, value] of Object.entries(floorAudio)) metrics[`floor_audio_${key}`] = value;
      }
      // The targets, side by side in this run.
      metrics.transport_over_floor_glass_to_glass_p50_ratio = round3(transport.glass_to_glass_ms_p50! / floor.glass_to_glass_ms_p50!);
      metrics.avatar_over_floor_glass_to_glass_p50_ratio = round3(avatar.glass_to_glass_ms_p50! / floor.glass_to_glass_ms_p50!);
      metrics.avatar_received_over_render_fps_ratio = round3(avatar.received_fps_p50! / avatar.sender_render_fps_p50!);
      metrics.transport_received_over_render_fps_ratio = round3(transport.received_fps_p50! / transport.sender_render_fps_p50!);
      for (const [name, variant] of Object.entries(variants)) {
        for (const [key, value] of Object.entries(variant)) metrics[`variant_${name}_${key}`] = value;
        metrics[`variant_${name}_over_floor_glass_to_glass_p50_ratio`] = round3(variant.glass_to_glass_ms_p50! / floor.glass_to_glass_ms_p50!);
      }
      metrics.transport_over_avatar_glass_to_glass_p50_ratio = round3(transport.glass_to_glass_ms_p50! / avatar.glass_to_glass_ms_p50!);
      return {
        models: {
          avatar: 'default avatar, idle motion (scripted profile)',
          renderer: `Chromium headless, SwiftShader WebGL, app window ${width}x${height}; share preset ${preset}${pack ? ' alpha-packed' : ''}, VP8/Opus, host candidates on this machine`,
          transport: `the same share from a light-detail scene in a ${TRANSPORT_VIEWPORT.width}x${TRANSPORT_VIEWPORT.height} window (transport_ metrics)`,
          floor: 'a bare WebGL canvas of the preset size (clear + stamp), captureStream straight from it, plain RTCPeerConnection, no app code (floor_ metrics)',
        },
        runs: (avatar.frames_received_count ?? 0) + transport.frames_received_count!,
        metrics,
        notes: [
          'Frames carry their capture time (wall clock) as a stamp; glass-to-glass = receiver expectedDisplayTime - stamp.',
          'A/V skew = click latency (sender stream -> receiver heard) - median video latency around it.',
          'time_to_first_frame_ms: from opening the viewer page to its first presented frame (page load, signaling, ICE, DTLS, keyframe).',
          'The received frame rate cannot exceed the sender render rate (sender_render_fps_p50, software WebGL on a shared CPU).',
          'glass-to-glass = stamp_to_received (sender: capture, encode, pacing, network) + received_to_display (viewer: jitter buffer, decode, display), from requestVideoFrameCallback receiveTime.',
          'sender_encode_ms_mean, sender_packet_send_delay_ms_mean (pacer), receiver_jitter_buffer_ms_mean, receiver_decode_ms_mean and receiver_processing_ms_mean (first packet received -> decoded) are WebRTC stats totals over frames; glass-to-glass minus them is capture and display.',
          'transport_*: same compositor, stamps, preset and encoder settings, cheap scene: the WebRTC path without the avatar render cost.',
          `load average at the end: ${loadavg().map((value) => value.toFixed(2)).join(' ')}`,
        ],
      };
    } finally {
      await browser.close();
      await serve.stop();
    }
  },
};

export default bench;
