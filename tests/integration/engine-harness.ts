import type { ClientMessage, ServerMessage } from '../../app/shared/messages.contract';
import type { WorkerKind } from '../../app/shared/worker.contract';
import { createEngine, type EngineInstance } from '../../app/engine/create-engine';
import type { Engine } from '../../app/engine/engine-api';
import { defaultEngineConfig, type EngineConfig, type WorkerKindConfig } from '../../app/engine/engine-config';

/** Test harness: a real engine (real host process, real worker threads) on the scripted engine. */

export type KindOptions = Partial<Record<WorkerKind, { count?: number; options?: Record<string, unknown>; host?: string }>>;

/** An engine config with fast scripted workers; `kinds` overrides counts and scripted options. */
export function scriptedConfig(kinds: KindOptions = {}, overrides: Partial<EngineConfig> = {}): EngineConfig {
  const base = defaultEngineConfig();
  const worker = (kind: WorkerKind): WorkerKindConfig => ({
    engine: 'scripted',
    modelName: `scripted-${kind}`,
    count: kinds[kind]?.count ?? 1,
    options: kinds[kind]?.options ?? {},
    cpuBound: false,
    ...(kinds[kind]?.host !== undefined ? { host: kinds[kind].host } : {}),
  });
  return {
    ...base,
    workers: { vad: worker('vad'), stt: worker('stt'), llm: worker('llm'), tts: worker('tts') },
    // Speech over the avatar stops it at once here; engine-backchannel.test.ts covers the smart mode.
    pipeline: { ...base.pipeline, minBargeInSpeechMs: 100, minUtteranceMs: 100, interruptions: { mode: 'always-stop', decideWithinMs: 1000 } },
    ...overrides,
  };
}

export async function startEngine(config: EngineConfig): Promise<EngineInstance> {
  const engine = createEngine(config);
  await engine.start();
  return engine;
}

/** One connected client that records every message the engine sends it. */
export class TestClient {
  readonly messages: ServerMessage[] = [];
  private readonly watchers: Array<() => void> = [];
  private nextRequest = 1;
  readonly connection;

  constructor(engine: Pick<Engine, 'connect'>) {
    this.connection = engine.connect((message) => {
      this.messages.push(message);
      for (const watcher of [...this.watchers]) watcher();
    });
  }

  send(message: ClientMessage): void {
    this.connection.handle(message);
  }

  /** Resolves with the first recorded message (from `fromIndex`) matching `predicate`. */
  waitFor<T extends ServerMessage>(predicate: (message: ServerMessage) => message is T, timeoutMs?: number, fromIndex?: number): Promise<T>;
  waitFor(predicate: (message: ServerMessage) => boolean, timeoutMs?: number, fromIndex?: number): Promise<ServerMessage>;
  waitFor(predicate: (message: ServerMessage) => boolean, timeoutMs = 20_000, fromIndex = 0): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.messages.slice(fromIndex).find(predicate);
        if (found) resolve(found);
        return found !== undefined;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.watchers.splice(this.watchers.indexOf(watcher), 1);
        reject(new Error(`timed out; last messages: ${JSON.stringify(this.messages.slice(-5).map((m) => m.type))}`));
      }, timeoutMs);
      const watcher = (): void => {
        if (check()) {
          clearTimeout(timer);
          this.watchers.splice(this.watchers.indexOf(watcher), 1);
        }
      };
      this.watchers.push(watcher);
    });
  }

  async openSession(persona?: string): Promise<string> {
    const requestId = `r${this.nextRequest++}`;
    this.send({ type: 'session.open', requestId, ...(persona ? { persona } : {}) });
    const opened = await this.waitFor((m) => m.type === 'session.opened' && m.requestId === requestId);
    return (opened as Extract<ServerMessage, { type: 'session.opened' }>).sessionId;
  }

  /** Waits for the turn.ended of the next turn started after `fromIndex`. */
  async turnEnded(sessionId: string, fromIndex = 0, timeoutMs?: number): Promise<Extract<ServerMessage, { type: 'turn.ended' }>> {
    const ended = await this.waitFor((m) => m.type === 'turn.ended' && m.sessionId === sessionId, timeoutMs, fromIndex);
    return ended as Extract<ServerMessage, { type: 'turn.ended' }>;
  }

  ofTurn<K extends ServerMessage['type']>(type: K, turnId: string): Array<Extract<ServerMessage, { type: K }>> {
    return this.messages.filter((m) => m.type === type && (m as { turnId?: string }).turnId === turnId) as Array<Extract<ServerMessage, { type: K }>>;
  }
}

const MIC_FRAME_SAMPLES = 320; // 20 ms at 16 kHz

/** Mic frames of a loud tone (`speech`) or silence, `durationMs` long, as the renderer sends them. */
export function micFrames(kind: 'speech' | 'silence', durationMs: number): Float32Array<ArrayBuffer>[] {
  const frames: Float32Array<ArrayBuffer>[] = [];
  const count = Math.round((durationMs * 16) / MIC_FRAME_SAMPLES);
  for (let f = 0; f < count; f++) {
    const pcm = new Float32Array(MIC_FRAME_SAMPLES);
    if (kind === 'speech') for (let i = 0; i < pcm.length; i++) pcm[i] = 0.3 * Math.sin((2 * Math.PI * 220 * (f * MIC_FRAME_SAMPLES + i)) / 16000);
    frames.push(pcm);
  }
  return frames;
}

/** Sends mic frames for a session, numbering them from `seq`; returns the next seq. */
export function sendMic(client: TestClient, sessionId: string, frames: Float32Array<ArrayBuffer>[], seq: number): number {
  for (const pcm of frames) client.send({ type: 'mic.audio', sessionId, seq: seq++, sampleRateHz: 16000, pcm });
  return seq;
}
