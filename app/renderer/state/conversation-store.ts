import type { ConversationEntry } from '../../shared/conversation.contract';
import type { ServerMessage, WorkerStatus } from '../../shared/messages.contract';
import type { TurnTrace } from '../../shared/trace.contract';

/** One line of the transcript. */
export interface TranscriptEntry {
  id: string;
  role: 'user' | 'avatar';
  text: string;
  turnId?: string;
  /** Still streaming (reply deltas or partial speech). */
  pending: boolean;
  /** The reply was cut off (barge-in, stop, failure). */
  interrupted?: boolean;
}

export interface ErrorNotice {
  id: number;
  code: string;
  message: string;
  recoverable: boolean;
}

export interface ConversationState {
  sessionId: string | null;
  /** The session's conversation, and whether the engine keeps it in the data folder; null until the engine says. */
  conversation: { id: string; kept: boolean } | null;
  entries: readonly TranscriptEntry[];
  errors: readonly ErrorNotice[];
  lastTrace: TurnTrace | null;
  /** The last few turns' traces, oldest first (the latency overlay's breakdown). */
  recentTraces: readonly TurnTrace[];
  /** The turn in progress (from turn.started to turn.ended / turn.stop). */
  activeTurnId: string | null;
  /** The user is speaking (VAD). */
  listening: boolean;
  engineReady: boolean;
  workers: readonly WorkerStatus[];
  /** Why the engine could not start, in words; null while it starts or runs. */
  engineDegraded: string | null;
}

const INITIAL: ConversationState = {
  sessionId: null,
  conversation: null,
  entries: [],
  errors: [],
  lastTrace: null,
  recentTraces: [],
  activeTurnId: null,
  listening: false,
  engineReady: false,
  workers: [],
  engineDegraded: null,
};

const MAX_ERRORS = 5;
const MAX_RECENT_TRACES = 5;

/** A turn's trace arrives several times as it fills in: it replaces its earlier copy in place. */
function withTrace(traces: readonly TurnTrace[], trace: TurnTrace): TurnTrace[] {
  const index = traces.findIndex((kept) => kept.turnId === trace.turnId);
  if (index >= 0) return traces.map((kept, i) => (i === index ? trace : kept));
  return [...traces, trace].slice(-MAX_RECENT_TRACES);
}

/**
 * What the conversation looks like, built from engine messages. Immutable snapshots for React
 * (useSyncExternalStore); per-frame data never goes through here.
 */
export class ConversationStore {
  private state: ConversationState = INITIAL;
  private readonly listeners = new Set<() => void>();
  private nextId = 1;
  private pendingOpenRequestId: string | null = null;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): ConversationState => this.state;

  /** A session was requested; the reply with this request id carries the session id. */
  expectSession(requestId: string): void {
    this.pendingOpenRequestId = requestId;
    this.update({ sessionId: null, activeTurnId: null });
  }

  /** The user's typed text, shown at once (the engine's turn.started for text does not repeat it). */
  addUserText(text: string): void {
    this.update({ entries: [...this.state.entries, { id: this.id(), role: 'user', text, pending: false }] });
  }

  /** An error raised in the renderer itself (transport, audio). */
  addError(code: string, message: string, recoverable = true): void {
    const errors = [...this.state.errors, { id: this.nextId++, code, message, recoverable }].slice(-MAX_ERRORS);
    this.update({ errors });
  }

  dismissError(id: number): void {
    this.update({ errors: this.state.errors.filter((error) => error.id !== id) });
  }

  handle(message: ServerMessage): void {
    switch (message.type) {
      case 'session.opened':
        if (message.requestId === this.pendingOpenRequestId) {
          this.pendingOpenRequestId = null;
          this.update({ sessionId: message.sessionId });
        }
        return;
      case 'conversation.loaded':
        // A continued conversation brings its messages; a new one starts empty.
        if (message.sessionId !== this.state.sessionId) return;
        this.update({
          conversation: { id: message.conversationId, kept: message.kept },
          entries: message.entries.map((entry) => this.fromKept(entry)),
          activeTurnId: null,
        });
        return;
      case 'turn.started':
        this.update({ activeTurnId: message.turnId });
        if (message.source === 'voice' && message.userText) this.setUserSpeech(message.turnId, message.userText, false);
        return;
      case 'vad':
        this.update({ listening: message.event === 'speech-start' });
        return;
      case 'transcript':
        this.setUserSpeech(message.turnId, message.text, !message.final);
        return;
      case 'reply.delta':
        this.appendReply(message.turnId, message.text);
        return;
      case 'turn.stop':
        this.finishReply(message.turnId, undefined, true);
        return;
      case 'turn.ended':
        this.finishReply(message.turnId, message.status === 'complete' ? message.replyText : message.heardText || message.replyText, message.status !== 'complete');
        return;
      case 'turn.trace':
        this.update({ lastTrace: message.trace, recentTraces: withTrace(this.state.recentTraces, message.trace) });
        return;
      case 'engine.status':
        this.update({ engineReady: message.ready, workers: message.workers, engineDegraded: message.degraded?.reason ?? null });
        return;
      case 'error':
        this.addError(message.code, message.message, message.recoverable);
        return;
      case 'tts.chunk':
      case 'turn.duck':
      case 'pong':
      case 'conversation.exported':
        return;
    }
  }

  /**
   * The user's words for a turn: partial transcripts (pending) while they speak, each replacing the
   * last, then the final one in the same place. An empty final transcript means no words (noise, or
   * audio STT could not make out): the line goes.
   */
  private setUserSpeech(turnId: string, text: string, pending: boolean): void {
    const entries = [...this.state.entries];
    const index = entries.findIndex((entry) => entry.role === 'user' && entry.turnId === turnId);
    if (!pending && !text) {
      if (index >= 0) this.update({ entries: entries.filter((_, i) => i !== index) });
      return;
    }
    const entry: TranscriptEntry = { id: index >= 0 ? entries[index]!.id : this.id(), role: 'user', text, turnId, pending };
    if (index >= 0) entries[index] = entry;
    else entries.push(entry);
    this.update({ entries });
  }

  private appendReply(turnId: string, delta: string): void {
    const entries = [...this.state.entries];
    const index = entries.findIndex((entry) => entry.role === 'avatar' && entry.turnId === turnId);
    if (index >= 0) entries[index] = { ...entries[index]!, text: entries[index]!.text + delta };
    else entries.push({ id: this.id(), role: 'avatar', text: delta, turnId, pending: true });
    this.update({ entries });
  }

  private finishReply(turnId: string, finalText: string | undefined, interrupted: boolean): void {
    const entries = this.state.entries.map((entry) =>
      entry.role === 'avatar' && entry.turnId === turnId
        ? { ...entry, text: finalText ?? entry.text, pending: false, interrupted: entry.interrupted || interrupted }
        : entry,
    );
    const hasReply = entries.some((entry) => entry.role === 'avatar' && entry.turnId === turnId);
    if (!hasReply && finalText) entries.push({ id: this.id(), role: 'avatar', text: finalText, turnId, pending: false, interrupted });
    this.update({ entries, activeTurnId: this.state.activeTurnId === turnId ? null : this.state.activeTurnId });
  }

  private fromKept(entry: ConversationEntry): TranscriptEntry {
    if (entry.type === 'user') return { id: this.id(), role: 'user', text: entry.text, turnId: entry.turnId, pending: false };
    return { id: this.id(), role: 'avatar', text: entry.text, turnId: entry.turnId, pending: false, ...(entry.status === 'interrupted' ? { interrupted: true } : {}) };
  }

  private id(): string {
    return `entry-${this.nextId++}`;
  }

  private update(patch: Partial<ConversationState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }
}
