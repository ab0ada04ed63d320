import type { AvatarState } from '../state/diagnostics';
import type { Emotion } from './face-mix';

/** Words that set the tone of a reply; the last match wins, as the reply streams in. */
const CUES: ReadonlyArray<readonly [Emotion, RegExp]> = [
  ['happy', /\b(happy|glad|great|love|lovely|wonderful|delighted|enjoy|fun|yay|haha|thank you|thanks)\b|[😀😊😄🙂]/giu],
  ['sad', /\b(sorry|sad|unfortunately|afraid|miss|lost|regret)\b|[😢😞]/giu],
  ['surprised', /\b(wow|amazing|incredible|really\?|no way|unbelievable)\b|[😮😲]/giu],
  ['angry', /\b(angry|annoyed|furious|unacceptable)\b|[😠😡]/giu],
];

/** The emotion a reply's words suggest (neutral when none). */
export function emotionFromText(text: string): Emotion {
  let best: { emotion: Emotion; at: number } = { emotion: 'neutral', at: -1 };
  for (const [emotion, pattern] of CUES) {
    for (const match of text.matchAll(pattern)) if (match.index > best.at) best = { emotion, at: match.index };
  }
  return best.emotion;
}

/**
 * The emotion shown on the face: set from the reply being spoken, it eases in while speaking
 * and fades out a little after the reply ends. Frame-rate independent.
 */
export class EmotionState {
  emotion: Emotion = 'neutral';
  weight = 0;
  private lingerSec = 0;

  update(replyText: string, state: AvatarState, dtSec: number): void {
    const wanted = state === 'speaking' ? emotionFromText(replyText) : 'neutral';
    if (wanted !== 'neutral') {
      if (wanted !== this.emotion) {
        // Switch through neutral: fade the old emotion out before the new one shows.
        this.weight = Math.max(0, this.weight - dtSec * 4);
        if (this.weight === 0) this.emotion = wanted;
        return;
      }
      this.lingerSec = 1.5;
      this.weight = Math.min(1, this.weight + dtSec * 2.5);
      return;
    }
    this.lingerSec = Math.max(0, this.lingerSec - dtSec);
    if (this.lingerSec === 0) this.weight = Math.max(0, this.weight - dtSec * 1.2);
    if (this.weight === 0) this.emotion = 'neutral';
  }
}
