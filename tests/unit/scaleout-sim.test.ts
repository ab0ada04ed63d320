import { describe, expect, it } from 'vitest';
import { quantile } from '../../bench/bench-api';
import { simulateFirstAudio, type SimCosts } from '../../bench/scaleout-sim';

/** The scale-out bench's queueing simulation (bench/scaleout-sim.ts). */

const costs: SimCosts = { endpointMs: 236, sttMs: 306, llmMs: 509, ttsMs: 258, llmTailMs: 1000, ttsTailMs: 1000, replyAudioMs: 5000, userTurnMs: 5000 };
const run = (conversations: number, cores = 1, seed = 7, gpu = false): number[] =>
  simulateFirstAudio({ engines: 3, conversations, cores, gpu, costs, durationMs: 600_000, seed });

describe('scale-out simulation', () => {
  it('with one conversation per engine nothing waits: first audio is the sum of the stages', () => {
    const firstAudio = run(3);
    expect(firstAudio.length).toBeGreaterThan(100);
    for (const ms of firstAudio) expect(ms).toBeCloseTo(236 + 306 + 509 + 258, 6);
  });

  it('first-audio p95 grows as conversations share an engine, and more cores take some of it back', () => {
    const p95 = [1, 2, 4, 8].map((perEngine) => quantile(run(perEngine * 3), 0.95));
    for (let i = 1; i < p95.length; i++) expect(p95[i]!).toBeGreaterThan(p95[i - 1]!);
    expect(quantile(run(12, 2), 0.95)).toBeLessThan(quantile(run(12, 1), 0.95));
    // A GPU of its own for the LLM takes its stages off the cores.
    expect(quantile(run(12, 1, 7, true), 0.95)).toBeLessThan(quantile(run(12, 1), 0.95));
  });

  it('is the same run for the same seed', () => {
    expect(run(9, 1, 3)).toEqual(run(9, 1, 3));
    expect(run(9, 1, 3)).not.toEqual(run(9, 1, 4));
  });
});
