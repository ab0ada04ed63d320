import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { ServerMessage } from '../../shared/messages.contract';
import type { TurnTrace } from '../../shared/trace.contract';
import type { ChatMessage } from '../../shared/worker.contract';
import { AsyncQueue } from '../pipeline/async-queue';
import { sttStage, type Utterance } from '../pipeline/stt.stage';
import { vadStage, type MicFrame, type VadOutput } from '../pipeline/vad.stage';
import { once } from '../pipeline/stage';
import type { WorkerPool } from '../pool/worker-pool';
import type { EngineConfig } from './engine-config';
import { Turn, type TurnSource } from './turn';

const MIC_RATE_HZ = 16000;
/** A frame counts as speech while it is within -20 dB of the utterance's loudest frame. */
const VOICED_FRACTION_OF_PEAK = 0.1;

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
    this.turn?.stop('user');
    this.controller.abort();
    this.mic?.end();
    await this.turnChain;
    await this.turn?.settled();
    this.pool.endSession(this.id);
  }

  private createTurn(source: TurnSource, timestamps: Partial<TurnTrace>): Turn {
    return new Turn(`${this.id}-t${this.nextTurn++}`, source, {
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
        };
        this.utterance = utterance;
      } else if (event.event === 'speech-end' && utterance) {
        this.utterance = undefined;
        this.endUtterance(utterance, event.atMs, nowMs - (frameEndMs - event.atMs), nowMs);
        utterance = undefined;
      }
    }
    if (utterance) {
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
    }
  }

  private endUtterance(utterance: UtteranceState, endStreamMs: number, speechEndMs: number, endpointMs: number): void {
    this.preroll.length = 0;
    // Loud frames, not the VAD's hangover, measure how long the user spoke.
    const speechMs = Math.min(endStreamMs, utterance.voicedUntilStreamMs) - utterance.startStreamMs;
    const minimumMs = utterance.overlapsTurn && !utterance.bargedIn ? this.config.pipeline.minBargeInSpeechMs : this.config.pipeline.minUtteranceMs;
    if (speechMs < minimumMs) return; // Noise, a cough, a click: not a turn.
    const total = utterance.frames.reduce((sum, pcm) => sum + pcm.length, 0);
    const pcm = new Float32Array(total);
    let offset = 0;
    for (const frame of utterance.frames) {
      pcm.set(frame, offset);
      offset += frame.length;
    }
    this.turn?.stop('user');
    const turn = this.createTurn('voice', { speechStartMs: utterance.speechStartMs, speechEndMs, endpointMs });
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
