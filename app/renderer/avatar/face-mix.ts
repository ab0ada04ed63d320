import { AvatarFormat, MORPH_TABLES, morphTargetNames, OculusMorph, visemeWeightsToMorphs, type MorphTable } from '../../shared/lipsync';
import { VISEMES, type Viseme } from '../../shared/phoneme.contract';
import { MORPH_TARGETS } from './face-params';

/** Emotions the face can show on top of speech. */
export const EMOTIONS = ['neutral', 'happy', 'sad', 'surprised', 'angry'] as const;
export type Emotion = (typeof EMOTIONS)[number];

/** The layers of one frame, before they become one format's weight names. */
export interface FaceLayers {
  /** Lip-sync: weight per viseme (`sil` = rest). */
  visemes: Readonly<Partial<Record<Viseme, number>>>;
  blinkLeft: number;
  blinkRight: number;
  /** Idle / thinking / listening brow raise, 0..1. */
  browInnerUp: number;
  /** Resting smile from idle motion, 0..1. */
  smile: number;
  emotion: Emotion;
  /** How strongly the emotion shows, 0..1 (it fades in and out). */
  emotionWeight: number;
}

/** The non-mouth channels of a format: blink, brow and smile names, and what each emotion adds. */
interface FaceChannels {
  blinkLeft: string;
  blinkRight: string;
  browInnerUp?: string;
  smile: readonly string[];
  /** Emotion → weights it adds (a negative smile lowers the resting smile). */
  emotions: Readonly<Record<Emotion, Readonly<Record<string, number>>>>;
  /** Emotion expressions of VRM also move the mouth: they are damped while the mouth speaks. */
  emotionYieldsToSpeech: number;
}

const ARKIT_LIKE: FaceChannels = {
  blinkLeft: 'eyeBlinkLeft',
  blinkRight: 'eyeBlinkRight',
  browInnerUp: 'browInnerUp',
  smile: ['mouthSmileLeft', 'mouthSmileRight', 'mouthSmile'],
  emotions: {
    neutral: {},
    happy: { smile: 0.6, browInnerUp: 0.1 },
    sad: { smile: -0.4, browInnerUp: 0.7 },
    surprised: { browInnerUp: 0.9 },
    angry: { smile: -0.3, browDownLeft: 0.7, browDownRight: 0.7 },
  },
  emotionYieldsToSpeech: 0,
};

const CHANNELS: Readonly<Record<AvatarFormat, FaceChannels>> = {
  'default-avatar': { ...ARKIT_LIKE, smile: ['mouthSmile'] },
  arkit: ARKIT_LIKE,
  oculus: ARKIT_LIKE,
  vrm1: {
    blinkLeft: 'blinkLeft',
    blinkRight: 'blinkRight',
    smile: [],
    emotions: { neutral: {}, happy: { happy: 1 }, sad: { sad: 1 }, surprised: { surprised: 1 }, angry: { angry: 1 } },
    emotionYieldsToSpeech: 0.5,
  },
  vrm0: {
    blinkLeft: 'Blink_L',
    blinkRight: 'Blink_R',
    smile: [],
    // VRM 0.x has no "surprised" preset.
    emotions: { neutral: {}, happy: { Joy: 1 }, sad: { Sorrow: 1 }, surprised: {}, angry: { Angry: 1 } },
    emotionYieldsToSpeech: 0.5,
  },
};

const clamp01 = (value: number): number => Math.min(1, Math.max(0, value));

/** Jaw opening of a viseme mix (0 closed … 1 wide), measured on the default face's shapes. */
export function jawOpenness(visemes: Readonly<Partial<Record<Viseme, number>>>): number {
  let open = 0;
  for (const viseme of VISEMES) open += (visemes[viseme] ?? 0) * (MORPH_TARGETS[OculusMorph[viseme]]?.open ?? 0);
  return open;
}

/**
 * Layers speech, blinks, idle expression and emotion into one avatar format's weight names.
 * The mouth comes from the shared morph table untouched; blinks and brows never touch the mouth;
 * smiles and VRM emotion expressions (which move the lips) are damped while the mouth speaks, so
 * emotion never fights the visemes. Reuses one output object: no allocation per frame.
 */
export class FaceMixer {
  readonly names: readonly string[];
  private readonly table: MorphTable;
  private readonly channels: FaceChannels;
  private readonly out: Record<string, number> = {};

  constructor(readonly format: AvatarFormat) {
    this.table = MORPH_TABLES[format];
    this.channels = CHANNELS[format];
    const names = new Set(morphTargetNames(this.table));
    const { blinkLeft, blinkRight, browInnerUp, smile, emotions } = this.channels;
    for (const name of [blinkLeft, blinkRight, ...(browInnerUp ? [browInnerUp] : []), ...smile]) names.add(name);
    for (const added of Object.values(emotions)) for (const name of Object.keys(added)) if (name !== 'smile' && name !== 'browInnerUp') names.add(name);
    this.names = [...names];
  }

  mix(layers: FaceLayers): Readonly<Record<string, number>> {
    const out = this.out;
    for (const name of this.names) out[name] = 0;
    visemeWeightsToMorphs(layers.visemes, this.table, out);
    const channels = this.channels;
    const speech = clamp01(1 - (layers.visemes.sil ?? 0));
    const emotion = channels.emotions[layers.emotion];
    const emotionWeight = layers.emotionWeight * (1 - channels.emotionYieldsToSpeech * speech);

    out[channels.blinkLeft] = clamp01(layers.blinkLeft);
    out[channels.blinkRight] = clamp01(layers.blinkRight);
    if (channels.browInnerUp) out[channels.browInnerUp] = clamp01(layers.browInnerUp + (emotion.browInnerUp ?? 0) * emotionWeight);
    // Smiles widen the lips: they fade while the mouth is busy with speech shapes.
    const smile = clamp01((layers.smile + (emotion.smile ?? 0) * emotionWeight) * (1 - 0.6 * speech));
    for (const name of channels.smile) out[name] = Math.max(out[name] ?? 0, smile);
    for (const name in emotion) {
      if (name === 'smile' || name === 'browInnerUp') continue;
      out[name] = clamp01((out[name] ?? 0) + emotion[name]! * emotionWeight);
    }
    return out;
  }
}
