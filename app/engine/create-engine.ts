import { randomUUID } from 'node:crypto';
import { availableParallelism, totalmem } from 'node:os';
import { AppError, ErrorCode } from '../shared/errors.contract';
import { REPLY_OF, type ClientMessage, type ServerMessage } from '../shared/messages.contract';
import type { WorkerKind } from '../shared/worker.contract';
import { planResources, type MachineResources, type ResourcePlan } from './pool/resource-plan';
import { WorkerPool, type PoolKindConfig } from './pool/worker-pool';
import type { Engine, EngineConnection, EngineHealth } from './engine-api';
import { DEFAULT_MAX_SESSIONS_PER_CONNECTION, loadSpecFor, type EngineConfig, type WorkerKindConfig } from './engine-config';
import { Session } from './conversation/session';
import { ConversationJournal, type Conversation } from './conversation/conversation-journal';
import {
  dispatch,
  MODEL_MESSAGE_TYPES,
  notServed,
  SETTINGS_MESSAGE_TYPES,
  VMC_MESSAGE_TYPES,
  type ConnectionPart,
  type HandlerTable,
  type SessionMessageType,
} from './dispatch';

export { defaultEngineConfig, type EngineConfig } from './engine-config';

/** Which sessions keep state inside a worker: the LLM's KV cache (exclusive), VAD streams (shared). */
const AFFINITY: Partial<Record<WorkerKind, PoolKindConfig['affinity']>> = { llm: 'exclusive', vad: 'shared' };

const STATUS_COALESCE_MS = 50;

/** The machine as the OS reports it; 30% of RAM stays for the OS, the renderer and the app itself. */
function detectMachine(): MachineResources {
  return { cpuCores: availableParallelism(), ramBytes: totalmem() * 0.7 };
}

/** Pool configuration from the engine config and the resource plan (counts and threads that fit). */
function planPool(config: EngineConfig): { kinds: Partial<Record<WorkerKind, PoolKindConfig>>; plan: ResourcePlan } {
  const entries = (Object.entries(config.workers) as Array<[WorkerKind, WorkerKindConfig | undefined]>).filter(
    (entry): entry is [WorkerKind, WorkerKindConfig] => entry[1] !== undefined && entry[1].count > 0,
  );
  const plan = planResources(
    { ...detectMachine(), ...config.machine },
    entries.map(([kind, worker]) => ({
      kind,
      modelName: worker.modelName,
      count: worker.count,
      ramBytes: worker.ramBytes ?? 0,
      ...(worker.vramBytes !== undefined ? { vramBytes: worker.vramBytes } : {}),
      ...(worker.threads !== undefined ? { threads: worker.threads } : {}),
      cpuBound: worker.cpuBound ?? kind !== 'vad',
    })),
  );
  const kinds: Partial<Record<WorkerKind, PoolKindConfig>> = {};
  for (const [kind, worker] of entries) {
    const kindPlan = plan.kinds[kind]!;
    const gpuLayers = kindPlan.onGpu || worker.vramBytes === undefined ? worker.gpuLayers : 0;
    kinds[kind] = {
      count: kindPlan.count,
      spec: loadSpecFor(kind, { ...worker, ...(gpuLayers !== undefined ? { gpuLayers } : {}) }, kindPlan.threads),
      ...(worker.host !== undefined ? { host: worker.host } : {}),
      ...(AFFINITY[kind] !== undefined ? { affinity: AFFINITY[kind] } : {}),
    };
  }
  return { kinds, plan };
}

/** The engine plus what tests and benches may inspect. */
export interface EngineInstance extends Engine {
  readonly pool: WorkerPool;
  /** How many workers of each kind were planned, with which threads, and what had to give. */
  readonly plan: ResourcePlan | undefined;
  /** A live session by id (tests read its history and traces). */
  session(sessionId: string): Session | undefined;
  /** The session handlers of one client, for a host that composes them with other groups. */
  connectSessions(send: (message: ServerMessage) => void): ConnectionPart<SessionMessageType>;
  /** One connection from parts and their joined table (refused while the engine shuts down). */
  connectParts(send: (message: ServerMessage) => void, handlers: HandlerTable, parts: Array<{ close(): void; readonly openSessions?: number }>): EngineConnection;
}

/** Ways the engine's composition adjusts it without wrapping its messages. */
export interface EngineHooks {
  /**
   * A session is opening: persona and voice it should use when the request brings none (the
   * settings), and a callback with its id once open.
   */
  openingSession?(request: { persona?: string | undefined; voice?: string | undefined }): { persona?: string; voice?: string; opened?(sessionId: string): void };
  /** A session closed: whatever the composition keeps per session lets go of it. */
  sessionClosed?(sessionId: string): void;
  /** Where conversations are kept (the data folder); absent: in memory only. */
  conversations?: ConversationJournal;
}

/**
 * Creates the engine: warm pool, sessions, turns. `start()` warms every worker; clients may connect
 * earlier and get `engine.status` updates until it is ready (their turns wait for a worker).
 */
export function createEngine(config: EngineConfig, hooks: EngineHooks = {}): EngineInstance {
  // A plan that does not fit (model_too_large) fails start(), not the host that creates the engine.
  let planned: ReturnType<typeof planPool> | undefined;
  let planError: AppError | undefined;
  try {
    planned = planPool(config);
    for (const warning of planned.plan.warnings) console.warn(`resource plan: ${warning}`);
  } catch (error) {
    planError = AppError.from(error);
  }
  const kinds = planned?.kinds ?? {};
  const pool = new WorkerPool({
    kinds,
    launcher: config.launcher,
    leaseTimeoutMs: config.leaseTimeoutMs,
    health: config.health,
    hostRestartDelayMs: config.hostRestartDelayMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
  });
  const sessions = new Map<string, Session>();
  const journal = hooks.conversations ?? ConversationJournal.inMemory();
  const connections = new Set<(message: ServerMessage) => void>();
  let stopping = false;

  let health: EngineHealth = { state: 'starting' };
  const engineStatus = (): ServerMessage => ({
    type: 'engine.status',
    ready: pool.ready,
    workers: pool.status(),
    ...(health.state === 'degraded' ? { degraded: { reason: health.reason } } : {}),
  });
  // Load progress can fire many times a second: coalesce status broadcasts.
  let statusTimer: NodeJS.Timeout | undefined;
  pool.onStatus(() => {
    statusTimer ??= setTimeout(() => {
      statusTimer = undefined;
      const status = engineStatus();
      for (const send of connections) send(status);
    }, STATUS_COALESCE_MS);
  });

  /** The session group of the dispatch table, for one client. */
  function connectSessions(send: (message: ServerMessage) => void): ConnectionPart<SessionMessageType> {
    const owned = new Set<string>();
    /** Sessions whose named conversation is still being read. */
    let opening = 0;
    let connected = true;
    connections.add(send);
    send(engineStatus());

    const sessionFor = (sessionId: string): Session | undefined => {
      const session = owned.has(sessionId) ? sessions.get(sessionId) : undefined;
      if (!session) {
        send({ type: 'error', code: ErrorCode.UnknownSession, message: `There is no open session "${sessionId}".`, recoverable: true, sessionId });
      }
      return session;
    };

    const closeSession = (sessionId: string): void => {
      const session = sessions.get(sessionId);
      if (!session) return;
      sessions.delete(sessionId);
      owned.delete(sessionId);
      hooks.sessionClosed?.(sessionId);
      void session.close();
    };
    const maxSessions = config.maxSessionsPerConnection ?? DEFAULT_MAX_SESSIONS_PER_CONNECTION;

    return {
      handlers: {
        'session.open': (message) => {
          if (owned.size + opening >= maxSessions) {
            const words = `This connection already has ${maxSessions} conversation(s) open, which is the limit: close one before opening another.`;
            send({ type: 'error', code: ErrorCode.SessionLimit, message: words, recoverable: true });
            return;
          }
          const sessionId = randomUUID();
          const defaults = hooks.openingSession?.(message) ?? {};
          const persona = message.persona ?? defaults.persona ?? config.defaultPersona;
          const open = (conversation: Conversation): void => {
            const session = new Session(sessionId, persona, message.voice ?? defaults.voice, pool, config, send, journal, conversation);
            sessions.set(sessionId, session);
            owned.add(sessionId);
            defaults.opened?.(sessionId);
            send({ type: REPLY_OF['session.open'], requestId: message.requestId, sessionId });
            session.announceConversation();
          };
          const named = message.conversation;
          if (named === undefined || named === 'last') return open(journal.claim());
          if (named === 'none') return open(journal.hold(journal.detached()));
          // A named conversation may have to be read from its journal first (another engine wrote it before a failover).
          opening++;
          void journal.claimById(named, (warning) => console.warn(warning)).then((conversation) => {
            opening--;
            if (!connected || stopping) journal.release(conversation);
            else open(conversation);
          });
        },
        'session.close': (message) => {
          if (owned.has(message.sessionId)) closeSession(message.sessionId);
        },
        'user.text': (message) => sessionFor(message.sessionId)?.userText(message.text),
        'mic.audio': (message) => sessionFor(message.sessionId)?.micAudio(message.pcm),
        'playback.progress': (message) =>
          sessionFor(message.sessionId)?.playbackProgress(message.turnId, message.seq, message.playedMs, message.started ?? false, message.ended ?? false),
        'turn.interrupt': (message) => sessionFor(message.sessionId)?.interrupt(),
        ping: (message) => send({ type: REPLY_OF.ping, nonce: message.nonce }),
        'conversation.new': (message) => sessionFor(message.sessionId)?.newConversation(),
        'conversation.export': (message) => sessionFor(message.sessionId)?.exportConversation(message.format),
        'vision.summary': (message) => sessionFor(message.sessionId)?.setVision(message.summary),
        'vision.arrival': (message) => sessionFor(message.sessionId)?.greetArrival(message.reason),
      },
      close(): void {
        connected = false;
        connections.delete(send);
        for (const sessionId of [...owned]) closeSession(sessionId);
      },
      get openSessions(): number {
        return owned.size;
      },
    };
  }

  /** A bare engine's connection: sessions only; model, settings and VMC messages are answered as not served. */
  function connect(send: (message: ServerMessage) => void): EngineConnection {
    const sessions = connectSessions(send);
    const handlers: HandlerTable = {
      ...sessions.handlers,
      ...notServed(MODEL_MESSAGE_TYPES, send, 'model manager'),
      ...notServed(SETTINGS_MESSAGE_TYPES, send, 'settings service'),
      ...notServed(VMC_MESSAGE_TYPES, send, 'VMC output'),
    };
    return connectParts(send, handlers, [sessions]);
  }

  /**
   * Joins connection parts into one table; refuses every message once the engine shuts down, and
   * turns (typed or spoken) while it is degraded — settings and models still answer, so the user
   * can fix what kept it from starting.
   */
  function connectParts(
    send: (message: ServerMessage) => void,
    handlers: HandlerTable,
    parts: Array<{ close(): void; readonly openSessions?: number }>,
  ): EngineConnection {
    let toldDegraded = false;
    return {
      handle(message: ClientMessage): void {
        if (stopping) {
          send({ type: 'error', code: ErrorCode.Cancelled, message: 'The engine is shutting down.', recoverable: false });
          return;
        }
        if (health.state === 'degraded' && (message.type === 'user.text' || message.type === 'mic.audio')) {
          // Mic frames arrive 50 times a second: the reason is said once per client, a typed turn each time.
          if (message.type === 'user.text' || !toldDegraded) {
            send({ type: 'error', code: ErrorCode.EngineDegraded, message: `The engine could not start: ${health.reason}`, recoverable: false, sessionId: message.sessionId });
          }
          toldDegraded = true;
          return;
        }
        dispatch(handlers, message);
      },
      close(): void {
        for (const part of parts) part.close();
      },
      get openSessions(): number {
        return parts.reduce((count, part) => count + (part.openSessions ?? 0), 0);
      },
    };
  }

  return {
    pool,
    plan: planned?.plan,
    session: (sessionId) => sessions.get(sessionId),
    connectSessions,
    connectParts,
    async start() {
      try {
        if (planError) throw planError;
        await pool.start();
        health = { state: 'ready' };
      } catch (error) {
        const appError = AppError.from(error);
        // Which kinds failed is read before the shutdown stops every worker.
        const failedKinds = [...new Set(pool.status().filter((worker) => worker.state === 'failed').map((worker) => worker.kind))];
        health = { state: 'degraded', reason: appError.message, failedKinds };
        await pool.shutdown();
        const status = engineStatus();
        for (const send of connections) send(status);
        throw appError;
      }
    },
    health: () => health,
    connect,
    async shutdown() {
      stopping = true;
      const closing = [...sessions.values()].map((session) => session.close());
      sessions.clear();
      connections.clear();
      await Promise.race([Promise.allSettled(closing), new Promise((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref())]);
      await pool.shutdown();
      clearTimeout(statusTimer);
    },
  };
}
