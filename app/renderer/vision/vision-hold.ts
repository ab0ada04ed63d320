/**
 * When the perception loop leaves the CPU to a turn: from the moment the user starts one — types in
 * the message box, starts speaking — until the reply's first audio is heard. A detection takes
 * seconds on a CPU without a GPU; one still running while STT, the LLM and TTS work delays the
 * first audio by as much. Pure rules (unit-tested); `TurnActivity` records what the page saw.
 */

/** Why the loop takes no new frame (and the worker drops the rest of the frame in progress). */
export const VisionHoldReason = {
  /** The message box holds a draft the user is editing. */
  Typing: 'typing',
  /** The engine's VAD hears the user speaking. */
  Speaking: 'speaking',
  /** The user sent a message or stopped speaking; the engine has not started its turn yet. */
  TurnPending: 'turn-pending',
  /** A reply is on its way but not audible yet. */
  AwaitingFirstAudio: 'awaiting-first-audio',
} as const;
export type VisionHoldReason = (typeof VisionHoldReason)[(keyof typeof VisionHoldReason)];

/**
 * How long each sign of a turn holds at most: a draft left alone (the user walked away), a sent
 * message the engine has not started a turn for, speech whose end never came (a VAD event lost with
 * the connection), an utterance ended with no turn yet (STT at work, or the engine dropped it: noise,
 * no words). `voiceEpisode`: speech and its aftermath hold for at most this long from the first
 * speech-start of a run of them (each within `voiceQuiet` of the last) without a turn starting — a
 * noisy room, or a beep the VAD takes for speech every second, must not starve the loop.
 */
export const VISION_HOLD_LIMITS_MS = { draftIdle: 8_000, sent: 10_000, speech: 30_000, speechEnded: 5_000, voiceEpisode: 15_000, voiceQuiet: 5_000 } as const;

/** What the page knows of the turn the user may be starting (page clock, ms). */
export interface TurnActivitySnapshot {
  /** The last edit of a non-empty draft in the message box; null when the box is empty. */
  draftEditedAtMs: number | null;
  /** When the user sent a message the engine has not started a turn for yet; null: none pending. */
  sentAtMs: number | null;
  /** When the VAD heard the user start speaking; null when they are not speaking. */
  speechStartedAtMs: number | null;
  /** When the VAD heard the user stop speaking, with no turn started since; null: none pending. */
  speechEndedAtMs: number | null;
  /** The first VAD event of the current run of them with no turn started; null: none. */
  voiceSinceMs: number | null;
  /** A reply is on its way (the engine started a turn) and none of it has been heard yet. */
  awaitingFirstAudio: boolean;
}

/** The reason the loop holds at `nowMs`, or null when it may look. The reply's own wait comes first. */
export function visionHoldReason(activity: TurnActivitySnapshot, nowMs: number): VisionHoldReason | null {
  if (activity.awaitingFirstAudio) return VisionHoldReason.AwaitingFirstAudio;
  const within = (sinceMs: number | null, limitMs: number): boolean => sinceMs !== null && nowMs - sinceMs < limitMs;
  if (within(activity.sentAtMs, VISION_HOLD_LIMITS_MS.sent)) return VisionHoldReason.TurnPending;
  const voice = activity.voiceSinceMs === null || within(activity.voiceSinceMs, VISION_HOLD_LIMITS_MS.voiceEpisode);
  if (voice && within(activity.speechEndedAtMs, VISION_HOLD_LIMITS_MS.speechEnded)) return VisionHoldReason.TurnPending;
  if (voice && within(activity.speechStartedAtMs, VISION_HOLD_LIMITS_MS.speech)) return VisionHoldReason.Speaking;
  if (within(activity.draftEditedAtMs, VISION_HOLD_LIMITS_MS.draftIdle)) return VisionHoldReason.Typing;
  return null;
}

/** Records the signs of a turn as the page sees them (the runtime feeds it; the loop asks `visionHoldReason`). */
export class TurnActivity {
  private draftEditedAtMs: number | null = null;
  private sentAtMs: number | null = null;
  private speechStartedAtMs: number | null = null;
  private speechEndedAtMs: number | null = null;
  private voiceSinceMs: number | null = null;
  private lastVoiceAtMs = -Infinity;

  /** The message box's text changed. */
  draft(text: string, nowMs: number): void {
    this.draftEditedAtMs = text.trim() === '' ? null : nowMs;
  }

  /** The user sent a typed message: the draft is gone and a turn is due. */
  sent(nowMs: number): void {
    this.draftEditedAtMs = null;
    this.sentAtMs = nowMs;
  }

  /** The engine's VAD: speech started, or ended (a turn is due unless the engine drops the utterance). */
  vad(event: 'speech-start' | 'speech-end', nowMs: number): void {
    if (this.voiceSinceMs === null || nowMs - this.lastVoiceAtMs >= VISION_HOLD_LIMITS_MS.voiceQuiet) this.voiceSinceMs = nowMs;
    this.lastVoiceAtMs = nowMs;
    if (event === 'speech-start') {
      this.speechStartedAtMs = nowMs;
      return;
    }
    if (this.speechStartedAtMs !== null) this.speechEndedAtMs = nowMs;
    this.speechStartedAtMs = null;
  }

  /** The engine started a turn: from here the reply's wait for its first audio holds the loop. */
  turnStarted(): void {
    this.sentAtMs = null;
    this.speechEndedAtMs = null;
    this.voiceSinceMs = null;
  }

  /** The connection went: nothing the user did before it is pending any more. */
  reset(): void {
    this.draftEditedAtMs = null;
    this.sentAtMs = null;
    this.speechStartedAtMs = null;
    this.speechEndedAtMs = null;
    this.voiceSinceMs = null;
  }

  snapshot(awaitingFirstAudio: boolean): TurnActivitySnapshot {
    return {
      draftEditedAtMs: this.draftEditedAtMs,
      sentAtMs: this.sentAtMs,
      speechStartedAtMs: this.speechStartedAtMs,
      speechEndedAtMs: this.speechEndedAtMs,
      voiceSinceMs: this.voiceSinceMs,
      awaitingFirstAudio,
    };
  }
}
