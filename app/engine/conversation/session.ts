import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { ServerMessage } from '../../shared/messages.contract';
import type { TurnSource, TurnTrace } from '../../shared/trace.contract';
import type { ChatMessage } from '../../shared/worker.contract';
import { AsyncQueue } from '../pipeline/async-queue';
import { leaseSttIfIdle, sttStage, transcribeInterim, type Utterance } from '../pipeline/stt.stage';
import { vadStage, type MicFrame } from '../pipeline/vad.stage';
import { once } from '../pipeline/stage';
import type { WorkerPool } from '../pool/worker-pool';
import type { EngineConfig } from '../engine-config';
import { Endpointer, type EndedUtterance, type EndpointerHooks, type UtteranceInfo } from './endpointer';
import { Turn } from './turn';

const MIC_RATE_HZ = 16000;
/** The user hears about dropped mic audio at most this often. */
const DROP_REPORT_INTERVAL_MS = 5_000;

/** What the session keeps about the utterance in progress, beside the endpointer's audio. */
interface SpeechState {
  utteranceId: number;
  /** The turn whose voice was audible when this speech started (a barge-in candidate). */
  overlapped: Turn | undefined;
  /**
   * The id of the turn this utterance will become, reserved by its first partial transcript (turn
   * ids are otherwise made at speech-end), so partial and final transcripts name the same turn.
   */
  turnId: string | undefined;
  /** The partial STT run being started or in flight; aborted when the utterance ends. */
  interim: AbortController | undefined;
}

/**
 * One conversation: history (system prompt first), voice, traces, and its turns one at a time.
 * Mic audio flows through the VAD stream into the endpointer; its utterances start voice turns,
 * speech while the avatar speaks stops it (barge-in).
 */
export class Session {
  readonly history: ChatMessage[];
  readonly traces: TurnTrace[] = [];
  private turn: Turn | undefined;
  private turnChain: Promise<void> = Promise.resolve();
  private nextTurn = 1;
  private readonly controller = new AbortController();
  private mic: AsyncQueue<MicFrame> | undefined;
  private micStreamMs = 0;
  private readonly endpointer: Endpointer;
  private speech: SpeechState | undefined;
  private playbackReported = false;
  /** When the user was last told that mic audio was dropped (at most once every few seconds). */
  private dropReportedMs = Number.NEGATIVE_INFINITY;
  /** Listening failed for good (no VAD configured): the user was told once; frames are ignored. */
  private listeningUnavailable = false;

  constructor(
    readonly id: string,
    persona: string,
    readonly voice: string | undefined,
    private readonly pool: WorkerPool,
    private readonly config: EngineConfig,
    private readonly send: (message: ServerMessage) => void,
  ) {
    this.history = [{ role: 'system', content: persona }];
    const interim = config.interimTranscripts;
    this.endpointer = new Endpointer(
      {
        minBargeInSpeechMs: config.pipeline.minBargeInSpeechMs,
        minUtteranceMs: config.pipeline.minUtteranceMs,
        utterancePrerollMs: config.pipeline.utterancePrerollMs,
        maxUtteranceMs: config.pipeline.maxUtteranceMs,
        interimEveryMs: interim?.enabled && interim.sttEngines.includes(config.workers.stt.engine) ? interim.everyMs : undefined,
      },
      this.endpointerHooks(),
    );
  }

  /** Typed text: a turn like a spoken one; it interrupts a reply in progress. */
  userText(text: string): void {
    this.turn?.stop('user');
    const turn = this.createTurn('text', {});
    this.enqueue(turn, async () => {
      turn.announce(text);
      await turn.reply(text);
    });
  }

  /** A new system prompt (the persona setting changed): the next turn's LLM request starts with it. */
  setPersona(persona: string): void {
    this.history[0] = { role: 'system', content: persona };
  }

  /** The user asked the avatar to stop talking. */
  interrupt(): void {
    this.turn?.stop('user');
  }

  /** 16 kHz samples from the renderer's microphone, in capture order. */
  micAudio(pcm: Float32Array<ArrayBuffer>): void {
    if (this.listeningUnavailable) return;
    if (!this.mic) this.startMic();
    const frame: MicFrame = { pcm, streamMs: this.micStreamMs };
    this.micStreamMs += (pcm.length * 1000) / MIC_RATE_HZ;
    this.mic!.push(frame);
  }

  playbackProgress(turnId: string, seq: number, playedMs: number, started: boolean, ended: boolean): void {
    this.playbackReported = true;
    if (this.turn?.id === turnId) this.turn.onPlayback(seq, playedMs, started, ended);
  }

  /** Ends the session: its turn stops, the mic loop ends, its workers forget it. */
  async close(): Promise<void> {
    this.speech?.interim?.abort();
    this.turn?.stop('user');
    this.controller.abort();
    this.mic?.end();
    await this.turnChain;
    await this.turn?.settled();
    this.pool.endSession(this.id);
  }

  private reserveTurnId(): string {
    return `${this.id}-t${this.nextTurn++}`;
  }

  private createTurn(source: TurnSource, timestamps: Partial<TurnTrace>, id = this.reserveTurnId()): Turn {
    return new Turn(id, source, {
      sessionId: this.id,
      pool: this.pool,
      config: this.config,
      voice: this.voice,
      send: this.send,
      history: this.history,
      onTraceUpdate: (trace) => this.keepTrace(trace),
      reportsPlayback: () => this.playbackReported,
    }, timestamps);
  }

  /** Turns run one after another; the next starts when the previous LLM run has really stopped. */
  private enqueue(turn: Turn, body: () => Promise<void>): void {
    const previous = this.turn;
    this.turn = turn;
    this.turnChain = this.turnChain
      .then(() => previous?.settled())
      .then(async () => {
        if (this.controller.signal.aborted) return;
        await body();
      })
      .catch((error: unknown) => turn.fail(AppError.from(error)));
  }

  private keepTrace(trace: TurnTrace): void {
    const index = this.traces.findIndex((kept) => kept.turnId === trace.turnId);
    if (index >= 0) this.traces[index] = { ...trace };
    else this.traces.push({ ...trace });
    if (this.traces.length > this.config.maxTracesPerSession) this.traces.shift();
    this.send({ type: 'turn.trace', trace: { ...trace } });
  }

  private startMic(): void {
    this.mic = new AsyncQueue<MicFrame>(this.controller.signal);
    const outputs = vadStage({
      pool: this.pool,
      sessionId: this.id,
      sensitivity: this.config.vadSensitivity,
      onDrop: (droppedMs) => this.reportDroppedAudio(droppedMs),
    })(this.mic, this.controller.signal);
    void (async () => {
      try {
        for await (const output of outputs) this.endpointer.push(output);
      } catch (error) {
        if (this.controller.signal.aborted) return;
        const appError = AppError.from(error);
        this.send({ type: 'error', code: appError.code, message: `Listening stopped: ${appError.message}`, recoverable: appError.recoverable, sessionId: this.id });
        // A recoverable failure (a VAD worker restarting) resumes with the next mic frame.
        this.listeningUnavailable = !appError.recoverable;
        this.mic = undefined;
      }
    })();
  }

  /** Mic audio arrived faster than the VAD judges it (a flood, or a stalled worker): say so, not too often. */
  private reportDroppedAudio(droppedMs: number): void {
    const nowMs = performance.now();
    if (nowMs - this.dropReportedMs < DROP_REPORT_INTERVAL_MS) return;
    this.dropReportedMs = nowMs;
    this.send({
      type: 'error',
      code: ErrorCode.BadAudio,
      message: `Microphone audio arrives faster than it can be listened to; ${Math.round(droppedMs)} ms were skipped.`,
      recoverable: true,
      sessionId: this.id,
    });
  }

  /** The session's side of endpointing: turns, barge-in and partial transcripts. */
  private endpointerHooks(): EndpointerHooks {
    return {
      vadEvent: (event) => this.send({ type: 'vad', sessionId: this.id, event }),
      avatarSpeakingAt: (nowMs) => this.turn?.audioPlayingAt(nowMs) ?? false,
      speechStart: (utterance) => {
        this.speech = { utteranceId: utterance.id, overlapped: utterance.overlapsAvatar ? this.turn : undefined, turnId: undefined, interim: undefined };
      },
      bargeIn: (utterance) => {
        if (this.speech?.utteranceId === utterance.id) this.speech.overlapped?.stop('barge-in');
      },
      interim: (utterance, audio) => this.startInterim(utterance, audio),
      noise: (utterance) => {
        const speech = this.endSpeech(utterance.id);
        // A partial transcript already shown for it is withdrawn by an empty final one (no turn.started follows for that id).
        if (speech?.turnId) this.send({ type: 'transcript', sessionId: this.id, turnId: speech.turnId, text: '', final: true });
      },
      utterance: (ended) => this.startVoiceTurn(ended, this.endSpeech(ended.id)?.turnId),
    };
  }

  /** The utterance ended: a partial run still in flight is cancelled so the final run starts at once. */
  private endSpeech(utteranceId: number): SpeechState | undefined {
    const speech = this.speech?.utteranceId === utteranceId ? this.speech : undefined;
    this.speech = undefined;
    if (speech?.interim) {
      speech.interim.abort();
      this.config.onDiagnostic?.({ type: 'interim-stt-cancelled', sessionId: this.id, turnId: speech.turnId });
    }
    return speech;
  }

  /** A partial transcript of the speech so far, when the STT worker is free right now; false when not started. */
  private startInterim(utterance: UtteranceInfo, audio: () => Float32Array<ArrayBuffer>): boolean {
    const speech = this.speech;
    if (!speech || speech.utteranceId !== utterance.id || speech.interim) return false;
    const controller = new AbortController();
    speech.interim = controller;
    const current = (): boolean => !controller.signal.aborted && this.speech === speech;
    void (async () => {
      try {
        const lease = await leaseSttIfIdle(this.pool, this.id);
        if (!lease) return; // Busy (another session's turn): the next frames try again.
        if (!current()) {
          lease.release();
          return;
        }
        const input: Utterance = { pcm: audio(), sampleRateHz: 16000 };
        const text = await transcribeInterim(lease, input, { pool: this.pool, sessionId: this.id }, controller.signal);
        // The utterance ended (its final transcript comes from its own run) or the session closed: too late.
        if (!current() || !text) return;
        speech.turnId ??= this.reserveTurnId();
        this.send({ type: 'transcript', sessionId: this.id, turnId: speech.turnId, text, final: false });
      } catch {
        // A failed or cancelled partial is only a missed preview: the final run reports real failures.
      } finally {
        if (speech.interim === controller) speech.interim = undefined;
      }
    })();
    return true;
  }

  private startVoiceTurn(ended: EndedUtterance, reservedTurnId: string | undefined): void {
    this.turn?.stop('user');
    const turn = this.createTurn('voice', { speechStartMs: ended.speechStartMs, speechEndMs: ended.speechEndMs, endpointMs: ended.endpointMs }, reservedTurnId);
    this.enqueue(turn, async () => {
      turn.announce();
      const input: Utterance = { pcm: ended.pcm, sampleRateHz: 16000 };
      let text = '';
      for await (const transcript of sttStage({ pool: this.pool, sessionId: this.id })(once(input), turn.signal)) text = transcript;
      turn.trace.sttFinalMs = performance.now();
      this.send({ type: 'transcript', sessionId: this.id, turnId: turn.id, text, final: true });
      if (text) await turn.reply(text);
      else turn.fail(new AppError(ErrorCode.BadAudio, 'I could not make out any words; please try again.', true));
    });
  }
}
