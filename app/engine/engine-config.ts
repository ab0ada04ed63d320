import type { TextEndCue } from './conversation/text-end-cue';
import type { LoadSpec, WorkerKind } from '../shared/worker.contract';
import { forkHostLauncher, type HostLauncher } from './pool/host-launcher';
import type { MachineResources } from './pool/resource-plan';
import type { PoolHealthConfig } from './pool/worker-pool';
import { defaultChunkerOptions, type ChunkerOptions } from './pipeline/clause-chunker';
import type { VadSettings } from '../shared/settings.contract';

/**
 * One worker kind: which engine implementation, which model, how many warm workers. A real engine
 * plugs in by config only: its worker entry is registered in app/native-workers/registry.ts, and
 * e.g. `workers.llm = { engine: 'llama', modelName, modelPath, count: 1, ramBytes, vramBytes, options }`.
 */
export interface WorkerKindConfig {
  /** Engine name registered in app/native-workers/registry.ts ("scripted", "llama", …). */
  engine: string;
  modelName: string;
  modelPath?: string;
  count: number;
  /** CPU threads per worker; planned from the machine when absent. */
  threads?: number;
  gpuLayers?: number;
  /** Engine-specific load options (LoadSpec.options). */
  options?: Record<string, unknown>;
  /** Runtime host process name; kinds with the same engine share one host by default. */
  host?: string;
  /** Resident memory one worker needs (model + runtime), for the resource plan. */
  ramBytes?: number;
  /** GPU memory one worker needs when offloaded, for the resource plan. */
  vramBytes?: number;
  /** False for runtimes that barely compute (VAD, scripted): outside the CPU core budget. */
  cpuBound?: boolean;
}

export interface PipelineConfig {
  maxTokens: number;
  temperature?: number;
  /** TTS requests of one turn running at once. */
  ttsConcurrency: number;
  chunker: ChunkerOptions;
  /** User speech shorter than this while the avatar speaks does not interrupt it (and is not a turn). */
  minBargeInSpeechMs: number;
  /** Utterances shorter than this are noise, not turns. */
  minUtteranceMs: number;
  /** Audio kept before the VAD's speech start, so the first syllable reaches STT. */
  utterancePrerollMs: number;
  /** Longest utterance kept for STT. */
  maxUtteranceMs: number;
  /** The LLM sees the system prompt plus at most this many recent messages (its context is finite). */
  maxHistoryMessages: number;
  /** Semantic end of turn with the `turn` worker; absent (or `mode: 'silence'`): the VAD's silence alone ends a turn. */
  turnDetection?: TurnDetectionConfig;
  /** Speech over the avatar: duck and decide (smart), or stop at once; absent: stop at once. */
  interruptions?: InterruptionConfig;
}

/** How speech over the avatar is handled (the settings' `vad.interruptions` picks the mode live). */
export interface InterruptionConfig {
  mode: 'smart' | 'always-stop';
  /** Speech over the avatar this long is an interruption whatever its words (backchannels are short). */
  decideWithinMs: number;
  /**
   * Smart mode: a frame clearly louder than the background lowers the avatar's voice as it arrives,
   * before silero confirms voice (withdrawn if it does not); false: only silero's onset ducks. Default true.
   */
  loudnessOnset?: boolean;
  /**
   * Smart mode: the words over the avatar are transcribed with backchannels as whisper's initial
   * prompt (`BACKCHANNEL_PROMPT`), so a hum comes out as "Mm-hmm." rather than a guess at words.
   * Default true.
   */
  primeBackchannels?: boolean;
  /** Smart mode: speech over the avatar that pauses is held open this long for more words (default 400 ms). */
  holdMs?: number;
}

/** How an utterance ends when an end-of-turn model is configured. */
export interface TurnDetectionConfig {
  /** `smart`: a pause is judged by the model; `silence`: the VAD's end silence alone (the user's fallback). */
  mode: 'smart' | 'silence';
  /** A probability at or above this ends the turn at once. */
  completeThreshold: number;
  /** A pause judged mid-thought still ends the turn after this much silence. */
  maxPauseMs: number;
  /** The VAD's end silence in smart mode: short, because the model decides (the settings' value wins). */
  vadSilenceMs: number;
  /**
   * A voice verdict at or above this ends the turn without waiting for the pause's words when they
   * are not in yet, provisionally: the turn starts once the words agree (they may reopen the pause)
   * and the VAD's silence has run out, and voice coming back first withdraws the end; undefined:
   * the words are always waited for.
   */
  voiceAloneThreshold?: number | undefined;
  /** …and only for speech voiced at least this long (a short one waits for its words: `shortTurnWords`). Default 0. */
  voiceAloneMinSpeechMs?: number | undefined;
  /**
   * An end decided before the VAD's silence ran out (`judgeAfterSilenceMs`) is judged again by the
   * voice once that silence has (the model then hears the trailing silence it was trained with)
   * before the turn starts; "incomplete" there reopens the pause. Costs one Smart Turn run (~40 ms).
   */
  secondLook?: boolean | undefined;
  /**
   * A turn of at most this many words that is judged finished still waits `shortTurnHoldMs` from the
   * speech end for the user to go on ("Let me think. … what should I cook?"); undefined or 0: no such wait.
   */
  shortTurnWords?: number | undefined;
  shortTurnHoldMs?: number | undefined;
  /**
   * A pause is judged (the model and its words) from this much unvoiced audio, before the VAD's
   * end silence has run out; a complete verdict ends the turn then, provisionally until that silence
   * has run out (voice coming back withdraws it). Undefined: judged at the VAD's speech end.
   */
  judgeAfterSilenceMs?: number | undefined;
}

/**
 * Partial transcripts while the user speaks: about every `everyMs` of new speech, when the
 * session's STT worker is free, the audio so far is transcribed and sent as `transcript {final:false}`.
 * Only for STT engines in `sttEngines`: ones that stop a decode at once when cancelled. whisper.cpp's
 * native call runs to its end, so an interim decode in flight at speech-end would delay the final one.
 */
export interface InterimTranscriptConfig {
  enabled: boolean;
  everyMs: number;
  sttEngines: readonly string[];
}

export interface EngineConfig {
  /** The end-of-turn model (`turn`) is optional: without it an utterance ends after the VAD's silence alone. */
  workers: Record<Exclude<WorkerKind, 'turn'>, WorkerKindConfig> & { turn?: WorkerKindConfig };
  /** Absent: final transcripts only. */
  interimTranscripts?: InterimTranscriptConfig;
  /** Cores, RAM and VRAM the workers may use; detected from the OS when absent. */
  machine?: Partial<MachineResources>;
  /** Starts runtime host processes; the Electron shell injects a utilityProcess launcher. */
  launcher: HostLauncher;
  pipeline: PipelineConfig;
  /** System prompt of sessions that open without a persona. */
  defaultPersona: string;
  leaseTimeoutMs: number;
  health: PoolHealthConfig;
  hostRestartDelayMs: number;
  shutdownTimeoutMs: number;
  /** Traces kept per session. */
  maxTracesPerSession: number;
  /** Sessions one connection may have open at once (DEFAULT_MAX_SESSIONS_PER_CONNECTION when absent). */
  maxSessionsPerConnection?: number;
  /** The VAD sensitivity settings now, read for every mic frame (they change while the engine runs). */
  vadSensitivity?: () => VadSettings;
  /** Measurements that are not messages (benches). */
  onDiagnostic?(event: EngineDiagnostic): void;
}

export type EngineDiagnostic =
  | { type: 'llm-tokens-after-abort'; sessionId: string; turnId: string; count: number }
  /** An interim STT run was still in flight when the utterance ended: it was cancelled so the final run starts at once. */
  | { type: 'interim-stt-cancelled'; sessionId: string; turnId: string | undefined }
  /** Speech over the avatar was a backchannel: the avatar went on at full volume. */
  | { type: 'backchannel'; sessionId: string; text: string }
  /** The end-of-turn model judged a pause: its verdict and how long the verdict took (lease, features, model). */
  | { type: 'end-of-turn'; sessionId: string; completeProbability: number; ms: number }
  /** A pause judged: the voice's verdict, what the words said ('no-words': no STT worker was free), and the time from the pause's VAD end to the verdict. */
  | { type: 'end-withdrawn'; sessionId: string; cause: 'voice' | 'words' | 'second-look' }
  | { type: 'pause-judged'; sessionId: string; complete: boolean; completeProbability: number; textCue: TextEndCue | 'no-words' | 'voice-alone' | 'short-turn' | `words-${TextEndCue | 'no-words' | 'short-turn'}`; ms: number }
  /**
   * The avatar's voice was lowered for speech over it: by a rise in loudness as the frame arrived
   * ('energy'), the VAD's onset detector ('voice') or its confirmed speech ('speech'); `frameEndStreamMs`
   * is the end of the frame that decided it, `vadMs` the time from that frame's arrival to its VAD verdict.
   */
  | { type: 'duck'; sessionId: string; cause: 'energy' | 'voice' | 'speech'; frameEndStreamMs?: number | undefined; vadMs?: number | undefined }
  /** A loudness onset silero did not confirm as voice in time: the duck was withdrawn. */
  | { type: 'duck-withdrawn'; sessionId: string; frameEndStreamMs: number };

/** A window needs one session (a pooled renderer closes its last before opening the next); a few more for tools and tests. */
export const DEFAULT_MAX_SESSIONS_PER_CONNECTION = 8;

/** The LoadSpec a worker of `kind` loads under `config`. */
export function loadSpecFor(kind: WorkerKind, config: WorkerKindConfig, threads: number): LoadSpec {
  return {
    kind,
    engine: config.engine,
    modelName: config.modelName,
    ...(config.modelPath !== undefined ? { modelPath: config.modelPath } : {}),
    threads,
    ...(config.gpuLayers !== undefined ? { gpuLayers: config.gpuLayers } : {}),
    options: config.options ?? {},
  };
}

/** Scripted placeholder delays that feel like a small local model on a CPU. */
export const scriptedRealisticOptions = {
  vad: { loadMs: 50 },
  stt: { loadMs: 200, sttMs: 120 },
  llm: { loadMs: 400, firstTokenMs: 150, tokenMs: 40 },
  tts: { loadMs: 200, ttsFirstChunkMs: 50, ttsMsPerChar: 1.5 },
  turn: { loadMs: 50, turnMs: 20 },
} as const;

/** Every kind on the scripted engine: runs anywhere, no models needed. */
export function defaultEngineConfig(overrides: Partial<EngineConfig> = {}): EngineConfig {
  const scripted = (kind: WorkerKind, count: number): WorkerKindConfig => ({
    engine: 'scripted',
    modelName: `scripted-${kind}`,
    count,
    options: { ...scriptedRealisticOptions[kind] },
    ramBytes: 50e6,
    cpuBound: false,
  });
  return {
    workers: { vad: scripted('vad', 1), stt: scripted('stt', 1), llm: scripted('llm', 2), tts: scripted('tts', 2) },
    launcher: forkHostLauncher,
    pipeline: {
      maxTokens: 256,
      ttsConcurrency: 2,
      chunker: defaultChunkerOptions,
      minBargeInSpeechMs: 200,
      minUtteranceMs: 250,
      utterancePrerollMs: 300,
      maxUtteranceMs: 30_000,
      maxHistoryMessages: 40,
      interruptions: { mode: 'smart', decideWithinMs: 1000 },
    },
    defaultPersona: 'You are a friendly avatar who talks with the user. Answer briefly, in plain spoken sentences.',
    leaseTimeoutMs: 15_000,
    health: { pingIntervalMs: 1000, pingDeadlineMs: 3000, memoryCeilingBytes: 2e9 },
    hostRestartDelayMs: 200,
    shutdownTimeoutMs: 5000,
    maxTracesPerSession: 50,
    interimTranscripts: { enabled: true, everyMs: 1000, sttEngines: ['scripted'] },
    ...overrides,
  };
}
