import { loadavg } from 'node:os';
import type { Benchmark } from './bench-api';
import { quantile, round3 } from './bench-api';
import { simulateFirstAudio, type SimCosts } from './scaleout-sim';
import { newConversationId } from '../app/engine/conversation/conversation-journal';
import { ConversationClient, ENGINE_COUNT, ScaleoutCluster, scaleoutMissingReason } from '../tests/support/scaleout-cluster';

/**
 * `npm run bench -- scaleout [--rounds 8] [--conversations 6] [--per-engine-max 8] [--cores 1] [--gpu] [--simulate-only]
 * [--stt-ms 306 --llm-ms 509 --tts-ms 258 --llm-tail-ms 1000 --tts-tail-ms 1000 --endpoint-ms 236]`:
 *
 * 1. Real parts (root; skipped with the reason elsewhere): three `serve` engines (scripted
 *    runtimes) in network namespaces behind HAProxy (deploy/haproxy.cfg), one shared data folder.
 *    Each round every conversation says something, one engine is SIGKILLed, its conversations
 *    reconnect (as the page does) and speak again on another engine, then the engine comes back.
 *    failover_ms: last reply before the kill (its end) → first reply after it, on another engine
 *    (its first audio chunk), the next question asked as soon as the page is connected again.
 *    affinity_hit_ratio: reconnects of conversations whose engine lives that reach that engine.
 * 2. Simulation: N conversations on K engines with per-stage costs measured by `e2e_cpu` on this
 *    2-core machine (README, quiet run: STT 306, first token 323 + first clause 186, Piper first
 *    chunk 258, endpoint 236 ms); first-audio p95 against conversations per engine, and the knee
 *    (conversations per engine at which p95 doubles from one conversation per engine).
 */

const number = (options: Record<string, string>, name: string, fallback: number): number => {
  const value = Number(options[name]);
  return options[name] !== undefined && Number.isFinite(value) && value >= 0 ? value : fallback;
};

interface Failover {
  failoverMs: number[];
  /** Kill → the session open on another engine (the balancer and the reconnect, without the reply). */
  reconnectMs: number[];
  /** Kill → first audio on another engine, for every conversation of the killed engine (they queue on their new engine). */
  killToAudioMs: number[];
  hits: number;
  reconnects: number;
}

async function measureFailover(rounds: number, conversations: number): Promise<Failover> {
  const cluster = new ScaleoutCluster();
  const clients: ConversationClient[] = [];
  const result: Failover = { failoverMs: [], reconnectMs: [], killToAudioMs: [], hits: 0, reconnects: 0 };
  try {
    await cluster.start();
    for (let i = 0; i < conversations; i++) clients.push(new ConversationClient(cluster, newConversationId()));
    for (const client of clients) await client.open();
    const home = new Map(clients.map((client) => [client, client.engine]));
    for (let round = 0; round < rounds; round++) {
      // Every conversation speaks (interleaved: the engines are busy with turns of several conversations).
      await Promise.all(clients.map((client) => client.say(`Round ${round}, before.`)));
      const victim = `engine${(round % ENGINE_COUNT) + 1}`;
      const orphans = clients.filter((client) => client.engine === victim);
      if (orphans.length === 0) throw new Error(`no conversation on ${victim}`);
      // One of its conversations speaks last; the engine dies right after that reply ended.
      await orphans[0]!.say(`Round ${round}, last words.`);
      const lastReplyMs = performance.now();
      const dropped = orphans.map((client) => client.closed());
      await cluster.kill(victim);
      await Promise.all(dropped);
      await Promise.all(
        orphans.map(async (client) => {
          await client.reopen();
          result.reconnectMs.push(performance.now() - lastReplyMs);
          // The next question comes as soon as the page is connected again.
          const { end, firstAudioAtMs } = await client.sayTimed(`Round ${round}, after.`);
          if (end.status !== 'complete' || client.engine === victim) throw new Error(`${client.conversationId} did not continue on another engine`);
          if (client === orphans[0]) result.failoverMs.push(firstAudioAtMs - lastReplyMs);
          result.killToAudioMs.push(firstAudioAtMs - lastReplyMs);
          home.set(client, client.engine);
        }),
      );
      // Everyone else reconnects (a reload): affinity says the same engine.
      for (const client of clients.filter((c) => !orphans.includes(c))) {
        await client.reopen();
        result.reconnects++;
        if (client.engine === home.get(client)) result.hits++;
      }
      await cluster.restart(victim);
    }
  } finally {
    for (const client of clients) client.close();
    await cluster.close();
  }
  return result;
}

const benchmark: Benchmark = {
  name: 'scaleout',
  description: 'Engines behind HAProxy in network namespaces: failover time and affinity; simulated first-audio p95 vs conversations per engine.',
  async run(options) {
    const costs: SimCosts = {
      endpointMs: number(options, 'endpoint-ms', 236),
      sttMs: number(options, 'stt-ms', 306),
      llmMs: number(options, 'llm-ms', 323 + 186),
      ttsMs: number(options, 'tts-ms', 258),
      // Derived, not measured: ~34 more tokens at the first clause's pace (186 ms for ~6), four more Piper clauses of ~258 ms.
      llmTailMs: number(options, 'llm-tail-ms', 1000),
      ttsTailMs: number(options, 'tts-tail-ms', 1000),
      replyAudioMs: number(options, 'reply-audio-ms', 5000),
      userTurnMs: number(options, 'user-turn-ms', 5000),
    };
    const cores = number(options, 'cores', 1);
    const gpu = options.gpu === 'true';
    const perEngineMax = number(options, 'per-engine-max', 8);
    const metrics: Record<string, number> = {};
    const notes: string[] = [];

    const missing = options['simulate-only'] === 'true' ? 'not asked for (--simulate-only)' : scaleoutMissingReason();
    let runs = 0;
    if (missing === null) {
      const failover = await measureFailover(number(options, 'rounds', 8), number(options, 'conversations', 6));
      runs = failover.failoverMs.length;
      metrics.failover_ms_p50 = round3(quantile(failover.failoverMs, 0.5));
      metrics.failover_ms_p95 = round3(quantile(failover.failoverMs, 0.95));
      metrics.failover_ms_max = round3(Math.max(...failover.failoverMs));
      metrics.failover_reconnect_ms_p95 = round3(quantile(failover.reconnectMs, 0.95));
      metrics.failover_all_moved_ms_p95 = round3(quantile(failover.killToAudioMs, 0.95));
      metrics.affinity_hit_ratio = round3(failover.hits / failover.reconnects);
      notes.push(
        `failover: ${runs} kills; failover_ms is the conversation whose reply ended right before the kill; failover_all_moved_ms counts every conversation of the killed engine (${failover.killToAudioMs.length}), which queue behind each other on the engine they move to; scripted runtimes: the time is the balancer, the reconnect, the session and a scripted turn, not the models`,
        `affinity: ${failover.hits}/${failover.reconnects} reconnects of conversations whose engine lived reached it`,
      );
    } else {
      notes.push(`failover and affinity not measured: ${missing}`);
    }

    // Simulation: conversations per engine from 1 to perEngineMax on ENGINE_COUNT engines.
    const p95Curve = (simCosts: SimCosts): number[] =>
      Array.from({ length: perEngineMax }, (_, i) =>
        quantile(simulateFirstAudio({ engines: ENGINE_COUNT, conversations: (i + 1) * ENGINE_COUNT, cores, gpu, costs: simCosts, durationMs: 3_600_000, seed: 7 }), 0.95),
      );
    // The first load at which p95 is twice that of one conversation per engine (perEngineMax + 1: not within the range).
    const knee = (curve: number[]): number => {
      const at = curve.findIndex((p95) => p95 >= 2 * curve[0]!);
      return at === -1 ? perEngineMax + 1 : at + 1;
    };
    const p95ByLoad = p95Curve(costs);
    p95ByLoad.forEach((p95, i) => (metrics[`sim_first_audio_ms_p95_${i + 1}_per_engine`] = round3(p95)));
    const doubled = knee(p95ByLoad) > perEngineMax ? -1 : knee(p95ByLoad) - 1;
    metrics.sim_knee_conversations_per_engine = knee(p95ByLoad);
    // The bound when the rest of a reply cost nothing (only the measured stages up to first audio).
    metrics.sim_knee_first_audio_stages_only_conversations_per_engine = knee(p95Curve({ ...costs, llmTailMs: 0, ttsTailMs: 0 }));
    notes.push(
      `simulation: ${ENGINE_COUNT} engines × ${cores} model core(s)${gpu ? ' + 1 GPU for the LLM' : ''}, stage costs (ms) endpoint ${costs.endpointMs}, STT ${costs.sttMs}, LLM to first clause ${costs.llmMs}, TTS first chunk ${costs.ttsMs}, rest of the reply LLM ${costs.llmTailMs} + TTS ${costs.ttsTailMs} (derived from the first clause's pace and Piper's chunk cost, not measured), reply audio ${costs.replyAudioMs}, user pause + speech ${costs.userTurnMs} (exponential mean); one simulated hour per point`,
      doubled === -1 ? `first-audio p95 did not double up to ${perEngineMax} conversations per engine` : `first-audio p95 doubles at ${doubled + 1} conversations per engine`,
      `1-minute load average at the end: ${loadavg()[0]!.toFixed(1)} (the failover times depend on it; the simulation does not)`,
    );
    return { models: { runtimes: 'scripted (failover); stage costs from e2e_cpu (simulation)' }, runs, metrics, notes };
  },
};

export default benchmark;
