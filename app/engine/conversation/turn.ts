import type { ConversationEntry } from '../../shared/conversation.contract';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { ServerMessage, StopReason, TurnStatus } from '../../shared/messages.contract';
import type { TurnSource, TurnTrace } from '../../shared/trace.contract';
import type { ChatMessage } from '../../shared/worker.contract';
import { chunkerStage } from '../pipeline/chunker.stage';
import { llmStage } from '../pipeline/llm.stage';
import { ttsStage } from '../pipeline/tts.stage';
import { once } from '../pipeline/stage';
import type { WorkerPool } from '../pool/worker-pool';
import type { EngineConfig } from '../engine-config';
import { heardText, type ChunkPlayback, type SentChunk } from './heard-text';
import { llmWindow } from './llm-window';
import { withVisionNote } from './vision-note';

/** What a turn needs from its session. */
export interface TurnContext {
  sessionId: string;
  pool: WorkerPool;
  config: EngineConfig;
  voice: string | undefined;
  send(message: ServerMessage): void;
  /** The conversation so far (system prompt first); the turn appends the reply it ends with. */
  history: ChatMessage[];
  /** What goes into history is also kept (journaled): the user's words, the reply as heard. */
  record(entry: ConversationEntry): void;
  /** The reply is in history: the trace is kept by the session. */
  onTraceUpdate(trace: TurnTrace): void;
  /** Whether the client reports playback at all (CLI and bench clients do not). */
  reportsPlayback(): boolean;
  /** This turn's line of what the camera sees; null with the camera off. */
  visionNote(): string | null;
}

async function* tap<T>(source: AsyncIterable<T>, each: (value: T) => void): AsyncIterable<T> {
  for await (const value of source) {
    each(value);
    yield value;
  }
}

/**
 * One user utterance and the reply to it: llm → chunker → tts, streamed to the renderer with a
 * trace. Aborting (barge-in, user stop, failure) stops generation and drops queued speech; history
 * keeps only the part of the reply that was heard.
 */
export class Turn {
  readonly trace: TurnTrace;
  status: TurnStatus | undefined;
  replyText = '';
  private readonly controller = new AbortController();
  private readonly sent: SentChunk[] = [];
  private readonly playback = new Map<number, ChunkPlayback>();
  private stopReason: StopReason | undefined;
  private historyIndex = -1;
  /** When the reply went into history (wall clock, for the journal). */
  private replyAtMs = 0;
  private llmSettled: Promise<void> = Promise.resolve();
  private audioEndsAtMs = 0;

  constructor(
    readonly id: string,
    readonly source: TurnSource,
    private readonly context: TurnContext,
    timestamps: Partial<TurnTrace> = {},
  ) {
    this.trace = { sessionId: context.sessionId, turnId: id, source, ...timestamps };
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get active(): boolean {
    return this.status === undefined;
  }

  /** Sends turn.started; voice turns call it before STT so the UI shows the turn at once. */
  announce(userText?: string): void {
    this.context.send({
      type: 'turn.started',
      sessionId: this.context.sessionId,
      turnId: this.id,
      source: this.source,
      ...(userText !== undefined ? { userText } : {}),
    });
  }

  /**
   * Generates and speaks the reply to `userText`. Resolves when the turn has ended (never rejects).
   * `record: false`: the words are a cue from the app (a camera greeting), not the user's: the
   * conversation file does not keep them.
   */
  async reply(userText: string, options: { record?: boolean } = {}): Promise<void> {
    const { sessionId, config, pool, send } = this.context;
    const signal = this.controller.signal;
    this.context.history.push({ role: 'user', content: userText });
    if (options.record !== false) this.context.record({ type: 'user', turnId: this.id, text: userText, atMs: Date.now(), source: this.source });
    try {
      signal.throwIfAborted();
      this.trace.llmRequestMs = performance.now();
      let llmDone!: () => void;
      this.llmSettled = new Promise((resolve) => (llmDone = resolve));
      const deltas = llmStage({
        pool,
        sessionId,
        maxTokens: config.pipeline.maxTokens,
        ...(config.pipeline.temperature !== undefined ? { temperature: config.pipeline.temperature } : {}),
        onSettled: (tokensAfterAbort) => {
          llmDone();
          if (signal.aborted) config.onDiagnostic?.({ type: 'llm-tokens-after-abort', sessionId, turnId: this.id, count: tokensAfterAbort });
        },
      })(once(withVisionNote(llmWindow(this.context.history, config.pipeline.maxHistoryMessages), this.context.visionNote())), signal);
      const replyDeltas = tap(deltas, (text) => {
        this.trace.llmFirstTokenMs ??= performance.now();
        this.replyText += text;
        send({ type: 'reply.delta', sessionId, turnId: this.id, text });
      });
      const clauses = tap(chunkerStage(config.pipeline.chunker)(replyDeltas, signal), () => {
        this.trace.firstChunkTextMs ??= performance.now();
      });
      const speech = ttsStage({ pool, sessionId, voice: this.context.voice, concurrency: config.pipeline.ttsConcurrency })(clauses, signal);
      for await (const chunk of speech) {
        // Control overtakes data: nothing more is sent once the turn stopped.
        if (signal.aborted) break;
        const nowMs = performance.now();
        this.trace.ttsFirstAudioMs ??= nowMs;
        this.trace.playbackScheduledMs ??= nowMs;
        this.audioEndsAtMs = Math.max(this.audioEndsAtMs, nowMs) + chunk.durationMs;
        this.sent.push({ seq: chunk.seq, text: chunk.text, durationMs: chunk.durationMs });
        send({
          type: 'tts.chunk',
          sessionId,
          turnId: this.id,
          seq: chunk.seq,
          text: chunk.text,
          sampleRateHz: chunk.sampleRateHz,
          phonemes: chunk.phonemes,
          pcm: chunk.pcm,
        });
      }
      signal.throwIfAborted();
      this.finish('complete', this.replyText);
    } catch (error) {
      this.fail(AppError.from(error));
    }
  }

  /** The speech had no words: the turn ends quietly (no error, no reply, nothing in history). */
  dismiss(): void {
    if (this.active) this.finish('empty', '');
  }

  /** Ends the turn with a failure the user sees (e.g. STT failed); a stopped turn just ends interrupted. */
  fail(error: AppError): void {
    if (!this.active) return;
    if (this.stopReason !== undefined && this.stopReason !== 'error') {
      this.finish('interrupted', this.heard());
      return;
    }
    const { sessionId, send } = this.context;
    send({ type: 'error', code: error.code, message: error.message, recoverable: error.recoverable, sessionId, turnId: this.id });
    this.stop('error');
    this.finish('failed', this.heard());
  }

  /** Stops the turn now: the renderer fades out, generation stops, queued speech is dropped. */
  stop(reason: StopReason): void {
    if (this.stopReason !== undefined) return;
    if (!this.active && !this.audioPlayingAt(performance.now())) return;
    this.stopReason = reason;
    const nowMs = performance.now();
    if (reason === 'barge-in') this.trace.bargeInMs = nowMs;
    this.controller.abort(new AppError(ErrorCode.Cancelled, `The turn was stopped (${reason}).`, true));
    if (this.sent.length > 0) {
      this.trace.audioStoppedMs = nowMs;
      this.context.send({ type: 'turn.stop', sessionId: this.context.sessionId, turnId: this.id, reason });
    }
    // Stopped during playback after generation ended: history keeps only what was heard.
    if (!this.active && this.historyIndex >= 0) {
      const message = this.context.history[this.historyIndex];
      if (message) {
        message.content = this.heard();
        this.context.record({ type: 'avatar', turnId: this.id, text: message.content, atMs: this.replyAtMs, status: 'interrupted' });
      }
      this.context.onTraceUpdate(this.trace);
    }
  }

  /** The renderer's playback report for one of this turn's chunks. */
  onPlayback(seq: number, playedMs: number, started: boolean, ended: boolean): void {
    const nowMs = performance.now();
    if (this.stopReason !== undefined && this.stopReason !== 'error' && !this.active) return;
    this.playback.set(seq, { playedMs, ended, reportedAtMs: nowMs });
    if (started && seq === 0 && this.trace.firstAudioAudibleMs === undefined) {
      this.trace.firstAudioAudibleMs = nowMs;
      if (!this.active) this.context.onTraceUpdate(this.trace);
    }
  }

  /** True while the reply is being generated or its audio is (probably) still playing. */
  audioPlayingAt(nowMs: number): boolean {
    if (this.active) return true;
    if (this.sent.length === 0 || this.stopReason !== undefined || !this.context.reportsPlayback()) return false;
    const last = this.sent[this.sent.length - 1]!;
    if (this.playback.get(last.seq)?.ended) return false;
    const audibleMs = this.trace.firstAudioAudibleMs;
    const expectedEndMs = audibleMs !== undefined ? audibleMs + this.sent.reduce((sum, chunk) => sum + chunk.durationMs, 0) : this.audioEndsAtMs;
    // Slack for the renderer's scheduling and reporting delays.
    return nowMs < expectedEndMs + 500;
  }

  /** Resolves when the LLM worker has stopped generating for this turn (its lease returned). */
  settled(): Promise<void> {
    return this.llmSettled;
  }

  private heard(): string {
    // A client that never reports playback is assumed to have heard what it was sent.
    if (!this.context.reportsPlayback()) return this.sent.map((chunk) => chunk.text).join(' ');
    return heardText(this.sent, this.playback, this.trace.bargeInMs ?? performance.now());
  }

  private finish(status: TurnStatus, assistantText: string): void {
    if (!this.active) return;
    this.status = status;
    const { sessionId, send, history } = this.context;
    if (assistantText) {
      history.push({ role: 'assistant', content: assistantText });
      this.historyIndex = history.length - 1;
      this.replyAtMs = Date.now();
      this.context.record({ type: 'avatar', turnId: this.id, text: assistantText, atMs: this.replyAtMs, status: status === 'complete' ? 'complete' : 'interrupted' });
    }
    this.trace.turnEndMs = performance.now();
    send({
      type: 'turn.ended',
      sessionId,
      turnId: this.id,
      status,
      replyText: this.replyText,
      heardText: status === 'complete' ? this.replyText : assistantText,
      chunkCount: this.sent.length,
    });
    this.context.onTraceUpdate(this.trace);
  }
}
