import { describe, expect, it } from 'vitest';
import { TurnActivity, VISION_HOLD_LIMITS_MS, visionHoldReason, type TurnActivitySnapshot } from '../../app/renderer/vision/vision-hold';

const idle: TurnActivitySnapshot = { draftEditedAtMs: null, sentAtMs: null, speechStartedAtMs: null, speechEndedAtMs: null, voiceSinceMs: null, awaitingFirstAudio: false };

describe('the vision hold', () => {
  it('lets the loop look while nobody starts a turn', () => {
    expect(visionHoldReason(idle, 1_000)).toBeNull();
  });

  it('holds from the first keystroke of a draft, and lets go of a draft left alone', () => {
    const activity = new TurnActivity();
    activity.draft('H', 1_000);
    expect(visionHoldReason(activity.snapshot(false), 1_000)).toBe('typing');
    expect(visionHoldReason(activity.snapshot(false), 1_000 + VISION_HOLD_LIMITS_MS.draftIdle - 1)).toBe('typing');
    expect(visionHoldReason(activity.snapshot(false), 1_000 + VISION_HOLD_LIMITS_MS.draftIdle)).toBeNull();
    // Another keystroke holds again; a box emptied (or only spaces) does not.
    activity.draft('Hi', 20_000);
    expect(visionHoldReason(activity.snapshot(false), 20_001)).toBe('typing');
    activity.draft('  ', 20_002);
    expect(visionHoldReason(activity.snapshot(false), 20_003)).toBeNull();
  });

  it('holds from a sent message through the turn until the reply is heard', () => {
    const activity = new TurnActivity();
    activity.draft('What is two plus two?', 1_000);
    activity.sent(1_100);
    // Between the send and the engine's turn.started (the page's own activeTurnId is still null).
    expect(visionHoldReason(activity.snapshot(false), 1_150)).toBe('turn-pending');
    activity.turnStarted();
    expect(visionHoldReason(activity.snapshot(true), 1_200)).toBe('awaiting-first-audio');
    // First audio heard: the loop may look again (at the reply's slower pace).
    expect(visionHoldReason(activity.snapshot(false), 1_900)).toBeNull();
    // A message with no turn for it (the engine refused it) holds no longer than its limit.
    activity.sent(5_000);
    expect(visionHoldReason(activity.snapshot(false), 5_000 + VISION_HOLD_LIMITS_MS.sent - 1)).toBe('turn-pending');
    expect(visionHoldReason(activity.snapshot(false), 5_000 + VISION_HOLD_LIMITS_MS.sent)).toBeNull();
  });

  it('holds while the user speaks and until a turn starts for what they said, or the utterance is dropped', () => {
    const activity = new TurnActivity();
    activity.vad('speech-start', 5_000);
    expect(visionHoldReason(activity.snapshot(false), 6_000)).toBe('speaking');
    activity.vad('speech-end', 7_000);
    expect(visionHoldReason(activity.snapshot(false), 7_300)).toBe('turn-pending');
    // No turn came (noise, no words): the hold ends on its own.
    expect(visionHoldReason(activity.snapshot(false), 7_000 + VISION_HOLD_LIMITS_MS.speechEnded)).toBeNull();
    // A turn for what they said: the reply's wait takes over, and the next utterance holds anew.
    activity.vad('speech-start', 20_000);
    activity.vad('speech-end', 21_000);
    activity.turnStarted();
    expect(visionHoldReason(activity.snapshot(true), 21_500)).toBe('awaiting-first-audio');
    expect(visionHoldReason(activity.snapshot(false), 22_000)).toBeNull();
    // Speech whose end never came holds no longer than its limit (nor than a voice episode's).
    activity.vad('speech-start', 40_000);
    expect(visionHoldReason(activity.snapshot(false), 40_000 + VISION_HOLD_LIMITS_MS.voiceEpisode - 1)).toBe('speaking');
    expect(visionHoldReason(activity.snapshot(false), 40_000 + Math.min(VISION_HOLD_LIMITS_MS.speech, VISION_HOLD_LIMITS_MS.voiceEpisode))).toBeNull();
  });

  it('noise the VAD takes for speech over and over, with no turn, stops holding after a voice episode', () => {
    const activity = new TurnActivity();
    // A beep every second (Chromium's fake microphone): speech-start, speech-end, never a turn.
    const held: (string | null)[] = [];
    for (let atMs = 0; atMs < 60_000; atMs += 1_000) {
      activity.vad('speech-start', atMs);
      activity.vad('speech-end', atMs + 200);
      held.push(visionHoldReason(activity.snapshot(false), atMs + 500));
    }
    expect(held.slice(0, VISION_HOLD_LIMITS_MS.voiceEpisode / 1_000)).not.toContain(null);
    expect(held.slice(VISION_HOLD_LIMITS_MS.voiceEpisode / 1_000)).toEqual(held.slice(VISION_HOLD_LIMITS_MS.voiceEpisode / 1_000).map(() => null));
    // Quiet for a while: the next utterance is a new episode and holds again; typing holds regardless.
    activity.vad('speech-start', 60_000 + VISION_HOLD_LIMITS_MS.voiceQuiet);
    expect(visionHoldReason(activity.snapshot(false), 60_001 + VISION_HOLD_LIMITS_MS.voiceQuiet)).toBe('speaking');
    activity.draft('Hello', 90_000);
    expect(visionHoldReason(activity.snapshot(false), 90_001)).toBe('typing');
  });

  it('a speech end without a start (the page joined mid-utterance) starts no pending turn', () => {
    const activity = new TurnActivity();
    activity.vad('speech-end', 1_000);
    expect(visionHoldReason(activity.snapshot(false), 1_001)).toBeNull();
  });

  it('forgets everything when the connection goes', () => {
    const activity = new TurnActivity();
    activity.draft('Hello', 1_000);
    activity.vad('speech-start', 1_000);
    activity.sent(1_100);
    activity.reset();
    expect(activity.snapshot(false)).toEqual(idle);
  });
});
