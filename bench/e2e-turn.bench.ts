import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { TurnTrace } from '../app/shared/trace.contract';
import { quantile, round3, type Benchmark } from './bench-api';
import { startBrowserSession } from './browser-session';

/**
 * `e2e_turn`: a spoken question through the whole app — Chromium's fake microphone plays a WAV
 * (looped), the page's AudioWorklet sends 16 kHz frames over `serve`'s WebSocket, the engine
 * endpoints, transcribes, replies and speaks, and the page's TtsPlayer schedules the reply on its
 * AudioContext. `first_audio_ms` is measured entirely on the page's clock (performance.now):
 *
 * - end of speech: the page sees every mic frame it sends (a probe wraps WebSocket.send). The last
 *   sample above -40 dBFS before ≥ 0.5 s of quiet is where the WAV's speech ended as captured; its
 *   time is the frame's send time minus the samples after it (the worklet sends a frame as soon as
 *   it is full, so this is late by at most one 128-sample render quantum: it slightly flatters).
 * - first audible sample: a probe on AudioBufferSourceNode.start records the scheduled context time
 *   `when` with the context's getOutputTimestamp() (context time ↔ performance time at the output,
 *   output latency included); `when` maps onto performance time through it. Without a usable
 *   output timestamp it falls back to currentTime + outputLatency at the call.
 *
 * The stage breakdown comes from the engine's turn traces of the same turns (engine clock).
 * The first measured turn is a warm-up and is not counted.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const QUESTION = 'What is the weather like today?';
const LEAD_SILENCE_SEC = 0.5;
const LOUD = 0.01; // -40 dBFS: the WAV's padding is digital silence
const QUIET_GAP_MS = 500;

/** Installed before the app's scripts: records mic frames sent, engine messages received, and source starts. */
const PROBE = `(() => {
  window.__name = (fn) => fn;
  const probe = { mic: [], server: [], starts: [] };
  window.__turnProbe = probe;
  const decoder = new TextDecoder();
  const header = (buffer) => {
    const bytes = new Uint8Array(buffer);
    const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
    return { json: JSON.parse(decoder.decode(bytes.subarray(4, 4 + length))), offset: bytes.byteOffset + 4 + length, bytes };
  };
  const Base = window.WebSocket;
  class ProbeSocket extends Base {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        const t = performance.now();
        try {
          if (typeof event.data === 'string') {
            const message = JSON.parse(event.data);
            if (message.type === 'turn.trace') probe.server.push({ t, type: message.type, trace: message.trace });
            else if (['vad', 'turn.started', 'turn.ended', 'turn.stop'].includes(message.type)) probe.server.push({ t, type: message.type, event: message.event, turnId: message.turnId, status: message.status });
          } else {
            const { json } = header(event.data);
            if (json.type === 'tts.chunk') probe.server.push({ t, type: json.type, turnId: json.turnId, seq: json.seq });
          }
        } catch {}
      });
    }
    send(data) {
      if (typeof data !== 'string') {
        const t = performance.now();
        try {
          const { json, offset, bytes } = header(data.buffer ?? data);
          if (json.type === 'mic.audio') {
            const pcm = new Float32Array(bytes.buffer.slice(offset, bytes.byteOffset + bytes.byteLength));
            let lastLoud = -1;
            for (let i = pcm.length - 1; i >= 0; i--) if (Math.abs(pcm[i]) > ${LOUD}) { lastLoud = i; break; }
            probe.mic.push({ t, n: pcm.length, lastLoud });
          }
        } catch {}
      }
      return super.send(data);
    }
  }
  window.WebSocket = ProbeSocket;
  const start = AudioBufferSourceNode.prototype.start;
  AudioBufferSourceNode.prototype.start = function (when, ...rest) {
    const context = this.context;
    const stamp = context.getOutputTimestamp ? context.getOutputTimestamp() : {};
    probe.starts.push({ t: performance.now(), when: when ?? context.currentTime, currentTime: context.currentTime,
      outputLatency: Number.isFinite(context.outputLatency) ? context.outputLatency : 0, baseLatency: context.baseLatency || 0,
      contextTime: stamp.contextTime ?? 0, performanceTime: stamp.performanceTime ?? 0 });
    return start.call(this, when, ...rest);
  };
})();`;

interface MicRecord {
  t: number;
  n: number;
  lastLoud: number;
}
interface ServerRecord {
  t: number;
  type: string;
  event?: string;
  turnId?: string;
  seq?: number;
  status?: string;
  trace?: TurnTrace;
}
interface StartRecord {
  t: number;
  when: number;
  currentTime: number;
  outputLatency: number;
  baseLatency: number;
  contextTime: number;
  performanceTime: number;
}
interface Probe {
  mic: MicRecord[];
  server: ServerRecord[];
  starts: StartRecord[];
}

/** Page-clock times where the captured speech ended (last loud sample before a quiet gap). */
export function speechEnds(frames: readonly MicRecord[], sampleRateHz = 16000): number[] {
  const ends: number[] = [];
  let lastLoudMs: number | undefined;
  for (const frame of frames) {
    const frameMs = (frame.n * 1000) / sampleRateHz;
    if (frame.lastLoud >= 0) {
      lastLoudMs = frame.t - ((frame.n - 1 - frame.lastLoud) * 1000) / sampleRateHz;
    } else if (lastLoudMs !== undefined && frame.t - frameMs - lastLoudMs >= QUIET_GAP_MS) {
      ends.push(lastLoudMs);
      lastLoudMs = undefined;
    }
  }
  return ends;
}

/** Page-clock time at which a source started at context time `when` is heard. */
export function audibleAtMs(start: StartRecord): number {
  if (start.performanceTime > 0 && start.contextTime > 0) return start.performanceTime + (start.when - start.contextTime) * 1000;
  return start.t + (Math.max(start.when, start.currentTime) - start.currentTime + (start.outputLatency || start.baseLatency)) * 1000;
}

function makeQuestionWav(dir: string, trailingSilenceSec: number): { wav: string; speechSec: number } {
  const raw = join(dir, 'q-raw.wav');
  const wav = join(dir, 'q.wav');
  const say = spawnSync('npx', ['tsx', 'app/hosts/cli/cli.ts', 'say', '--text', QUESTION, '--out', raw], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  if (say.status !== 0 || !existsSync(raw)) throw new Error(`cli say failed (${say.status}): ${say.stderr}`);
  const sox = spawnSync('sox', [raw, '-r', '16000', '-c', '1', '-b', '16', wav, 'pad', String(LEAD_SILENCE_SEC), String(trailingSilenceSec)], { encoding: 'utf8' });
  if (sox.status !== 0) throw new Error(`sox failed (is sox installed?): ${sox.stderr}`);
  const length = spawnSync('soxi', ['-D', raw], { encoding: 'utf8' });
  return { wav, speechSec: Number(length.stdout.trim()) };
}

const STAGES: Array<{ metric: string; from: keyof TurnTrace; to: keyof TurnTrace }> = [
  { metric: 'endpoint_ms', from: 'speechEndMs', to: 'endpointMs' },
  { metric: 'stt_ms', from: 'endpointMs', to: 'sttFinalMs' },
  { metric: 'llm_first_token_ms', from: 'llmRequestMs', to: 'llmFirstTokenMs' },
  { metric: 'first_clause_ms', from: 'llmFirstTokenMs', to: 'firstChunkTextMs' },
  { metric: 'tts_first_audio_ms', from: 'firstChunkTextMs', to: 'ttsFirstAudioMs' },
  { metric: 'to_ears_ms', from: 'ttsFirstAudioMs', to: 'firstAudioAudibleMs' },
  { metric: 'trace_first_audio_ms', from: 'speechEndMs', to: 'firstAudioAudibleMs' },
];

/** Reads the probe once `wanted` turns have spoken and the last of them has ended (its trace follows at once). */
async function collect(page: Page, wanted: number, timeoutMs: number): Promise<Probe> {
  const deadline = Date.now() + timeoutMs;
  const read = (): Promise<Probe> => page.evaluate(() => (window as unknown as { __turnProbe: Probe }).__turnProbe);
  for (;;) {
    const { server } = await read();
    const spoken = server.filter((record) => record.type === 'tts.chunk' && record.seq === 0);
    const lastEnded = spoken.length >= wanted && server.some((record) => record.type === 'turn.ended' && record.turnId === spoken.at(-1)!.turnId);
    if (lastEnded || Date.now() > deadline) break;
    await page.waitForTimeout(1000);
  }
  await page.waitForTimeout(500);
  return read();
}

const benchmark: Benchmark = {
  name: 'e2e_turn',
  description: 'fake-mic WAV → serve → Chromium: first audible reply sample after the end of speech (p50, stages)',
  async run(options) {
    const runs = Number(options.runs ?? 5);
    const profile = options.profile ?? 'scripted';
    // Long enough for the whole reply to play before the looped question comes back (no barge-in).
    const trailingSilenceSec = Number(options['silence-sec'] ?? 11);
    const dir = mkdtempSync(join(tmpdir(), 'avatar-e2e-turn-'));
    try {
      const { wav, speechSec } = makeQuestionWav(dir, trailingSilenceSec);
      const session = await startBrowserSession(profile, [
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-audio-capture=${wav}`,
      ]);
      try {
        const page = await session.browser.newPage({ viewport: { width: 960, height: 600 } });
        await page.addInitScript({ content: PROBE });
        await page.goto(session.url.href);
        await page.waitForFunction(() => (window as unknown as { avatarDiagnostics?: { engineReady?: boolean } }).avatarDiagnostics?.engineReady === true, null, {
          timeout: 180_000,
        });
        // The microphone starts only now, with every worker warm.
        await page.locator('body').press('m');
        const loopSec = LEAD_SILENCE_SEC + speechSec + trailingSilenceSec;
        const probe = await collect(page, runs + 1, (runs + 2) * loopSec * 1000 * 2 + 60_000);

        const ends = speechEnds(probe.mic);
        const chunkZeros = probe.server.filter((record) => record.type === 'tts.chunk' && record.seq === 0);
        const firstAudio: number[] = [];
        const turnIds: string[] = [];
        for (const [index, endMs] of ends.entries()) {
          const nextEndMs = ends[index + 1] ?? Number.POSITIVE_INFINITY;
          const chunk = chunkZeros.find((record) => record.t > endMs && record.t < nextEndMs);
          if (!chunk) continue;
          const start = probe.starts.find((record) => record.t >= chunk.t);
          if (!start) continue;
          firstAudio.push(audibleAtMs(start) - endMs);
          turnIds.push(chunk.turnId!);
        }
        const measured = firstAudio.slice(1);
        const measuredTurns = new Set(turnIds.slice(1));
        const traces = new Map<string, TurnTrace>();
        for (const record of probe.server) if (record.type === 'turn.trace' && record.trace && measuredTurns.has(record.trace.turnId)) traces.set(record.trace.turnId, record.trace);

        const metrics: Record<string, number> = {
          first_audio_ms_p50: round3(quantile(measured, 0.5)),
          first_audio_ms_p95: round3(quantile(measured, 0.95)),
          first_audio_ms_max: round3(Math.max(...measured)),
        };
        for (const stage of STAGES) {
          const values = [...traces.values()].flatMap((trace) => {
            const from = trace[stage.from];
            const to = trace[stage.to];
            return typeof from === 'number' && typeof to === 'number' ? [to - from] : [];
          });
          if (values.length > 0) metrics[`${stage.metric}_p50`] = round3(quantile(values, 0.5));
        }
        const interrupted = probe.server.filter((record) => record.type === 'turn.ended' && record.status === 'interrupted').length;
        const usedOutputTimestamp = probe.starts.some((record) => record.performanceTime > 0 && record.contextTime > 0);
        return {
          models: { profile, note: profile === 'scripted' ? 'scripted placeholder engines (the project fixture profile): stage times are its configured delays' : profile },
          runs: measured.length,
          metrics,
          notes: [
            `question "${QUESTION}" (${speechSec.toFixed(2)} s speech, ${LEAD_SILENCE_SEC} s lead, ${trailingSilenceSec} s trailing silence), looped by Chromium's fake microphone`,
            `first_audio_ms: page clock, from the last captured sample above -40 dBFS to the reply's first sample at the output (${usedOutputTimestamp ? 'AudioContext.getOutputTimestamp' : 'currentTime + outputLatency'}); first turn is a warm-up`,
            'stage metrics are p50 over the same turns from the engine trace (engine clock); trace_first_audio_ms starts at the VAD-estimated speech end',
            `mic frames sent: ${probe.mic.length}; speech ends seen: ${ends.length}; turns with audio: ${firstAudio.length}; interrupted turns: ${interrupted}`,
          ],
        };
      } finally {
        await session.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default benchmark;
