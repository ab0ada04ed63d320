import { round3, type Benchmark } from './bench-api';
import { runSoak } from './soak-session';

/**
 * `soak`: `npm run bench -- soak --minutes N [--profile dev|scripted] [--sample-sec S] [--warmup-sec W] [--series FILE]`:
 * spoken conversations through `serve` in Chromium for N minutes (barge-ins, reloads, share viewers
 * joining and leaving) with the processes' memory, heaps and open files sampled (see soak-session.ts).
 * Targets: errors 0, growth ≤ 20 MB/h, latency_drift_ratio ≤ 1.1.
 */
const benchmark: Benchmark = {
  name: 'soak',
  description: 'N minutes of spoken conversation through serve + Chromium: errors, restarts, memory/heap/fd growth per hour, latency drift',
  async run(options) {
    const minutes = Number(options.minutes ?? 10);
    if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, got "${options.minutes}"`);
    const profile = options.profile;
    if (profile !== undefined && profile !== 'dev' && profile !== 'scripted') throw new Error(`--profile must be dev or scripted, got "${profile}"`);
    const result = await runSoak({
      minutes,
      profile,
      sampleEverySec: options['sample-sec'] !== undefined ? Number(options['sample-sec']) : undefined,
      warmUpSec: options['warmup-sec'] !== undefined ? Number(options['warmup-sec']) : undefined,
      seriesFile: options.series,
      log: (line) => console.error(line),
    });
    return {
      models: { profile: result.profile, note: result.profile === 'dev' ? 'development models (silero, whisper tiny.en, SmolLM2, Piper)' : 'scripted placeholder engines (no dev models)' },
      runs: result.metrics.turns!,
      metrics: result.metrics,
      notes: [`${round3(minutes)} min requested`, ...result.notes],
    };
  },
};

export default benchmark;
