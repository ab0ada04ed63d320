/** What a benchmark module (`bench/<name>.bench.ts`, default export) provides. */
export interface Benchmark {
  name: string;
  description: string;
  run(options: Record<string, string>): Promise<BenchResult>;
}

/** Metric names are snake_case with unit then statistic last (see shared/design/measurement.md). */
export interface BenchResult {
  models: Record<string, string>;
  runs: number;
  metrics: Record<string, number>;
  notes?: string[];
}

export interface BenchReport extends BenchResult {
  name: string;
  machine: { cpus: number; cpuModel: string; gpu: string | null };
}

/** The q-quantile (0..1) of `values` by linear interpolation. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

/** Rounds to 3 decimals so JSON stays readable. */
export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * `--vad-silence-ms N` and `--max-pause-ms N`: the end-of-turn timings under test, so a change can be
 * compared side by side with the profile's own in one sitting.
 */
export function turnDetectionOverrides<
  P extends { turnDetection?: { vadSilenceMs: number; maxPauseMs: number; voiceAloneThreshold?: number | undefined; voiceAloneMinSpeechMs?: number | undefined; shortTurnWords?: number | undefined; shortTurnHoldMs?: number | undefined; judgeAfterSilenceMs?: number | undefined; secondLook?: boolean | undefined } | undefined },
>(pipeline: P, options: Record<string, string>): P {
  const detection = pipeline.turnDetection;
  if (!detection) return pipeline;
  const number = (name: string): number | undefined => (options[name] !== undefined && Number.isFinite(Number(options[name])) ? Number(options[name]) : undefined);
  return {
    ...pipeline,
    turnDetection: {
      ...detection,
      vadSilenceMs: number('vad-silence-ms') ?? detection.vadSilenceMs,
      maxPauseMs: number('max-pause-ms') ?? detection.maxPauseMs,
      // `--voice-alone P` (0: off): a voice verdict ≥ P ends the turn before the pause's words are in.
      voiceAloneThreshold: options['voice-alone'] === '0' ? undefined : (number('voice-alone') ?? detection.voiceAloneThreshold),
      voiceAloneMinSpeechMs: number('voice-alone-min-speech-ms') ?? detection.voiceAloneMinSpeechMs,
      // `--short-turn-words N` (0: off) and `--short-turn-hold-ms MS`: a finished turn of ≤ N words waits MS for more.
      shortTurnWords: number('short-turn-words') ?? detection.shortTurnWords,
      shortTurnHoldMs: number('short-turn-hold-ms') ?? detection.shortTurnHoldMs,
      // `--judge-early MS` (-1: off): a pause is judged from MS of unvoiced audio, before the VAD's silence has run out.
      judgeAfterSilenceMs: options['judge-early'] === '-1' ? undefined : (number('judge-early') ?? detection.judgeAfterSilenceMs),
      // `--second-look 0|1`: an early end judged again by the voice once the VAD's silence ran out.
      secondLook: options['second-look'] === undefined ? detection.secondLook : options['second-look'] === '1',
    },
  };
}
