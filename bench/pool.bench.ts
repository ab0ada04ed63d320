import { loadavg } from 'node:os';
import type { Benchmark } from './bench-api';
import { quantile, round3 } from './bench-api';
import { forkHostLauncher } from '../app/engine/pool/host-launcher';
import { WorkerPool, type PoolConfig } from '../app/engine/pool/worker-pool';
import type { LoadSpec, WorkerKind } from '../app/shared/worker.contract';

/**
 * `npm run bench -- pool [--load-ms 0] [--sessions 4]`: warm lease vs cold start (new host process
 * + worker thread + model load), session affinity over interleaved multi-session turns, and the
 * cost of one process hop (engine ↔ runtime host).
 */

const spec = (kind: WorkerKind, loadMs: number): LoadSpec => ({
  kind,
  engine: 'scripted',
  modelName: `scripted-${kind}`,
  threads: 1,
  options: { loadMs, tokenMs: 0 },
});

function poolConfig(kinds: PoolConfig['kinds']): PoolConfig {
  return {
    kinds,
    launcher: forkHostLauncher,
    leaseTimeoutMs: 10_000,
    health: { pingIntervalMs: 1000, pingDeadlineMs: 5000, memoryCeilingBytes: 2e9 },
    hostRestartDelayMs: 100,
    shutdownTimeoutMs: 5000,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const benchmark: Benchmark = {
  name: 'pool',
  description: 'Warm lease vs cold start, sticky-session hit ratio, process hop cost (real host processes, scripted workers).',
  async run(options) {
    const loadMs = Number(options['load-ms'] ?? 0);
    const sessions = Number(options.sessions ?? 4);
    const coldRuns = Number(options['cold-runs'] ?? 5);

    // Cold: a new host process, a new worker thread, a model load — what a lease would cost without the pool.
    const cold: number[] = [];
    for (let run = 0; run < coldRuns; run++) {
      const startedMs = performance.now();
      const pool = new WorkerPool(poolConfig({ llm: { count: 1, spec: spec('llm', loadMs) } }));
      await pool.start();
      const lease = await pool.lease('llm', 'cold');
      cold.push(performance.now() - startedMs);
      lease.release();
      await pool.shutdown();
    }

    const pool = new WorkerPool(poolConfig({ llm: { count: sessions, spec: spec('llm', loadMs), affinity: 'exclusive' } }));
    await pool.start();

    // Warm: lease + release of a ready worker.
    const warm: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const startedMs = performance.now();
      const lease = await pool.lease('llm', `s${i % sessions}`);
      warm.push(performance.now() - startedMs);
      lease.release();
    }

    // Interleaved turns of several sessions, concurrently, each holding its worker for a short while.
    let hits = 0;
    let repeatLeases = 0;
    const turnsPerSession = 25;
    await Promise.all(
      Array.from({ length: sessions }, async (_, index) => {
        const sessionId = `turns-${index}`;
        for (let turn = 0; turn < turnsPerSession; turn++) {
          const lease = await pool.lease('llm', sessionId);
          if (turn > 0) {
            repeatLeases++;
            if (lease.stickyHit) hits++;
          }
          await lease.worker.run({ kind: 'llm', sessionId, messages: [{ role: 'user', content: `turn ${turn}` }], maxTokens: 4 });
          lease.release();
          await sleep((index * 7 + turn * 3) % 5);
        }
      }),
    );

    // One process hop: half the engine → host → engine round trip.
    const host = pool.host('scripted')!;
    const hops: number[] = [];
    const workerRoundTrips: number[] = [];
    const worker = pool.workersOf('llm')[0]!;
    for (let i = 0; i < 500; i++) {
      hops.push((await host.ping()) / 2);
      const startedMs = performance.now();
      await worker.ping(5000);
      workerRoundTrips.push(performance.now() - startedMs);
    }
    await pool.shutdown();

    const coldP50 = quantile(cold, 0.5);
    const warmP99 = quantile(warm, 0.99);
    return {
      models: { llm: 'scripted', note: `scripted llm, loadMs ${loadMs} (cold start is process + thread + load)` },
      runs: coldRuns,
      metrics: {
        cold_start_ms_p50: round3(coldP50),
        lease_warm_ms_p50: round3(quantile(warm, 0.5)),
        lease_warm_ms_p99: round3(warmP99),
        cold_start_over_warm_lease_ratio: round3(coldP50 / Math.max(warmP99, 0.001)),
        sticky_hit_ratio: round3(hits / repeatLeases),
        ipc_hop_ms_p50: round3(quantile(hops, 0.5)),
        ipc_hop_ms_p95: round3(quantile(hops, 0.95)),
        worker_round_trip_ms_p95: round3(quantile(workerRoundTrips, 0.95)),
      },
      notes: [
        `1-minute load average at the end: ${loadavg()[0]!.toFixed(1)} (other processes share the cores; tails grow with it)`,
        `${sessions} sessions × ${turnsPerSession} interleaved turns on ${sessions} LLM workers`,
        'cold_start_over_warm_lease_ratio = cold_start_ms_p50 / lease_warm_ms_p99; ipc hop = half of an engine ↔ host round trip',
      ],
    };
  },
};

export default benchmark;
