import { concatPcm, rmsOf, samplesToMs } from '../../shared/audio/pcm';
import type { VadEventKind } from '../../shared/worker.contract';
import type { MicFrame, VadOutput } from '../pipeline/vad.stage';

const MIC_RATE_HZ = 16000;
/** A frame counts as speech while it is within -20 dB of the utterance's loudest frame. */
const VOICED_FRACTION_OF_PEAK = 0.1;
/** Silence after the speech end that an utterance keeps for STT (the VAD's own end silence is about this). */
const TRAILING_SILENCE_KEPT_MS = 300;
/** A provisional end whose VAD never says speech-end (the microphone stopped sending) counts its silence as run out after this. */
const PROVISIONAL_SILENCE_TIMEOUT_MS = 400;
/** Voice heard over the avatar that stays unvoiced this long without the VAD confirming speech was not speech. */
const ONSET_GIVE_UP_MS = 200;

/** Speech, not the VAD's hangover: the VAD says speech and the frame is within -20 dB of the utterance's loudest. */
function isVoiced(probability: number, rms: number, peakRms: number): boolean {
  return probability >= 0.5 && rms >= VOICED_FRACTION_OF_PEAK * peakRms;
}

/** A frame this far under the utterance's loudest (-40 dB)… */
const QUIET_FRACTION_OF_PEAK = 0.01;
/** …or within this of the quietest frame heard (the room's floor, +6 dB) is quiet: no speech, not even a word's soft tail. */
const QUIET_OVER_FLOOR = 2;

/**
 * Still speaking, for a pause judged before the VAD's silence: the VAD says speech and the frame is
 * not quiet. A word's soft tail (a fading "s", "you?") is 20–40 dB under the loudest frame: a pause
 * judged there would lose it from the words transcribed at the pause.
 */
function isStillSpeech(probability: number, rms: number, peakRms: number, floorRms: number): boolean {
  return probability >= 0.5 && rms >= Math.max(QUIET_FRACTION_OF_PEAK * peakRms, QUIET_OVER_FLOOR * floorRms);
}

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
  /**
   * Speech over the avatar that pauses is held open this long for more ("Wait, … stop"), so its
   * words are judged whole, not word by word as noise; undefined: it ends at the VAD's silence.
   */
  overlapHoldMs: number | undefined;
}

export interface EndOfTurnConfig {
  /** A verdict at or above this ends the turn at once. */
  completeThreshold: number;
  /** After an "incomplete" verdict, silence this long (from the speech end) ends the turn anyway. */
  maxPauseMs: number;
  /** The session's: a voice verdict this sure ends the turn before the pause's words are in (undefined: never)… */
  voiceAloneThreshold?: number | undefined;
  /** …for speech voiced at least this long. */
  voiceAloneMinSpeechMs?: number | undefined;
  /**
   * The session's: an end decided before the VAD's silence ran out is judged again by the voice once
   * it has (the model then hears the silence it was trained with) before the turn starts.
   */
  secondLook?: boolean | undefined;
  /** The session's: a finished turn of at most this many words waits `shortTurnHoldMs` for more. */
  shortTurnWords?: number | undefined;
  shortTurnHoldMs?: number | undefined;
  /**
   * A pause is judged from this much unvoiced audio (silero below 0.5), before the VAD's end silence
   * has run out, so the verdict is ready when it does; voice coming back cancels it. Undefined: the
   * pause is judged at the VAD's speech end.
   */
  judgeAfterSilenceMs?: number | undefined;
}

/** A turn ended before the VAD's silence ran out, or on the voice before its words were in (`EndedUtterance.provisional`). */
export interface ProvisionalEnd {
  /** Aborts when the voice comes back first: the turn is void, the same utterance goes on. */
  signal: AbortSignal;
  /** The end-of-turn model's probability, for the words to be judged with. */
  completeProbability: number;
  /**
   * Resolves when the VAD's silence has run out as well (or the microphone stopped sending): a gap
   * between words ends sooner. A reply waits for it; the words take about as long.
   */
  silence: Promise<void>;
  /** Decided before the VAD's speech end (judged from the first quiet frame), not at it. */
  beforeVad: boolean;
  /** The utterance's audio up to now (the silence since the end included). */
  audioSoFar(): Float32Array<ArrayBuffer>;
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
  /** The words of `pcm`, when they were already transcribed to judge the pause. */
  transcript?: string | undefined;
  /** The words of `pcm` still being transcribed since the pause (undefined in the end: transcribe again). */
  transcriptLater?: Promise<string | undefined> | undefined;
  /**
   * Ended before the VAD's silence ran out, or on the voice's verdict before its words were in: the
   * turn stands only once the session, having the words (`transcript`, or `transcriptLater`) and
   * the silence, calls `confirm`; it calls `reopen` when the words say the user goes on. Until then
   * the utterance keeps listening, and voice coming back withdraws the end (`signal` aborts: the
   * turn is void and the same utterance goes on, so no word is lost).
   */
  provisional?: ProvisionalEnd | undefined;
}

/** The session's judgement of a pause: the end-of-turn model's, with the words heard so far when it had them. */
export interface EndOfTurnVerdict {
  complete: boolean;
  /** The end-of-turn model's probability that the user finished. */
  completeProbability: number;
  /** The turn so far, transcribed at the pause (reused by the turn when nothing was said after it). */
  transcript?: string | undefined;
  /** Complete before the words were in: the pause's transcription still under way, for the turn to take. */
  transcriptLater?: Promise<string | undefined> | undefined;
  /** Incomplete only: the pause ends the turn after this much silence instead of `maxPauseMs`. */
  maxPauseMs?: number | undefined;
}

/** How the endpointer reports to its session (livekit's RecognitionHooks are the model). */
export interface EndpointerHooks {
  /** A raw VAD event, for the page's listening indicator. */
  vadEvent(event: VadEventKind): void;
  /** Whether the avatar's voice is audible at `nowMs`. */
  avatarSpeakingAt(nowMs: number): boolean;
  speechStart(utterance: UtteranceInfo): void;
  /**
   * Voice over the avatar before the VAD confirms speech (its first syllable, a quarter second
   * earlier): the session may lower the avatar's voice at once. Followed by `speechStart`, or by
   * `voiceOnsetEnded` when the sound faded without becoming speech. `frame` is the one whose verdict it was.
   */
  voiceOnset?(frame: MicFrame): void;
  voiceOnsetEnded?(): void;
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
   * The speech paused: did the user finish? `audio` is the turn so far, `speechMs` how long it was
   * voiced (from the VAD's speech start to the last loud frame). Only called with `endOfTurn`
   * configured; a rejection counts as finished (silence decides).
   */
  scoreEndOfTurn?(audio: Float32Array<ArrayBuffer>, speechMs: number, signal: AbortSignal): Promise<EndOfTurnVerdict>;
  /** The model judged a pause as mid-thought: the turn stays open (diagnostics, traces). */
  pauseKept?(utterance: UtteranceInfo, completeProbability: number): void;
}

/** A pause being judged by the end-of-turn model, or judged incomplete and waited out. */
interface PendingEnd {
  endStreamMs: number;
  speechEndMs: number;
  /** 'provisional': ended on the voice, reported to the session, waiting for its words (`confirm` / `reopen`). */
  verdict: 'scoring' | 'incomplete' | 'provisional';
  /** Silence after the speech end (stream ms) that ends the utterance once the verdict is "incomplete". */
  holdMs: number;
  /**
   * Voice heard in the pause before the VAD confirms it as speech (the next word's first syllable,
   * 150 ms or more before the VAD's speech-start) restarts the hold from the end of that voice.
   */
  voicedUntilStreamMs: number | undefined;
  /** The words up to the pause, when the verdict came with them. */
  transcript: string | undefined;
  /** Ends the turn when the microphone stops sending (push-to-talk released) before maxPauseMs of frames arrive. */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Cancels the judging (the model and the pause's words) when the user goes on before it is done. */
  cancel: AbortController;
  /**
   * False for an end decided before the VAD's speech end (provisional, or reopened from one): voice
   * coming back continues the utterance, since the VAD will say no speech-start for it. Set when the
   * VAD's speech end comes. Undefined: decided at the VAD's speech end.
   */
  vadEnded?: boolean;
  /** Provisional only: resolves `ProvisionalEnd.silence`. */
  silenceRanOut?: () => void;
}

/** A pause judged from its first unvoiced frames, before the VAD's silence has run out (`judgeAfterSilenceMs`). */
interface EarlyJudging {
  verdict: Promise<EndOfTurnVerdict>;
  cancel: AbortController;
}

/** The user's speech being collected between the VAD's speech-start and speech-end. */
interface UtteranceState extends UtteranceInfo {
  frames: Float32Array<ArrayBuffer>[];
  startStreamMs: number;
  /** End of the last frame judged voiced (the VAD's hangover after it does not count as speech). */
  voicedUntilStreamMs: number;
  /** Loudest frame so far: frames far below it are the VAD's hangover, not speech. */
  peakRms: number;
  /** Quietest frame so far, the pre-roll's included: the room's floor. */
  floorRms: number;
  bargedIn: boolean;
  longOverlap: boolean;
  /** End of the last frame the VAD has judged in this utterance. */
  heardUntilStreamMs: number;
  /** Audio up to here went to the last partial transcript. */
  interimUntilStreamMs: number;
  /** The VAD said the speech ended; the end of turn is being decided. */
  pendingEnd: PendingEnd | undefined;
  /** Start of the unvoiced frames since the last voiced one (stream ms); undefined while voiced. */
  unvoicedSinceStreamMs: number | undefined;
  /** The pause being judged before the VAD's speech end. */
  early: EarlyJudging | undefined;
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
  /** Voice over the avatar not yet confirmed as speech: the end of its last voiced frame (stream ms). */
  private onsetVoicedUntilMs: number | undefined;
  /**
   * From an early end until the VAD's own speech-end for that speech: the ended utterance's loudest
   * frame (voice this loud again in between is new speech).
   */
  private endedBeforeVadPeakRms: number | undefined;

  constructor(
    private readonly config: EndpointerConfig,
    private readonly hooks: EndpointerHooks,
  ) {}

  /** Stops listening: a pause being waited out no longer ends its turn (the session closes). */
  dispose(): void {
    clearTimeout(this.utterance?.pendingEnd?.timer);
    this.utterance?.pendingEnd?.cancel.abort();
    this.utterance?.early?.cancel.abort();
    this.utterance = undefined;
  }

  /**
   * The VAD's stream was lost (its worker restarted) and a new one starts at stream time 0: the
   * utterance it was judging cannot be finished (its end will never come) and is dropped.
   */
  restart(): void {
    this.dispose();
    this.preroll.length = 0;
    this.prerollMs = 0;
    this.onsetVoicedUntilMs = undefined;
    this.endedBeforeVadPeakRms = undefined;
  }

  /** The utterance in progress, if any. */
  get current(): UtteranceInfo | undefined {
    return this.utterance;
  }

  /** The words agree with a provisional end (`EndedUtterance.provisional`): the turn stands. */
  confirm(id: number): void {
    const utterance = this.utterance;
    const pending = utterance?.pendingEnd;
    if (!utterance || utterance.id !== id || pending?.verdict !== 'provisional') return;
    this.forget(utterance);
    // Voice before the VAD ends this speech is new speech (the VAD will not say speech-start for it).
    if (!pending.vadEnded) this.endedBeforeVadPeakRms = utterance.peakRms;
  }

  /**
   * The words say the user goes on ("… about the", a short run-up, no words yet): the provisional end
   * is withdrawn and the pause waited out for `holdMs` from its speech end, as after an "incomplete" verdict.
   */
  reopen(id: number, holdMs: number, transcript?: string): void {
    const utterance = this.utterance;
    const pending = utterance?.pendingEnd;
    if (!utterance || utterance.id !== id || pending?.verdict !== 'provisional') return;
    clearTimeout(pending.timer);
    pending.silenceRanOut?.();
    pending.verdict = 'incomplete';
    pending.holdMs = holdMs;
    pending.transcript = transcript;
    pending.cancel = new AbortController();
    this.endAfterHold(utterance, pending);
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
        // The user goes on after a pause: the same turn continues; a verdict still on its way (or a
        // provisional end) is void.
        this.goOn(utterance);
      } else if (event.event === 'speech-end' && utterance?.pendingEnd?.vadEnded === false) {
        // The VAD's silence ran out on an end decided before it: a provisional end may stand now.
        utterance.pendingEnd.vadEnded = true;
        if (utterance.pendingEnd.verdict === 'provisional') {
          clearTimeout(utterance.pendingEnd.timer);
          utterance.pendingEnd.silenceRanOut?.();
        }
      } else if (event.event === 'speech-start' && !utterance) {
        this.endedBeforeVadPeakRms = undefined;
        utterance = this.begin(event.atMs, frame.pcm, frameEndMs, nowMs);
      } else if (event.event === 'speech-end' && !utterance) {
        // The VAD ends the speech an early verdict already ended as a turn.
        this.endedBeforeVadPeakRms = undefined;
      } else if (event.event === 'speech-end' && utterance && !utterance.pendingEnd) {
        const speechEndMs = nowMs - (frameEndMs - event.atMs);
        if (this.decideLater(utterance, event.atMs, speechEndMs)) continue;
        this.end(utterance, event.atMs, speechEndMs, nowMs);
        utterance = undefined;
      }
    }
    if (!utterance && this.endedBeforeVadPeakRms !== undefined && events.length === 0 && isVoiced(probability, rmsOf(frame.pcm), this.endedBeforeVadPeakRms)) {
      // Voice again after a turn an early verdict ended, before the VAD's silence ran out: the VAD
      // will not say speech-start for it (to the VAD it is the same speech), so it starts here.
      this.endedBeforeVadPeakRms = undefined;
      utterance = this.begin(frame.streamMs, frame.pcm, frameEndMs, nowMs);
    }
    if (!utterance) {
      this.keepPreroll(frame.pcm);
      this.trackOnset(probability >= 0.5, frame, frameEndMs, nowMs);
      return;
    }
    // Speech was confirmed: the session's speechStart took over what the onset began.
    this.onsetVoicedUntilMs = undefined;
    utterance.heardUntilStreamMs = frameEndMs;
    // Some VADs report their speaking state (hangover included) as the probability; the frame's
    // loudness relative to the utterance tells a short noise from sustained speech.
    const rms = rmsOf(frame.pcm);
    utterance.peakRms = Math.max(utterance.peakRms, rms);
    const loud = isVoiced(probability, rms, utterance.peakRms);
    utterance.floorRms = Math.min(utterance.floorRms, rms);
    const speaking = isStillSpeech(probability, rms, utterance.peakRms, utterance.floorRms);
    const beforeVad = utterance.pendingEnd?.vadEnded === false;
    if (beforeVad && speaking) {
      // An end decided before the VAD's silence ran out (provisional, or reopened by the words): the
      // voice coming back means the user goes on; the VAD will say no speech-start for it.
      this.goOn(utterance);
    } else if (utterance.pendingEnd?.verdict === 'provisional') {
      // Quiet frames wait for the session's word on it.
      return;
    }
    if (loud) utterance.voicedUntilStreamMs = frameEndMs;
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
    if (!pending) this.judgeEarly(utterance, speaking, frame.streamMs, frameEndMs);
    if (pending?.voicedUntilStreamMs !== undefined && probability >= 0.5) {
      pending.voicedUntilStreamMs = frameEndMs;
      if (pending.verdict === 'incomplete') this.endAfterHold(utterance, pending);
    }
    if (pending) {
      // A pause judged mid-thought ends the turn anyway once it lasts maxPauseMs.
      if (pending.verdict === 'incomplete' && frameEndMs - Math.max(pending.endStreamMs, pending.voicedUntilStreamMs ?? 0) >= pending.holdMs) {
        this.end(utterance, pending.endStreamMs, pending.speechEndMs, nowMs, pending.transcript);
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

  /** The user goes on after a pause: a verdict on its way, a hold or a provisional end is void; the utterance continues. */
  private goOn(utterance: UtteranceState): void {
    const pending = utterance.pendingEnd;
    if (!pending) return;
    clearTimeout(pending.timer);
    pending.cancel.abort();
    utterance.pendingEnd = undefined;
    utterance.unvoicedSinceStreamMs = undefined;
  }

  /**
   * The pause is judged finished before the VAD's silence has run out, or by the voice before the
   * words are in: the turn is reported as ended (its endpoint is now) and waits for the session's
   * `confirm` or `reopen`; voice coming back first withdraws it (`provisional.signal`).
   */
  private endProvisionally(utterance: UtteranceState, endStreamMs: number, speechEndMs: number, nowMs: number, verdict: EndOfTurnVerdict, cancel: AbortController, vadEnded: boolean): void {
    clearTimeout(utterance.pendingEnd?.timer);
    utterance.early = undefined;
    const pending: PendingEnd = { endStreamMs, speechEndMs, verdict: 'provisional', holdMs: this.config.endOfTurn?.maxPauseMs ?? 0, voicedUntilStreamMs: endStreamMs, transcript: undefined, timer: undefined, cancel, vadEnded };
    const silence = new Promise<void>((resolve) => (pending.silenceRanOut = resolve));
    // The VAD's speech end is behind, or the microphone may stop sending (push-to-talk released).
    if (vadEnded) pending.silenceRanOut!();
    else pending.timer = setTimeout(() => pending.silenceRanOut?.(), PROVISIONAL_SILENCE_TIMEOUT_MS);
    utterance.pendingEnd = pending;
    this.hooks.utterance({ ...this.ended(utterance, endStreamMs, speechEndMs, nowMs), transcript: verdict.transcript, transcriptLater: verdict.transcriptLater, provisional: { signal: cancel.signal, completeProbability: verdict.completeProbability, silence, beforeVad: !vadEnded, audioSoFar: () => concatPcm(utterance.frames) } });
  }

  /** A new utterance from `atStreamMs` (the pre-roll in front), reported to the session. */
  private begin(atStreamMs: number, pcm: Float32Array<ArrayBuffer>, frameEndMs: number, nowMs: number): UtteranceState {
    const utterance: UtteranceState = {
      id: this.nextId++,
      frames: [...this.preroll, pcm],
      startStreamMs: atStreamMs,
      voicedUntilStreamMs: frameEndMs,
      peakRms: 0,
      // The pre-roll is the room before the speech; with none (voice right after an early end) only the -40 dB rule counts.
      floorRms: this.preroll.length > 0 ? Math.min(...this.preroll.map((frame) => rmsOf(frame))) : 0,
      speechStartMs: nowMs - (frameEndMs - atStreamMs),
      overlapsAvatar: this.hooks.avatarSpeakingAt(nowMs),
      bargedIn: false,
      longOverlap: false,
      heardUntilStreamMs: frameEndMs,
      interimUntilStreamMs: atStreamMs,
      pendingEnd: undefined,
      unvoicedSinceStreamMs: undefined,
      early: undefined,
    };
    this.utterance = utterance;
    this.hooks.speechStart(utterance);
    return utterance;
  }

  /** Voice before speech is confirmed, over the avatar only (elsewhere the VAD's speech-start is soon enough). */
  private trackOnset(voiced: boolean, frame: MicFrame, frameEndMs: number, nowMs: number): void {
    if (voiced && this.onsetVoicedUntilMs === undefined) {
      if (!this.hooks.voiceOnset || !this.hooks.avatarSpeakingAt(nowMs)) return;
      this.onsetVoicedUntilMs = frameEndMs;
      this.hooks.voiceOnset(frame);
    } else if (voiced) {
      this.onsetVoicedUntilMs = frameEndMs;
    } else if (this.onsetVoicedUntilMs !== undefined && frameEndMs - this.onsetVoicedUntilMs >= ONSET_GIVE_UP_MS) {
      this.onsetVoicedUntilMs = undefined;
      this.hooks.voiceOnsetEnded?.();
    }
  }

  /**
   * A pause judged from its first unvoiced frames (`judgeAfterSilenceMs`; unvoiced: the VAD below
   * 0.5 or the frame quiet — 40 dB under the utterance's loudest or near the room's floor — which
   * comes sooner than silero's own fall):
   * the model and the words start before the VAD's end silence has run out; a voiced frame cancels
   * them (a gap between words). A "complete" verdict whose voice probability reaches the threshold
   * ends the turn at once, without waiting for the VAD's silence (others are taken at the VAD's
   * speech end); one that comes after the voice is back is void.
   */
  private judgeEarly(utterance: UtteranceState, voiced: boolean, frameStartMs: number, frameEndMs: number): void {
    if (voiced) {
      utterance.unvoicedSinceStreamMs = undefined;
      utterance.early?.cancel.abort();
      utterance.early = undefined;
      return;
    }
    const silentFromMs = (utterance.unvoicedSinceStreamMs ??= frameStartMs);
    const afterMs = this.config.endOfTurn?.judgeAfterSilenceMs;
    const score = this.hooks.scoreEndOfTurn;
    if (utterance.early || afterMs === undefined || !score || utterance.overlapsAvatar || frameEndMs - silentFromMs < afterMs || this.isNoise(utterance, silentFromMs)) return;
    const cancel = new AbortController();
    const verdict = score(concatPcm(utterance.frames), Math.min(silentFromMs, utterance.voicedUntilStreamMs) - utterance.startStreamMs, cancel.signal);
    const early: EarlyJudging = { verdict, cancel };
    utterance.early = early;
    // A cancelled one is never taken; a failed one is taken at the speech end.
    verdict.then(
      (judged) => {
        if (!judged.complete || cancel.signal.aborted || this.utterance !== utterance || utterance.early !== early || utterance.pendingEnd) return;
        // Before the VAD's silence, the voice itself must say finished: words alone (a question mark
        // whisper put at a gap, "What should I cook for dinner?" before "tonight") wait for the silence.
        if (judged.completeProbability < (this.config.endOfTurn?.completeThreshold ?? 0.5)) return;
        const nowMs = performance.now();
        const speechEndMs = nowMs - (utterance.heardUntilStreamMs - silentFromMs);
        // Before the VAD's silence has run out the end is provisional: voice coming back (a gap
        // between words) withdraws it; the words still being transcribed belong to it.
        this.endProvisionally(utterance, silentFromMs, speechEndMs, nowMs, judged, cancel, false);
      },
      () => undefined,
    );
  }

  /**
   * With an end-of-turn model, a pause after real speech is judged before the turn ends: true when
   * the decision is pending (the utterance stays open and keeps collecting audio meanwhile).
   */
  private decideLater(utterance: UtteranceState, endStreamMs: number, speechEndMs: number): boolean {
    if (utterance.overlapsAvatar) {
      // Speech over the avatar is judged by its words (backchannel or interruption), not by the end-of-turn model.
      const holdMs = this.config.overlapHoldMs;
      if (holdMs === undefined) return false;
      utterance.pendingEnd = { endStreamMs, speechEndMs, verdict: 'incomplete', holdMs, voicedUntilStreamMs: endStreamMs, transcript: undefined, timer: undefined, cancel: new AbortController() };
      this.endAfterHold(utterance, utterance.pendingEnd);
      return true;
    }
    const endOfTurn = this.config.endOfTurn;
    const score = this.hooks.scoreEndOfTurn;
    if (!endOfTurn || !score || this.isNoise(utterance, endStreamMs)) return false;
    // Judged since the silence began: its verdict is this pause's (no voice came back since).
    const early = utterance.early;
    utterance.early = undefined;
    const cancel = early?.cancel ?? new AbortController();
    const pending: PendingEnd = { endStreamMs, speechEndMs, verdict: 'scoring', holdMs: endOfTurn.maxPauseMs, voicedUntilStreamMs: endStreamMs, transcript: undefined, timer: undefined, cancel };
    utterance.pendingEnd = pending;
    const decide = (verdict: EndOfTurnVerdict): void => {
      if (this.utterance !== utterance || utterance.pendingEnd !== pending) return; // the user went on, or it ended otherwise
      pending.transcript = verdict.transcript;
      if (verdict.complete && verdict.transcript === undefined && verdict.transcriptLater) {
        this.endProvisionally(utterance, pending.endStreamMs, pending.speechEndMs, performance.now(), verdict, pending.cancel, true);
      } else if (verdict.complete) {
        this.end(utterance, pending.endStreamMs, pending.speechEndMs, performance.now(), pending.transcript, verdict.transcriptLater);
      } else {
        pending.verdict = 'incomplete';
        if (verdict.maxPauseMs !== undefined) pending.holdMs = Math.min(pending.holdMs, verdict.maxPauseMs);
        this.hooks.pauseKept?.(utterance, verdict.completeProbability);
        this.endAfterHold(utterance, pending);
      }
    };
    const verdict = early?.verdict ?? score(concatPcm(utterance.frames), Math.min(endStreamMs, utterance.voicedUntilStreamMs) - utterance.startStreamMs, cancel.signal);
    verdict.then(decide, () => decide({ complete: true, completeProbability: 1 }));
    return true;
  }

  /** A pause kept open ends after its hold even when the microphone stops sending (push-to-talk released). */
  private endAfterHold(utterance: UtteranceState, pending: PendingEnd): void {
    clearTimeout(pending.timer);
    const heldSinceMs = pending.voicedUntilStreamMs !== undefined && pending.voicedUntilStreamMs > pending.endStreamMs ? performance.now() : pending.speechEndMs;
    const waitMs = Math.max(0, pending.holdMs - (performance.now() - heldSinceMs));
    pending.timer = setTimeout(() => {
      if (this.utterance === utterance && utterance.pendingEnd === pending) this.end(utterance, pending.endStreamMs, pending.speechEndMs, performance.now(), pending.transcript);
    }, waitMs);
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

  /** The utterance is over for the endpointer: its timers and early judging stop, and the next one starts afresh. */
  private forget(utterance: UtteranceState): void {
    clearTimeout(utterance.pendingEnd?.timer);
    utterance.early?.cancel.abort();
    this.utterance = undefined;
    this.preroll.length = 0;
    this.prerollMs = 0;
  }

  private end(utterance: UtteranceState, endStreamMs: number, speechEndMs: number, endpointMs: number, transcript?: string, transcriptLater?: Promise<string | undefined>): void {
    this.forget(utterance);
    if (this.isNoise(utterance, endStreamMs)) {
      this.hooks.noise(utterance);
      return;
    }
    this.hooks.utterance({ ...this.ended(utterance, endStreamMs, speechEndMs, endpointMs), transcript, transcriptLater });
  }

  /** The utterance as a turn ending at `endStreamMs`. */
  private ended(utterance: UtteranceState, endStreamMs: number, speechEndMs: number, endpointMs: number): EndedUtterance {
    // A pause waited out adds silence after the speech: STT gets the speech and a short tail only
    // (whisper makes up words, "[BLANK_AUDIO]", in long silence).
    const pcm = concatPcm(utterance.frames);
    const extraMs = utterance.heardUntilStreamMs - (endStreamMs + TRAILING_SILENCE_KEPT_MS);
    const keep = extraMs > 0 ? Math.max(0, pcm.length - Math.round((extraMs * MIC_RATE_HZ) / 1000)) : pcm.length;
    return { id: utterance.id, speechStartMs: utterance.speechStartMs, overlapsAvatar: utterance.overlapsAvatar, pcm: keep < pcm.length ? pcm.slice(0, keep) : pcm, speechEndMs, endpointMs };
  }
}
