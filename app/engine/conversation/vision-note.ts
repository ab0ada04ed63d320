import { visionLine, type VisionSummary } from '../../shared/vision.contract';
import type { VisionGreetReason } from '../../shared/messages.contract';
import type { ChatMessage } from '../../shared/worker.contract';

/** A summary older than this is not what the avatar sees now (the page refreshes it every few seconds while the camera is on). */
export const VISION_SUMMARY_MAX_AGE_MS = 15_000;

/** What the LLM is told when the camera sees someone arrive: the avatar speaks first. */
export const ARRIVAL_CUE = '(Someone has just come into view of your camera. Greet them in one short, friendly sentence.)';

/** What the LLM is told when the person in front of the camera waves at the avatar. */
export const WAVE_CUE = '(The person in front of your camera is waving at you. Wave back with one short, friendly sentence.)';

/** The cue of a camera greeting. */
export function greetingCue(reason: VisionGreetReason): string {
  return reason === 'wave' ? WAVE_CUE : ARRIVAL_CUE;
}

/** The line a turn's prompt gains from the camera: null with the camera off or a summary gone stale. */
export function visionNote(summary: VisionSummary | null, receivedAtMs: number, nowMs: number): string | null {
  if (!summary || nowMs - receivedAtMs > VISION_SUMMARY_MAX_AGE_MS) return null;
  // The LLM sees no image (node-llama-cpp 3.22 takes text only): it should not pretend to see details.
  return `Through your camera (you cannot make out details): ${visionLine(summary)}`;
}

/**
 * The LLM's messages with the camera's line as a system message just before the new user message.
 * The line is this turn's only (never kept in history), and it sits after the history so the
 * system prompt and earlier turns stay a cacheable prefix.
 */
export function withVisionNote(messages: readonly ChatMessage[], note: string | null): ChatMessage[] {
  if (note === null || messages.length === 0 || messages.at(-1)!.role !== 'user') return [...messages];
  return [...messages.slice(0, -1), { role: 'system', content: note }, messages.at(-1)!];
}
