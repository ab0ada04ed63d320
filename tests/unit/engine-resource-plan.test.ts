import { describe, expect, it } from 'vitest';
import { AppError } from '../../app/shared/errors.contract';
import { planResources, type WorkerDemand } from '../../app/engine/pool/resource-plan';

const GB = 1e9;
const demands = (overrides: Partial<Record<WorkerDemand['kind'], Partial<WorkerDemand>>> = {}): WorkerDemand[] =>
  (['vad', 'stt', 'llm', 'tts'] as const).map((kind) => ({
    kind,
    modelName: `${kind}-model`,
    count: 1,
    ramBytes: kind === 'llm' ? 2 * GB : 0.3 * GB,
    cpuBound: kind !== 'vad',
    ...overrides[kind],
  }));

function threadsInPhase(plan: ReturnType<typeof planResources>, kinds: Array<'stt' | 'llm' | 'tts'>): number {
  return kinds.reduce((sum, kind) => sum + (plan.kinds[kind]?.count ?? 0) * (plan.kinds[kind]?.threads ?? 0), 0);
}

describe('planResources', () => {
  it('never gives the kinds that run together more threads than cores (2 cores)', () => {
    const plan = planResources({ cpuCores: 2, ramBytes: 16 * GB }, demands({ llm: { count: 2 }, tts: { count: 2 } }));
    expect(threadsInPhase(plan, ['llm', 'tts'])).toBeLessThanOrEqual(2);
    expect(threadsInPhase(plan, ['stt'])).toBeLessThanOrEqual(2);
    expect(plan.kinds.llm).toMatchObject({ count: 1, threads: 1 });
    expect(plan.kinds.tts).toMatchObject({ count: 1, threads: 1 });
    expect(plan.warnings.join(' ')).toMatch(/reduced/);
  });

  it('keeps reserved cores out of the thread budget (spinning ggml threads must not hold every core)', () => {
    const small = planResources({ cpuCores: 2, ramBytes: 16 * GB, reservedCores: 1 }, demands());
    expect(small.kinds.stt!.threads).toBe(1);
    expect(threadsInPhase(small, ['llm', 'tts'])).toBe(2);
    const big = planResources({ cpuCores: 8, ramBytes: 16 * GB, reservedCores: 1 }, demands());
    expect(big.kinds.stt!.threads).toBe(7);
    expect(big.kinds.llm!.threads).toBe(6);
  });

  it('gives spare cores to the LLM first, up to what it wants', () => {
    const plan = planResources({ cpuCores: 8, ramBytes: 16 * GB }, demands({ tts: { threads: 2 } }));
    expect(plan.kinds.llm!.threads).toBe(7);
    expect(plan.kinds.tts!.threads).toBe(1);
    expect(plan.kinds.stt!.threads).toBe(8);
    const capped = planResources({ cpuCores: 8, ramBytes: 16 * GB }, demands({ llm: { threads: 4 }, tts: { threads: 2 } }));
    expect(capped.kinds.llm!.threads).toBe(4);
    expect(capped.kinds.tts!.threads).toBe(2);
    expect(threadsInPhase(capped, ['llm', 'tts'])).toBeLessThanOrEqual(8);
  });

  it('keeps light runtimes (VAD, scripted) outside the core budget', () => {
    const plan = planResources({ cpuCores: 2, ramBytes: 16 * GB }, demands({ llm: { count: 2, cpuBound: false }, tts: { count: 2, cpuBound: false } }));
    expect(plan.kinds.llm!.count).toBe(2);
    expect(plan.kinds.tts!.count).toBe(2);
    expect(plan.kinds.vad).toMatchObject({ count: 1, threads: 1 });
  });

  it('adds extra workers only while RAM lasts', () => {
    const plan = planResources({ cpuCores: 16, ramBytes: 5.5 * GB }, demands({ llm: { count: 3 } }));
    // 0.9 GB for vad/stt/tts + 2 GB per LLM: two LLM workers fit in 5.5 GB, not three.
    expect(plan.kinds.llm!.count).toBe(2);
    expect(plan.ramBytes).toBeLessThanOrEqual(5.5 * GB);
    expect(plan.warnings.join(' ')).toMatch(/Only 2 of 3 llm workers/);
  });

  it('puts models on the GPU while VRAM lasts and falls back to the CPU with a warning', () => {
    const plan = planResources(
      { cpuCores: 8, ramBytes: 32 * GB, vramBytes: 6 * GB },
      demands({ llm: { vramBytes: 5 * GB, ramBytes: 0.5 * GB }, stt: { vramBytes: 2 * GB } }),
    );
    expect(plan.kinds.llm!.onGpu).toBe(true);
    expect(plan.kinds.stt!.onGpu).toBe(false);
    expect(plan.vramBytes).toBe(5 * GB);
    expect(plan.warnings.join(' ')).toMatch(/stt-model does not fit in GPU memory/);
  });

  it('refuses a model that cannot fit with a clear, typed error', () => {
    let thrown: unknown;
    try {
      planResources({ cpuCores: 4, ramBytes: 4 * GB }, demands({ llm: { ramBytes: 8 * GB, modelName: 'big-70b' } }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({ code: 'model_too_large', recoverable: false });
    expect((thrown as AppError).message).toMatch(/big-70b needs 8\.0 GB/);
  });

  it('shares a single core with a warning rather than failing', () => {
    const plan = planResources({ cpuCores: 1, ramBytes: 16 * GB }, demands());
    expect(plan.kinds.llm!.threads).toBe(1);
    expect(plan.warnings.join(' ')).toMatch(/share 1 core/);
  });
});

describe('createEngine resource planning', () => {
  it('plans worker counts and threads from the machine before anything starts', async () => {
    const { createEngine } = await import('../../app/engine/create-engine');
    const { defaultEngineConfig } = await import('../../app/engine/engine-config');
    const config = defaultEngineConfig({ machine: { cpuCores: 2, ramBytes: 8 * GB } });
    config.workers.llm = { ...config.workers.llm, engine: 'llama', modelName: 'small-llm', count: 2, ramBytes: 2 * GB, cpuBound: true };
    config.workers.tts = { ...config.workers.tts, engine: 'sherpa-vits', modelName: 'voice', count: 1, ramBytes: 0.2 * GB, cpuBound: true };
    const engine = createEngine(config);
    expect(engine.plan!.kinds.llm).toMatchObject({ count: 1, threads: 1 });
    expect(engine.plan!.kinds.tts).toMatchObject({ count: 1, threads: 1 });
    expect(engine.plan!.warnings.join(' ')).toMatch(/llm workers reduced from 2 to 1/);
  });

  it('fails start() with model_too_large instead of crashing', async () => {
    const { createEngine } = await import('../../app/engine/create-engine');
    const { defaultEngineConfig } = await import('../../app/engine/engine-config');
    const config = defaultEngineConfig({ machine: { cpuCores: 2, ramBytes: 1 * GB } });
    config.workers.llm = { ...config.workers.llm, modelName: 'huge-llm', ramBytes: 40 * GB };
    const engine = createEngine(config);
    expect(engine.plan).toBeUndefined();
    await expect(engine.start()).rejects.toMatchObject({ code: 'model_too_large', recoverable: false });
    await engine.shutdown();
  });
});
