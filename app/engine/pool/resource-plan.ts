import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { WorkerKind } from '../../shared/worker.contract';

/** What the machine offers the engine's workers. */
export interface MachineResources {
  cpuCores: number;
  /** Memory the workers may use (already net of the app, renderer and OS reserve). */
  ramBytes: number;
  /** GPU memory the workers may use, when a GPU is reported. */
  vramBytes?: number;
  /**
   * Cores left to everything else (the renderer, the host, the VAD). ggml (whisper.cpp, llama.cpp)
   * threads spin at a barrier after every graph node: when they hold every core and anything else
   * runs, one preempted thread stalls the rest (whisper tiny.en on 2 cores under load: 2 threads
   * p50 816 ms, max 16.9 s; 1 thread p50 565 ms, max 1.1 s).
   */
  reservedCores?: number;
}

/** What one kind of worker needs. */
export interface WorkerDemand {
  kind: WorkerKind;
  modelName: string;
  /** Workers wanted; at least one must fit. */
  count: number;
  /** Host memory of one worker (runtime + model when on the CPU). */
  ramBytes: number;
  /** Model memory that moves to the GPU when offloaded (added to RAM when it stays on the CPU). */
  vramBytes?: number;
  /** Threads one worker would like; the plan may give fewer. */
  threads?: number;
  /** False for runtimes that barely compute (a VAD, the scripted engine): one thread, outside the core budget. */
  cpuBound?: boolean;
}

export interface KindPlan {
  count: number;
  threads: number;
  /** Whether the model is offloaded to the GPU (false: CPU only, gpuLayers 0). */
  onGpu: boolean;
}

export interface ResourcePlan {
  kinds: Partial<Record<WorkerKind, KindPlan>>;
  ramBytes: number;
  vramBytes: number;
  /** Workers dropped or shrunk to fit, in words. */
  warnings: string[];
}

/**
 * Kinds whose compute overlaps in a turn: STT finishes before the LLM starts, while the LLM and
 * TTS run together (streaming).
 */
const PHASES: readonly (readonly WorkerKind[])[] = [['turn'], ['stt'], ['llm', 'tts']]; // The VAD's per-frame work is negligible; the end-of-turn model runs at a pause, before STT.
/** Who gets extra workers first, and who keeps its workers longest when cores are short. */
const PRIORITY: readonly WorkerKind[] = ['llm', 'tts', 'stt', 'turn', 'vad'];

const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(1)} GB`;

/**
 * Decides how many workers of each kind fit in RAM (and VRAM when reported) and how many CPU
 * threads each runtime gets, so that the threads of the kinds that run at the same time never
 * exceed the cores (llama.cpp slows down by orders of magnitude when oversubscribed).
 * Throws AppError(model_too_large) when one worker of every kind does not fit.
 */
export function planResources(machine: MachineResources, demands: readonly WorkerDemand[]): ResourcePlan {
  const warnings: string[] = [];
  const byKind = new Map(demands.filter((demand) => demand.count > 0).map((demand) => [demand.kind, demand]));
  const kinds = PRIORITY.filter((kind) => byKind.has(kind));
  let vramLeft = machine.vramBytes ?? 0;
  let ramLeft = machine.ramBytes;
  const plans = new Map<WorkerKind, KindPlan>();
  const ramPerWorker = new Map<WorkerKind, number>();
  const vramPerWorker = new Map<WorkerKind, number>();

  // One worker of every kind, biggest GPU users first onto the GPU.
  for (const kind of [...kinds].sort((a, b) => (byKind.get(b)!.vramBytes ?? 0) - (byKind.get(a)!.vramBytes ?? 0))) {
    const demand = byKind.get(kind)!;
    const vram = demand.vramBytes ?? 0;
    const onGpu = vram > 0 && vram <= vramLeft;
    if (vram > 0 && machine.vramBytes !== undefined && !onGpu) {
      warnings.push(`${demand.modelName} does not fit in GPU memory (${gb(vram)} needed, ${gb(vramLeft)} free); it runs on the CPU.`);
    }
    const ram = demand.ramBytes + (onGpu ? 0 : vram);
    if (ram > ramLeft) {
      throw new AppError(
        ErrorCode.ModelTooLarge,
        `The ${kind} model ${demand.modelName} needs ${gb(ram)} of memory but only ${gb(ramLeft)} of ${gb(machine.ramBytes)} is left for it. Choose a smaller model.`,
        false,
      );
    }
    ramLeft -= ram;
    if (onGpu) vramLeft -= vram;
    ramPerWorker.set(kind, ram);
    vramPerWorker.set(kind, onGpu ? vram : 0);
    plans.set(kind, { count: 1, threads: 1, onGpu });
  }

  // Extra workers, round-robin by priority, while memory lasts.
  for (let added = true; added; ) {
    added = false;
    for (const kind of kinds) {
      const plan = plans.get(kind)!;
      if (plan.count >= byKind.get(kind)!.count) continue;
      const ram = ramPerWorker.get(kind)!;
      const vram = vramPerWorker.get(kind)!;
      if (ram > ramLeft || vram > vramLeft) continue;
      ramLeft -= ram;
      vramLeft -= vram;
      plan.count++;
      added = true;
    }
  }
  for (const kind of kinds) {
    const wanted = byKind.get(kind)!.count;
    if (plans.get(kind)!.count < wanted) warnings.push(`Only ${plans.get(kind)!.count} of ${wanted} ${kind} workers fit in memory.`);
  }

  // Threads: within each phase, one or more per worker, never more in total than cores.
  const cores = Math.max(1, machine.cpuCores - (machine.reservedCores ?? 0));
  for (const phase of PHASES) {
    const present = phase.filter((kind) => plans.has(kind) && byKind.get(kind)!.cpuBound !== false);
    const workers = (): number => present.reduce((sum, kind) => sum + plans.get(kind)!.count, 0);
    // Too many workers for the cores: drop extras, lowest priority first.
    for (const kind of [...present].reverse()) {
      const plan = plans.get(kind)!;
      const before = plan.count;
      while (workers() > cores && plan.count > 1) plan.count--;
      if (plan.count < before) warnings.push(`${kind} workers reduced from ${before} to ${plan.count} so threads do not exceed ${cores} cores.`);
    }
    if (workers() > cores) {
      const kept = machine.reservedCores ? ` (${machine.reservedCores} of ${machine.cpuCores} kept for the renderer and host)` : '';
      warnings.push(`${present.join(' and ')} share ${cores} core(s)${kept} with one thread each; expect slower replies.`);
    }
    let spare = Math.max(0, cores - workers());
    // Spare cores go to the highest-priority kinds, up to what each worker wants.
    for (const kind of present) {
      const plan = plans.get(kind)!;
      const wanted = byKind.get(kind)!.threads ?? cores;
      const extraPerWorker = Math.min(Math.max(0, wanted - 1), Math.floor(spare / plan.count));
      plan.threads = 1 + extraPerWorker;
      spare -= extraPerWorker * plan.count;
    }
  }

  const used = (map: Map<WorkerKind, number>): number => kinds.reduce((sum, kind) => sum + map.get(kind)! * plans.get(kind)!.count, 0);
  return { kinds: Object.fromEntries(plans), ramBytes: used(ramPerWorker), vramBytes: used(vramPerWorker), warnings };
}
