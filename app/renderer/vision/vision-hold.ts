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
 * How long each sign of a turn holds at most: a draft left alone (the user walked away), speech
 * whose end never came (a VAD event lost with the connection), an utterance the engine dropped
 * (noise, no words: no turn follows it).
 */
export const VISION_HOLD_LIMITS_MS = { draftIdle: 8_000, speech: 30_000, turnPending: 10_000 } as const;

/** What the page knows of the turn the user may be starting (page clock, ms). */
export interface TurnActivitySnapshot {
  /** The last edit of a non-empty draft in the message box; null when the box is empty. */
  draftEditedAtMs: number | null;
  /** When the VAD heard the user start speaking; null when they are not speaking. */
  speechStartedAtMs: number | null;
  /** When the user sent a message or stopped speaking, with no turn started for it yet; null: none pending. */
  turnPendingSinceMs: number | null;
  /** A reply is on its way (the engine started a turn) and none of it has been heard yet. */
  awaitingFirstAudio: boolean;
}

/** The reason the loop holds at `nowMs`, or null when it may look. The reply's own wait comes first. */
export function visionHoldReason(activity: TurnActivitySnapshot, nowMs: number): VisionHoldReason | null {
  if (activity.awaitingFirstAudio) return VisionHoldReason.AwaitingFirstAudio;
  const within = (sinceMs: number | null, limitMs: number): boolean => sinceMs !== null && nowMs - sinceMs < limitMs;
  if (within(activity.turnPendingSinceMs, VISION_HOLD_LIMITS_MS.turnPending)) return VisionHoldReason.TurnPending;
  if (within(activity.speechStartedAtMs, VISION_HOLD_LIMITS_MS.speech)) return VisionHoldReason.Speaking;
  if (within(activity.draftEditedAtMs, VISION_HOLD_LIMITS_MS.draftIdle)) return VisionHoldReason.Typing;
  return null;
}

/** Records the signs of a turn as the page sees them (the runtime feeds it; the loop asks `visionHoldReason`). */
export class TurnActivity {
  private draftEditedAtMs: number | null = null;
  private speechStartedAtMs: number | null = null;
  private turnPendingSinceMs: number | null = null;

  /** The message box's text changed. */
  draft(text: string, nowMs: number): void {
    this.draftEditedAtMs = text.trim() === '' ? null : nowMs;
  }

  /** The user sent a typed message: the draft is gone and a turn is due. */
  sent(nowMs: number): void {
    this.draftEditedAtMs = null;
    this.turnPendingSinceMs = nowMs;
  }

  /** The engine's VAD: speech started, or ended (a turn is due unless the engine drops the utterance). */
  vad(event: 'speech-start' | 'speech-end', nowMs: number): void {
    if (event === 'speech-start') {
      this.speechStartedAtMs = nowMs;
      return;
    }
    if (this.speechStartedAtMs !== null) this.turnPendingSinceMs = nowMs;
    this.speechStartedAtMs = null;
  }

  /** The engine started a turn: from here the reply's wait for its first audio holds the loop. */
  turnStarted(): void {
    this.turnPendingSinceMs = null;
  }

  /** The connection went: nothing the user did before it is pending any more. */
  reset(): void {
    this.draftEditedAtMs = null;
    this.speechStartedAtMs = null;
    this.turnPendingSinceMs = null;
  }

  snapshot(awaitingFirstAudio: boolean): TurnActivitySnapshot {
    return { draftEditedAtMs: this.draftEditedAtMs, speechStartedAtMs: this.speechStartedAtMs, turnPendingSinceMs: this.turnPendingSinceMs, awaitingFirstAudio };
  }
}
