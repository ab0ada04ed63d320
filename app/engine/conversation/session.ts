import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { ServerMessage } from '../../shared/messages.contract';
import type { TurnTrace } from '../../shared/trace.contract';
import type { ChatMessage } from '../../shared/worker.contract';
import { AsyncQueue } from '../pipeline/async-queue';
import { leaseSttIfIdle, sttStage, transcribeInterim, type Utterance } from '../pipeline/stt.stage';
import { vadStage, type MicFrame, type VadOutput } from '../pipeline/vad.stage';
import { once } from '../pipeline/stage';
import type { WorkerPool } from '../pool/worker-pool';
import type { EngineConfig } from '../engine-config';
import { Turn, type TurnSource } from './turn';

const MIC_RATE_HZ = 16000;
/** A frame counts as speech while it is within -20 dB of the utterance's loudest frame. */
const VOICED_FRACTION_OF_PEAK = 0.1;

function concatPcm(frames: readonly Float32Array<ArrayBuffer>[]): Float32Array<ArrayBuffer> {
  const pcm = new Float32Array(frames.reduce((sum, frame) => sum + frame.length, 0));
  let offset = 0;
  for (const frame of frames) {
    pcm.set(frame, offset);
    offset += frame.length;
  }
  return pcm;
}

function frameRms(pcm: Float32Array): number {
  let energy = 0;
  for (let i = 0; i < pcm.length; i++) energy += pcm[i]! * pcm[i]!;
  return pcm.length > 0 ? Math.sqrt(energy / pcm.length) : 0;
}

/** The user's speech being collected between the VAD's speech-start and speech-end. */
interface UtteranceState {
  frames: Float32Array<ArrayBuffer>[];
  startStreamMs: number;
  /** End of the last frame the VAD judged voiced (the hangover after it does not count as speech). */
  voicedUntilStreamMs: number;
  /** Loudest frame so far: frames far below it are the VAD's hangover, not speech. */
  peakRms: number;
  speechStartMs: number;
  /** The avatar was speaking when this speech started (a candidate barge-in). */
  overlapsTurn: Turn | undefined;
  bargedIn: boolean;
  /** End of the last frame the VAD has judged in this utterance. */
  heardUntilStreamMs: number;
  /**
   * The id of the turn this utterance will become, reserved by its first interim transcript (turn
   * ids are otherwise made at speech-end), so partial and final transcripts name the same turn.
   */
  turnId: string | undefined;
  /** The interim STT run being started or in flight; aborted when the utterance ends. */
  interim: AbortController | undefined;
  /** Audio up to here went to the last interim run. */
  interimUntilStreamMs: number;
}

/**
 * One conversation: history (system prompt first), voice, traces, and its turns one at a time.
 * Mic audio flows through the VAD continuously; speech-end starts a voice turn, speech while the
 * avatar speaks stops it (barge-in).
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
  private readonly preroll: Float32Array<ArrayBuffer>[] = [];
  private utterance: UtteranceState | undefined;
  private playbackReported = false;
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
    this.utterance?.interim?.abort();
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
    const outputs = vadStage({ pool: this.pool, sessionId: this.id, sensitivity: this.config.vadSensitivity })(this.mic, this.controller.signal);
    void (async () => {
      try {
        for await (const output of outputs) this.onVad(output);
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

  private onVad({ frame, events, probability }: VadOutput): void {
    const nowMs = performance.now();
    const frameEndMs = frame.streamMs + (frame.pcm.length * 1000) / MIC_RATE_HZ;
    let utterance = this.utterance;
    utterance?.frames.push(frame.pcm);
    for (const event of events) {
      this.send({ type: 'vad', sessionId: this.id, event: event.event });
      if (event.event === 'speech-start' && !utterance) {
        const speaking = this.turn?.audioPlayingAt(nowMs) ? this.turn : undefined;
        utterance = {
          frames: [...this.preroll, frame.pcm],
          startStreamMs: event.atMs,
          voicedUntilStreamMs: frameEndMs,
          peakRms: 0,
          speechStartMs: nowMs - (frameEndMs - event.atMs),
          overlapsTurn: speaking,
          bargedIn: false,
          heardUntilStreamMs: frameEndMs,
          turnId: undefined,
          interim: undefined,
          interimUntilStreamMs: event.atMs,
        };
        this.utterance = utterance;
      } else if (event.event === 'speech-end' && utterance) {
        this.utterance = undefined;
        this.endUtterance(utterance, event.atMs, nowMs - (frameEndMs - event.atMs), nowMs);
        utterance = undefined;
      }
    }
    if (utterance) {
      utterance.heardUntilStreamMs = frameEndMs;
      // Some VADs report their speaking state (hangover included) as the probability; the frame's
      // loudness relative to the utterance tells a short noise from sustained speech.
      const rms = frameRms(frame.pcm);
      utterance.peakRms = Math.max(utterance.peakRms, rms);
      if (probability >= 0.5 && rms >= VOICED_FRACTION_OF_PEAK * utterance.peakRms) utterance.voicedUntilStreamMs = frameEndMs;
    }
    if (utterance && utterance.overlapsTurn && !utterance.bargedIn && utterance.voicedUntilStreamMs - utterance.startStreamMs >= this.config.pipeline.minBargeInSpeechMs) {
      utterance.bargedIn = true;
      utterance.overlapsTurn.stop('barge-in');
    }
    if (!utterance) {
      this.preroll.push(frame.pcm);
      let prerollMs = this.preroll.reduce((sum, pcm) => sum + (pcm.length * 1000) / MIC_RATE_HZ, 0);
      while (this.preroll.length > 1 && prerollMs - (this.preroll[0]!.length * 1000) / MIC_RATE_HZ >= this.config.pipeline.utterancePrerollMs) {
        prerollMs -= (this.preroll.shift()!.length * 1000) / MIC_RATE_HZ;
      }
    } else if (frameEndMs - utterance.startStreamMs > this.config.pipeline.maxUtteranceMs) {
      // Talking without pause for too long: transcribe what we have.
      this.utterance = undefined;
      this.endUtterance(utterance, frameEndMs, nowMs, nowMs);
    } else {
      this.maybeInterim(utterance);
    }
  }

  /** About every `everyMs` of new speech, when the STT worker is free: a partial transcript of the speech so far. */
  private maybeInterim(utterance: UtteranceState): void {
    const interim = this.config.interimTranscripts;
    if (!interim?.enabled || !interim.sttEngines.includes(this.config.workers.stt.engine)) return;
    if (utterance.interim || utterance.heardUntilStreamMs - utterance.interimUntilStreamMs < interim.everyMs) return;
    const controller = new AbortController();
    utterance.interim = controller;
    void (async () => {
      try {
        const lease = await leaseSttIfIdle(this.pool, this.id);
        if (!lease) return; // Busy (another session's turn): the next frame tries again.
        if (controller.signal.aborted || this.utterance !== utterance) {
          lease.release();
          return;
        }
        utterance.interimUntilStreamMs = utterance.heardUntilStreamMs;
        const input: Utterance = { pcm: concatPcm(utterance.frames), sampleRateHz: 16000 };
        const text = await transcribeInterim(lease, input, { pool: this.pool, sessionId: this.id }, controller.signal);
        // The utterance ended (its final transcript comes from its own run) or the session closed: too late.
        if (controller.signal.aborted || this.utterance !== utterance || !text) return;
        utterance.turnId ??= this.reserveTurnId();
        this.send({ type: 'transcript', sessionId: this.id, turnId: utterance.turnId, text, final: false });
      } catch {
        // A failed or cancelled partial is only a missed preview: the final run reports real failures.
      } finally {
        if (utterance.interim === controller) utterance.interim = undefined;
      }
    })();
  }

  private endUtterance(utterance: UtteranceState, endStreamMs: number, speechEndMs: number, endpointMs: number): void {
    this.preroll.length = 0;
    if (utterance.interim) {
      // The final run must not wait for a partial one: cancel it in the worker, drop its result.
      utterance.interim.abort();
      this.config.onDiagnostic?.({ type: 'interim-stt-cancelled', sessionId: this.id, turnId: utterance.turnId });
    }
    // Loud frames, not the VAD's hangover, measure how long the user spoke.
    const speechMs = Math.min(endStreamMs, utterance.voicedUntilStreamMs) - utterance.startStreamMs;
    const minimumMs = utterance.overlapsTurn && !utterance.bargedIn ? this.config.pipeline.minBargeInSpeechMs : this.config.pipeline.minUtteranceMs;
    if (speechMs < minimumMs) {
      // Noise, a cough, a click: not a turn. A partial transcript already shown for it is withdrawn
      // by an empty final one (no turn.started follows for that id).
      if (utterance.turnId) this.send({ type: 'transcript', sessionId: this.id, turnId: utterance.turnId, text: '', final: true });
      return;
    }
    const pcm = concatPcm(utterance.frames);
    this.turn?.stop('user');
    const turn = this.createTurn('voice', { speechStartMs: utterance.speechStartMs, speechEndMs, endpointMs }, utterance.turnId);
    this.enqueue(turn, async () => {
      turn.announce();
      const input: Utterance = { pcm, sampleRateHz: 16000 };
      let text = '';
      for await (const transcript of sttStage({ pool: this.pool, sessionId: this.id })(once(input), turn.signal)) text = transcript;
      turn.trace.sttFinalMs = performance.now();
      this.send({ type: 'transcript', sessionId: this.id, turnId: turn.id, text, final: true });
      if (text) await turn.reply(text);
      else turn.fail(new AppError(ErrorCode.BadAudio, 'I could not make out any words; please try again.', true));
    });
  }
}
