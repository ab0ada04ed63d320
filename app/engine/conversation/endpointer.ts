import { concatPcm, rmsOf, samplesToMs } from '../../shared/audio/pcm';
import type { VadEventKind } from '../../shared/worker.contract';
import type { VadOutput } from '../pipeline/vad.stage';

const MIC_RATE_HZ = 16000;
/** A frame counts as speech while it is within -20 dB of the utterance's loudest frame. */
const VOICED_FRACTION_OF_PEAK = 0.1;

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
  /**
   * About `interimEveryMs` of new speech since the last partial: `audio()` is the speech so far.
   * Returns true when a partial transcription was started (false: busy, ask again next frame).
   */
  interim(utterance: UtteranceInfo, audio: () => Float32Array<ArrayBuffer>): boolean;
  /** The utterance ended as speech. */
  utterance(ended: EndedUtterance): void;
  /** The utterance ended as noise (a cough, a click, a short sound over the avatar): no turn. */
  noise(utterance: UtteranceInfo): void;
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
  /** End of the last frame the VAD has judged in this utterance. */
  heardUntilStreamMs: number;
  /** Audio up to here went to the last partial transcript. */
  interimUntilStreamMs: number;
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
      if (event.event === 'speech-start' && !utterance) {
        utterance = {
          id: this.nextId++,
          frames: [...this.preroll, frame.pcm],
          startStreamMs: event.atMs,
          voicedUntilStreamMs: frameEndMs,
          peakRms: 0,
          speechStartMs: nowMs - (frameEndMs - event.atMs),
          overlapsAvatar: this.hooks.avatarSpeakingAt(nowMs),
          bargedIn: false,
          heardUntilStreamMs: frameEndMs,
          interimUntilStreamMs: event.atMs,
        };
        this.utterance = utterance;
        this.hooks.speechStart(utterance);
      } else if (event.event === 'speech-end' && utterance) {
        this.end(utterance, event.atMs, nowMs - (frameEndMs - event.atMs), nowMs);
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
    if (frameEndMs - utterance.startStreamMs > this.config.maxUtteranceMs) {
      // Talking without pause for too long: transcribe what we have.
      this.end(utterance, frameEndMs, nowMs, nowMs);
      return;
    }
    const everyMs = this.config.interimEveryMs;
    if (everyMs !== undefined && utterance.heardUntilStreamMs - utterance.interimUntilStreamMs >= everyMs) {
      const heardUntil = utterance.heardUntilStreamMs;
      const frames = utterance.frames;
      if (this.hooks.interim(utterance, () => concatPcm(frames))) utterance.interimUntilStreamMs = heardUntil;
    }
  }

  private keepPreroll(pcm: Float32Array<ArrayBuffer>): void {
    this.preroll.push(pcm);
    this.prerollMs += samplesToMs(pcm.length, MIC_RATE_HZ);
    while (this.preroll.length > 1 && this.prerollMs - samplesToMs(this.preroll[0]!.length, MIC_RATE_HZ) >= this.config.utterancePrerollMs) {
      this.prerollMs -= samplesToMs(this.preroll.shift()!.length, MIC_RATE_HZ);
    }
  }

  private end(utterance: UtteranceState, endStreamMs: number, speechEndMs: number, endpointMs: number): void {
    this.utterance = undefined;
    this.preroll.length = 0;
    this.prerollMs = 0;
    // Loud frames, not the VAD's hangover, measure how long the user spoke.
    const speechMs = Math.min(endStreamMs, utterance.voicedUntilStreamMs) - utterance.startStreamMs;
    const minimumMs = utterance.overlapsAvatar && !utterance.bargedIn ? this.config.minBargeInSpeechMs : this.config.minUtteranceMs;
    if (speechMs < minimumMs) {
      this.hooks.noise(utterance);
      return;
    }
    this.hooks.utterance({
      id: utterance.id,
      speechStartMs: utterance.speechStartMs,
      overlapsAvatar: utterance.overlapsAvatar,
      pcm: concatPcm(utterance.frames),
      speechEndMs,
      endpointMs,
    });
  }
}
