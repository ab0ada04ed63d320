import { quantile, round3, type Benchmark } from './bench-api';
import { openAndAsk, sampleFrames, startBrowserSession } from './browser-session';

/**
 * `npm run bench -- av_sync`: headless Chromium through `serve`; while the avatar speaks a reply,
 * the renderer's measured mouth-vs-audio offset (window.avatarDiagnostics.avOffsetMs: the time the
 * applied viseme was picked for vs the audio clock heard after the frame) on every frame.
 */
const bench: Benchmark = {
  name: 'av_sync',
  description: 'mouth-vs-audio offset in headless Chromium over spoken replies (av_offset_ms_p95)',
  async run(options) {
    const replies = Number(options.runs ?? 3);
    const session = await startBrowserSession(options.profile ?? 'scripted');
    const offsets: number[] = [];
    try {
      for (let run = 0; run < replies; run++) {
        const page = await openAndAsk(session, 'Please tell me a short story about a robot who learns to sing.');
        const samples = await sampleFrames(page, 8000);
        for (const sample of samples) if (sample.state === 'speaking' && sample.avOffsetMs !== null) offsets.push(sample.avOffsetMs);
        await page.close();
      }
    } finally {
      await session.close();
    }
    const absolute = offsets.map(Math.abs);
    return {
      models: { all: `${options.profile ?? 'scripted'} profile via serve`, renderer: 'Chromium headless, SwiftShader WebGL' },
      runs: replies,
      metrics: {
        av_offset_ms_p50: round3(quantile(absolute, 0.5)),
        av_offset_ms_p95: round3(quantile(absolute, 0.95)),
        av_offset_signed_ms_mean: round3(offsets.reduce((sum, value) => sum + value, 0) / Math.max(1, offsets.length)),
        speaking_frames: offsets.length,
      },
      notes: ['offset per rendered frame while speaking; positive = mouth late; SwiftShader frame rates are low, so frames are few'],
    };
  },
};

export default bench;
