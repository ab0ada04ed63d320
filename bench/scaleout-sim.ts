import { mulberry32 } from '../app/shared/random/mulberry32';
/**
 * A small discrete-event simulation of N conversations on K engines: how first audio waits for the
 * engine's compute as more conversations share it. Each engine has `cores` model cores (FIFO,
 * non-preemptive) — and with `gpu`, one GPU that runs the LLM while STT and TTS stay on the cores;
 * each conversation is a closed loop — the user speaks, the endpoint waits its silence (no
 * compute), then the turn's stages run one after another (STT, LLM up to the first clause, TTS of
 * the first chunk: first audio), then the rest of the reply is computed (the LLM's rest, then the
 * TTS's rest) while it plays, and the user answers after the reply and a pause. Conversations are
 * spread evenly (what leastconn with affinity does). Deterministic for a seed.
 */

/** What one turn costs and how users behave, in ms. */
export interface SimCosts {
  /** End of speech → endpoint decided: silence waited, not compute. */
  endpointMs: number;
  sttMs: number;
  /** LLM request → first clause ready (first token + first clause). */
  llmMs: number;
  /** TTS of the first chunk. */
  ttsMs: number;
  /** LLM compute after first audio: the rest of the reply's tokens. */
  llmTailMs: number;
  /** TTS compute after first audio: the reply's other clauses. */
  ttsTailMs: number;
  /** The reply as heard (audio length). */
  replyAudioMs: number;
  /** The user's next utterance after the reply ends: pause plus speech (mean of an exponential). */
  userTurnMs: number;
}

export interface SimOptions {
  engines: number;
  conversations: number;
  cores: number;
  /** The LLM runs on a GPU of its own per engine (the other stages on the cores). */
  gpu?: boolean;
  costs: SimCosts;
  /** Simulated time per point. */
  durationMs: number;
  seed: number;
}

/** One engine's cores: a job starts on the core free soonest, no earlier than it is ready. */
class Cores {
  private readonly freeAtMs: number[];
  constructor(count: number) {
    this.freeAtMs = new Array<number>(count).fill(0);
  }
  /** Runs a job ready at `readyMs` for `costMs`; returns when it ends. */
  run(readyMs: number, costMs: number): number {
    let best = 0;
    for (let i = 1; i < this.freeAtMs.length; i++) if (this.freeAtMs[i]! < this.freeAtMs[best]!) best = i;
    const endMs = Math.max(readyMs, this.freeAtMs[best]!) + costMs;
    this.freeAtMs[best] = endMs;
    return endMs;
  }
}

interface Pending {
  conversation: number;
  /** When the next job of this turn is ready to run. */
  readyMs: number;
  /** 0 STT, 1 LLM, 2 TTS (first audio after it), 3 LLM's rest, 4 TTS's rest. */
  stage: number;
  speechEndMs: number;
}

const FIRST_AUDIO_STAGE = 2;
const LAST_STAGE = 4;
const LLM_STAGES: ReadonlySet<number> = new Set([1, 3]);

/** First-audio latencies (end of speech → first audio) of every turn that ended within the run. */
export function simulateFirstAudio(options: SimOptions): number[] {
  const { costs } = options;
  const next = mulberry32(options.seed);
  const exponential = (meanMs: number): number => -Math.log(1 - next()) * meanMs;
  const cores = Array.from({ length: options.engines }, () => new Cores(options.cores));
  const gpus = Array.from({ length: options.engines }, () => new Cores(1));
  const stageCost = [costs.sttMs, costs.llmMs, costs.ttsMs, costs.llmTailMs, costs.ttsTailMs];
  const device = (job: Pending): Cores => (options.gpu && LLM_STAGES.has(job.stage) ? gpus : cores)[job.conversation % options.engines]!;
  // Jobs are served in the order they become ready (an engine's queue is FIFO).
  const queue: Pending[] = [];
  const push = (job: Pending): void => {
    let at = queue.length;
    while (at > 0 && queue[at - 1]!.readyMs > job.readyMs) at--;
    queue.splice(at, 0, job);
  };
  for (let conversation = 0; conversation < options.conversations; conversation++) {
    // Users start at random moments, not all at once.
    const speechEndMs = next() * costs.userTurnMs * 2;
    push({ conversation, readyMs: speechEndMs + costs.endpointMs, stage: 0, speechEndMs });
  }
  const firstAudio: number[] = [];
  while (queue.length > 0) {
    const job = queue.shift()!;
    if (job.readyMs > options.durationMs) break;
    const endMs = device(job).run(job.readyMs, stageCost[job.stage]!);
    if (job.stage === FIRST_AUDIO_STAGE) {
      const firstAudioMs = endMs;
      firstAudio.push(firstAudioMs - job.speechEndMs);
      push({ ...job, readyMs: endMs, stage: job.stage + 1 });
      // The user answers after the reply was heard and a pause.
      const speechEndMs = firstAudioMs + costs.replyAudioMs + exponential(costs.userTurnMs);
      push({ conversation: job.conversation, readyMs: speechEndMs + costs.endpointMs, stage: 0, speechEndMs });
    } else if (job.stage < LAST_STAGE) {
      push({ ...job, readyMs: endMs, stage: job.stage + 1 });
    }
  }
  return firstAudio;
}
