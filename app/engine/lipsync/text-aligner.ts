import { AppError, ErrorCode } from '../../shared/errors.contract';
import { audibleRange } from '../../native-workers/tts/estimated-timeline';
import {
  alignToReference,
  DEFAULT_ALIGNMENT_OPTIONS,
  type AlignmentOptions,
  type AlignmentResult,
  type PcmClip,
} from '../../shared/lipsync/reference-alignment';
import type { EmbeddedVoice } from './embedded-voice';

/**
 * Phoneme timing for speech from any synthesizer, given its text: the embedded voice renders the
 * text at a speed that matches the target's speaking time, in each reference voice (a male and a
 * female variant, since DTW over MFCC prefers a similar timbre), and the best-fitting rendering's
 * exact timeline is warped onto the target (see reference-alignment.ts).
 */

export interface TextAlignerOptions {
  /** eSpeak voices to render the reference in; the one whose warp costs least wins. */
  referenceVoices: readonly string[];
  alignment: AlignmentOptions;
}

export const DEFAULT_TEXT_ALIGNER_OPTIONS: TextAlignerOptions = {
  referenceVoices: ['en-us', 'en-us+f2'],
  alignment: DEFAULT_ALIGNMENT_OPTIONS,
};

const MIN_SPEED = 0.5;
const MAX_SPEED = 2.5;

function audibleMs(clip: PcmClip): number {
  const range = audibleRange(clip.pcm, clip.sampleRateHz);
  return range ? ((range.endSample - range.startSample) * 1000) / clip.sampleRateHz : 0;
}

/** Aligns `text`'s phonemes (as the embedded voice phonemizes it) to `target`. */
export function alignTextToAudio(
  voice: EmbeddedVoice,
  text: string,
  target: PcmClip,
  options: TextAlignerOptions = DEFAULT_TEXT_ALIGNER_OPTIONS,
): AlignmentResult & { referenceVoice: string; referenceSpeed: number } {
  if (options.referenceVoices.length === 0) throw new AppError(ErrorCode.InvalidMessage, 'Alignment needs at least one reference voice.', false);
  const targetMs = audibleMs(target);
  let best: (AlignmentResult & { referenceVoice: string; referenceSpeed: number }) | null = null;
  for (const referenceVoice of options.referenceVoices) {
    const firstTry = voice.render(text, { voice: referenceVoice, speed: 1 });
    const firstMs = audibleMs(firstTry);
    // eSpeak's pace scales roughly with its rate, so one re-render matches the target's pace.
    const speed = targetMs > 0 && firstMs > 0 ? Math.min(MAX_SPEED, Math.max(MIN_SPEED, firstMs / targetMs)) : 1;
    const reference = Math.abs(speed - 1) < 0.05 ? firstTry : voice.render(text, { voice: referenceVoice, speed });
    const result = alignToReference(reference, target, options.alignment);
    if (!best || result.meanCost < best.meanCost) best = { ...result, referenceVoice, referenceSpeed: speed };
  }
  return best!;
}
