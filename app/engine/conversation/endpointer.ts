import { concatPcm, rmsOf, samplesToMs } from '../../shared/audio/pcm';
import type { VadEventKind } from '../../shared/worker.contract';
import type { VadOutput } from '../pipeline/vad.stage';

const MIC_RATE_HZ = 16000;
/** A frame counts as speech while it is within -20 dB of the utterance's loudest frame. */
const VOICED_FRACTION_OF_PEAK = 0.1;
/** Silence after the speech end that an utterance keeps for STT (the VAD's own end silence is about this). */
const TRAILING_SILENCE_KEPT_MS = 300;

/** What the endpointer needs from the pipeline settings. */
export interface EndpointerConfig {
  /** User speech shorter than this while the avatar speaks does not interrupt it (and is not a turn). */
  minBargeInSpeechMs: number;
  /** Utterances shorter than this are noise, not turns. */
  minUtteranceMs: number;
  /** Audio kept before the VAD's speech start, so the first syllable reaches STT. */
  utterancePrerollMs: number;
  /** Longest utterance kept for STT: talking on past it ends the utterance there. */
  maxUtteranceMs: number;
  /** New speech between partial transcripts; undefined: no partials. */
  interimEveryMs: number | undefined;
  /** Semantic end of turn (the VAD's silence, then a model's verdict); undefined: the VAD's silence alone ends a turn. */
  endOfTurn: EndOfTurnConfig | undefined;
  /** Speech over the avatar lasting this long is reported as `longOverlap`; undefined: never. */
  longOverlapMs: number | undefined;
}

export interface EndOfTurnConfig {
  /** A verdict at or above this ends the turn at once. */
  completeThreshold: number;
  /** After an "incomplete" verdict, silence this long (from the speech end) ends the turn anyway. */
  maxPauseMs: number;
}

/** One utterance as the session sees it while it lasts. */
export interface UtteranceInfo {
  /** Distinct per utterance of this endpointer. */
  readonly id: number;
  /** performance.now() of the speech onset (the VAD's position mapped to the clock). */
  readonly speechStartMs: number;
  /** The avatar was audible when this speech started: a barge-in candidate. */
  readonly overlapsAvatar: boolean;
}

/** An utterance that ended as speech: a turn. */
export interface EndedUtterance extends UtteranceInfo {
  pcm: Float32Array<ArrayBuffer>;
  speechEndMs: number;
  /** When the end was decided (performance.now()). */
  endpointMs: number;
}

/** How the endpointer reports to its session (livekit's RecognitionHooks are the model). */
export interface EndpointerHooks {
  /** A raw VAD event, for the page's listening indicator. */
  vadEvent(event: VadEventKind): void;
  /** Whether the avatar's voice is audible at `nowMs`. */
  avatarSpeakingAt(nowMs: number): boolean;
  speechStart(utterance: UtteranceInfo): void;
  /** Speech over the avatar lasted `minBargeInSpeechMs`: stop the avatar. */
  bargeIn(utterance: UtteranceInfo): void;
  /** Speech over the avatar lasted `longOverlapMs`: too long for a backchannel. */
  longOverlap?(utterance: UtteranceInfo): void;
  /**
   * About `interimEveryMs` of new speech since the last partial: `audio()` is the speech so far.
   * Returns true when a partial transcription was started (false: busy, ask again next frame).
   */
  interim(utterance: UtteranceInfo, audio: () => Float32Array<ArrayBuffer>): boolean;
  /** The utterance ended as speech. */
  utterance(ended: EndedUtterance): void;
  /** The utterance ended as noise (a cough, a click, a short sound over the avatar): no turn. */
  noise(utterance: UtteranceInfo): void;
  /**
   * The speech paused: how likely is it that the user finished (0 … 1)? `audio` is the turn so far.
   * Only called with `endOfTurn` configured; a rejection counts as finished (silence decides).
   */
  scoreEndOfTurn?(audio: Float32Array<ArrayBuffer>): Promise<number>;
  /** The model judged a pause as mid-thought: the turn stays open (diagnostics, traces). */
  pauseKept?(utterance: UtteranceInfo, completeProbability: number): void;
}

/** A pause being judged by the end-of-turn model, or judged incomplete and waited out. */
interface PendingEnd {
  endStreamMs: number;
  speechEndMs: number;
  verdict: 'scoring' | 'incomplete';
  /** Ends the turn when the microphone stops sending (push-to-talk released) before maxPauseMs of frames arrive. */
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** The user's speech being collected between the VAD's speech-start and speech-end. */
interface UtteranceState extends UtteranceInfo {
  frames: Float32Array<ArrayBuffer>[];
  startStreamMs: number;
  /** End of the last frame judged voiced (the VAD's hangover after it does not count as speech). */
  voicedUntilStreamMs: number;
  /** Loudest frame so far: frames far below it are the VAD's hangover, not speech. */
  peakRms: number;
  bargedIn: boolean;
  longOverlap: boolean;
  /** End of the last frame the VAD has judged in this utterance. */
  heardUntilStreamMs: number;
  /** Audio up to here went to the last partial transcript. */
  interimUntilStreamMs: number;
  /** The VAD said the speech ended; the end of turn is being decided. */
  pendingEnd: PendingEnd | undefined;
}

/**
 * VAD output → speech start, partial-transcript moments, barge-in, utterance end. Keeps the
 * pre-roll before speech, tells speech from the VAD's hangover by loudness, and cuts utterances
 * that run past the longest one kept. The session decides what each of these means for turns.
 */
export class Endpointer {
  private readonly preroll: Float32Array<ArrayBuffer>[] = [];
  private prerollMs = 0;
  private utterance: UtteranceState | undefined;
  private nextId = 1;

  constructor(
    private readonly config: EndpointerConfig,
    private readonly hooks: EndpointerHooks,
  ) {}

  /** Stops listening: a pause being waited out no longer ends its turn (the session closes). */
  dispose(): void {
    clearTimeout(this.utterance?.pendingEnd?.timer);
    this.utterance = undefined;
  }

  /** The utterance in progress, if any. */
  get current(): UtteranceInfo | undefined {
    return this.utterance;
  }

  /** Takes one frame with the VAD's verdict on it. */
  push({ frame, events, probability }: VadOutput): void {
    const nowMs = performance.now();
    const frameEndMs = frame.streamMs + samplesToMs(frame.pcm.length, MIC_RATE_HZ);
    let utterance = this.utterance;
    utterance?.frames.push(frame.pcm);
    for (const event of events) {
      this.hooks.vadEvent(event.event);
      if (event.event === 'speech-start' && utterance?.pendingEnd) {
        // The user goes on after a pause: the same turn continues; a verdict still on its way is void.
        clearTimeout(utterance.pendingEnd.timer);
        utterance.pendingEnd = undefined;
      } else if (event.event === 'speech-start' && !utterance) {
        utterance = {
          id: this.nextId++,
          frames: [...this.preroll, frame.pcm],
          startStreamMs: event.atMs,
          voicedUntilStreamMs: frameEndMs,
          peakRms: 0,
          speechStartMs: nowMs - (frameEndMs - event.atMs),
          overlapsAvatar: this.hooks.avatarSpeakingAt(nowMs),
          bargedIn: false,
          longOverlap: false,
          heardUntilStreamMs: frameEndMs,
          interimUntilStreamMs: event.atMs,
          pendingEnd: undefined,
        };
        this.utterance = utterance;
        this.hooks.speechStart(utterance);
      } else if (event.event === 'speech-end' && utterance && !utterance.pendingEnd) {
        const speechEndMs = nowMs - (frameEndMs - event.atMs);
        if (this.decideLater(utterance, event.atMs, speechEndMs)) continue;
        this.end(utterance, event.atMs, speechEndMs, nowMs);
        utterance = undefined;
      }
    }
    if (!utterance) {
      this.keepPreroll(frame.pcm);
      return;
    }
    utterance.heardUntilStreamMs = frameEndMs;
    // Some VADs report their speaking state (hangover included) as the probability; the frame's
    // loudness relative to the utterance tells a short noise from sustained speech.
    const rms = rmsOf(frame.pcm);
    utterance.peakRms = Math.max(utterance.peakRms, rms);
    if (probability >= 0.5 && rms >= VOICED_FRACTION_OF_PEAK * utterance.peakRms) utterance.voicedUntilStreamMs = frameEndMs;
    if (utterance.overlapsAvatar && !utterance.bargedIn && utterance.voicedUntilStreamMs - utterance.startStreamMs >= this.config.minBargeInSpeechMs) {
      utterance.bargedIn = true;
      this.hooks.bargeIn(utterance);
    }
    const longMs = this.config.longOverlapMs;
    if (longMs !== undefined && utterance.overlapsAvatar && !utterance.longOverlap && utterance.voicedUntilStreamMs - utterance.startStreamMs >= longMs) {
      utterance.longOverlap = true;
      this.hooks.longOverlap?.(utterance);
    }
    if (frameEndMs - utterance.startStreamMs > this.config.maxUtteranceMs) {
      // Talking without pause for too long: transcribe what we have.
      this.end(utterance, frameEndMs, nowMs, nowMs);
      return;
    }
    const pending = utterance.pendingEnd;
    if (pending) {
      // A pause judged mid-thought ends the turn anyway once it lasts maxPauseMs.
      if (pending.verdict === 'incomplete' && frameEndMs - pending.endStreamMs >= this.config.endOfTurn!.maxPauseMs) {
        this.end(utterance, pending.endStreamMs, pending.speechEndMs, nowMs);
      }
      return;
    }
    const everyMs = this.config.interimEveryMs;
    if (everyMs !== undefined && utterance.heardUntilStreamMs - utterance.interimUntilStreamMs >= everyMs) {
      const heardUntil = utterance.heardUntilStreamMs;
      const frames = utterance.frames;
      if (this.hooks.interim(utterance, () => concatPcm(frames))) utterance.interimUntilStreamMs = heardUntil;
    }
  }

  /**
   * With an end-of-turn model, a pause after real speech is judged before the turn ends: true when
   * the decision is pending (the utterance stays open and keeps collecting audio meanwhile).
   */
  private decideLater(utterance: UtteranceState, endStreamMs: number, speechEndMs: number): boolean {
    const endOfTurn = this.config.endOfTurn;
    const score = this.hooks.scoreEndOfTurn;
    // Speech over the avatar is judged by its words at once (backchannel or interruption), not held open.
    if (!endOfTurn || !score || utterance.overlapsAvatar || this.isNoise(utterance, endStreamMs)) return false;
    const pending: PendingEnd = { endStreamMs, speechEndMs, verdict: 'scoring', timer: undefined };
    utterance.pendingEnd = pending;
    const decide = (completeProbability: number): void => {
      if (this.utterance !== utterance || utterance.pendingEnd !== pending) return; // the user went on, or it ended otherwise
      if (completeProbability >= endOfTurn.completeThreshold) {
        this.end(utterance, pending.endStreamMs, pending.speechEndMs, performance.now());
      } else {
        pending.verdict = 'incomplete';
        this.hooks.pauseKept?.(utterance, completeProbability);
        const waitMs = Math.max(0, endOfTurn.maxPauseMs - (performance.now() - pending.speechEndMs));
        pending.timer = setTimeout(() => {
          if (this.utterance === utterance && utterance.pendingEnd === pending) this.end(utterance, pending.endStreamMs, pending.speechEndMs, performance.now());
        }, waitMs);
      }
    };
    score(concatPcm(utterance.frames)).then(decide, () => decide(1));
    return true;
  }

  /** Loud frames, not the VAD's hangover, measure how long the user spoke. */
  private isNoise(utterance: UtteranceState, endStreamMs: number): boolean {
    const speechMs = Math.min(endStreamMs, utterance.voicedUntilStreamMs) - utterance.startStreamMs;
    const minimumMs = utterance.overlapsAvatar && !utterance.bargedIn ? this.config.minBargeInSpeechMs : this.config.minUtteranceMs;
    return speechMs < minimumMs;
  }

  private keepPreroll(pcm: Float32Array<ArrayBuffer>): void {
    this.preroll.push(pcm);
    this.prerollMs += samplesToMs(pcm.length, MIC_RATE_HZ);
    while (this.preroll.length > 1 && this.prerollMs - samplesToMs(this.preroll[0]!.length, MIC_RATE_HZ) >= this.config.utterancePrerollMs) {
      this.prerollMs -= samplesToMs(this.preroll.shift()!.length, MIC_RATE_HZ);
    }
  }

  private end(utterance: UtteranceState, endStreamMs: number, speechEndMs: number, endpointMs: number): void {
    clearTimeout(utterance.pendingEnd?.timer);
    this.utterance = undefined;
    this.preroll.length = 0;
    this.prerollMs = 0;
    if (this.isNoise(utterance, endStreamMs)) {
      this.hooks.noise(utterance);
      return;
    }
    // A pause waited out adds silence after the speech: STT gets the speech and a short tail only
    // (whisper makes up words, "[BLANK_AUDIO]", in long silence).
    const pcm = concatPcm(utterance.frames);
    const extraMs = utterance.heardUntilStreamMs - (endStreamMs + TRAILING_SILENCE_KEPT_MS);
    const keep = extraMs > 0 ? Math.max(0, pcm.length - Math.round((extraMs * MIC_RATE_HZ) / 1000)) : pcm.length;
    this.hooks.utterance({
      id: utterance.id,
      speechStartMs: utterance.speechStartMs,
      overlapsAvatar: utterance.overlapsAvatar,
      pcm: keep < pcm.length ? pcm.slice(0, keep) : pcm,
      speechEndMs,
      endpointMs,
    });
  }
}
