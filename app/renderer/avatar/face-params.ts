/**
 * The default avatar's face is generated from a few muscle-like parameters. Each morph target is
 * the face built with one parameter set minus the neutral face, so every target shares one topology.
 */
export interface FaceParams {
  /** Jaw rotation, 0 closed … 1 wide open. */
  open: number;
  /** Upper lip lifted off the teeth (head units). */
  upperRaise: number;
  /** Mouth width factor (1 neutral, > 1 spread, < 1 narrow). */
  width: number;
  /** Lips rounded and pushed forward. */
  pucker: number;
  /** Corners up and out. */
  smile: number;
  /** Lips pressed together and thinned (bilabial closure). */
  press: number;
  /** Lower lip tucked under the upper teeth (f, v). */
  lowerTuck: number;
  /** Tongue tip between the teeth (th). */
  tongueOut: number;
  blinkLeft: number;
  blinkRight: number;
  browInnerUp: number;
}

export const NEUTRAL_FACE: FaceParams = {
  open: 0,
  upperRaise: 0,
  width: 1,
  pucker: 0,
  smile: 0,
  press: 0,
  lowerTuck: 0,
  tongueOut: 0,
  blinkLeft: 0,
  blinkRight: 0,
  browInnerUp: 0,
};

/** Morph target name → the face at weight 1. Oculus viseme names as Ready Player Me spells them. */
export const MORPH_TARGETS: Record<string, Partial<FaceParams>> = {
  viseme_sil: {},
  viseme_PP: { press: 1, width: 0.96 },
  viseme_FF: { open: 0.1, lowerTuck: 1, upperRaise: 0.012 },
  viseme_TH: { open: 0.22, tongueOut: 1, upperRaise: 0.008 },
  viseme_DD: { open: 0.3, width: 1.04, upperRaise: 0.008 },
  viseme_kk: { open: 0.42, width: 1.02, upperRaise: 0.006 },
  viseme_CH: { open: 0.22, pucker: 0.45, upperRaise: 0.02 },
  viseme_SS: { open: 0.1, width: 1.12, smile: 0.25, upperRaise: 0.014 },
  viseme_nn: { open: 0.22, upperRaise: 0.005 },
  viseme_RR: { open: 0.26, pucker: 0.4, upperRaise: 0.01 },
  viseme_aa: { open: 1, width: 1.04, upperRaise: 0.02 },
  viseme_E: { open: 0.55, width: 1.14, smile: 0.2, upperRaise: 0.018 },
  viseme_I: { open: 0.34, width: 1.18, smile: 0.3, upperRaise: 0.015 },
  viseme_O: { open: 0.72, pucker: 0.6, width: 0.82, upperRaise: 0.01 },
  viseme_U: { open: 0.32, pucker: 1, width: 0.7 },
  jawOpen: { open: 1 },
  mouthSmile: { smile: 1, width: 1.08 },
  eyeBlinkLeft: { blinkLeft: 1 },
  eyeBlinkRight: { blinkRight: 1 },
  browInnerUp: { browInnerUp: 1 },
};

export type MorphTargetName = keyof typeof MORPH_TARGETS;

/** How open the jaw is under a set of morph weights (for diagnostics and tests). */
export function mouthOpenness(weights: Readonly<Record<string, number>>): number {
  let open = 0;
  for (const [name, weight] of Object.entries(weights)) open += (MORPH_TARGETS[name]?.open ?? 0) * weight;
  return open;
}
