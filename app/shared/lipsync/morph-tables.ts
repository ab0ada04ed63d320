import { VISEMES, type Viseme } from '../phoneme.contract';
import type { VisemeWeights } from './viseme-track';

/**
 * Viseme → morph-target weights, one table per avatar format. A frame's morph weights are the
 * viseme weights mixed through the table (`visemeWeightsToMorphs`); "sil" maps to the rest pose.
 */

/** Avatar formats whose mouth morphs we know. */
export const AvatarFormat = {
  Arkit: 'arkit',
  Vrm1: 'vrm1',
  Vrm0: 'vrm0',
  Oculus: 'oculus',
  DefaultAvatar: 'default-avatar',
} as const;
export type AvatarFormat = (typeof AvatarFormat)[keyof typeof AvatarFormat];

/** The ARKit 52 blend shapes that speech moves. */
export const ArkitBlendShape = {
  JawOpen: 'jawOpen',
  MouthClose: 'mouthClose',
  MouthFunnel: 'mouthFunnel',
  MouthPucker: 'mouthPucker',
  MouthStretchLeft: 'mouthStretchLeft',
  MouthStretchRight: 'mouthStretchRight',
  MouthSmileLeft: 'mouthSmileLeft',
  MouthSmileRight: 'mouthSmileRight',
  MouthPressLeft: 'mouthPressLeft',
  MouthPressRight: 'mouthPressRight',
  MouthRollLower: 'mouthRollLower',
  MouthRollUpper: 'mouthRollUpper',
  MouthShrugUpper: 'mouthShrugUpper',
  MouthShrugLower: 'mouthShrugLower',
  MouthLowerDownLeft: 'mouthLowerDownLeft',
  MouthLowerDownRight: 'mouthLowerDownRight',
  MouthUpperUpLeft: 'mouthUpperUpLeft',
  MouthUpperUpRight: 'mouthUpperUpRight',
  TongueOut: 'tongueOut',
} as const;
export type ArkitBlendShape = (typeof ArkitBlendShape)[keyof typeof ArkitBlendShape];

/** VRM 1.0 mouth expression presets. */
export const Vrm1Expression = { Aa: 'aa', Ih: 'ih', Ou: 'ou', Ee: 'ee', Oh: 'oh' } as const;
export type Vrm1Expression = (typeof Vrm1Expression)[keyof typeof Vrm1Expression];

/** VRM 0.x mouth blend shape presets (UniVRM `BlendShapePreset` names). */
export const Vrm0Expression = { A: 'A', I: 'I', U: 'U', E: 'E', O: 'O' } as const;
export type Vrm0Expression = (typeof Vrm0Expression)[keyof typeof Vrm0Expression];

/** Oculus (Meta) viseme morph target names, as in Ready Player Me and the default avatar. */
export const OculusMorph = {
  sil: 'viseme_sil',
  PP: 'viseme_PP',
  FF: 'viseme_FF',
  TH: 'viseme_TH',
  DD: 'viseme_DD',
  kk: 'viseme_kk',
  CH: 'viseme_CH',
  SS: 'viseme_SS',
  nn: 'viseme_nn',
  RR: 'viseme_RR',
  aa: 'viseme_aa',
  E: 'viseme_E',
  ih: 'viseme_I',
  oh: 'viseme_O',
  ou: 'viseme_U',
} as const satisfies Record<Viseme, string>;
export type OculusMorph = (typeof OculusMorph)[keyof typeof OculusMorph];

/** Morph weights per viseme for one avatar format. */
export type MorphTable<Morph extends string = string> = Readonly<Record<Viseme, Readonly<Partial<Record<Morph, number>>>>>;

const both = <Left extends string, Right extends string>(left: Left, right: Right, weight: number): Partial<Record<Left | Right, number>> =>
  ({ [left]: weight, [right]: weight }) as Partial<Record<Left | Right, number>>;
const stretch = (weight: number) => both(ArkitBlendShape.MouthStretchLeft, ArkitBlendShape.MouthStretchRight, weight);
const smile = (weight: number) => both(ArkitBlendShape.MouthSmileLeft, ArkitBlendShape.MouthSmileRight, weight);
const press = (weight: number) => both(ArkitBlendShape.MouthPressLeft, ArkitBlendShape.MouthPressRight, weight);
const lowerDown = (weight: number) => both(ArkitBlendShape.MouthLowerDownLeft, ArkitBlendShape.MouthLowerDownRight, weight);
const upperUp = (weight: number) => both(ArkitBlendShape.MouthUpperUpLeft, ArkitBlendShape.MouthUpperUpRight, weight);

/** ARKit 52: jaw opening plus lip shapes per viseme. */
export const ARKIT_MORPH_TABLE: MorphTable<ArkitBlendShape> = {
  sil: {},
  PP: { jawOpen: 0.05, mouthClose: 0.05, ...press(0.6), mouthRollLower: 0.3, mouthRollUpper: 0.2 },
  FF: { jawOpen: 0.1, mouthClose: 0.1, mouthRollLower: 0.6, ...upperUp(0.25), mouthFunnel: 0.1 },
  TH: { jawOpen: 0.2, tongueOut: 0.5, ...stretch(0.1) },
  DD: { jawOpen: 0.2, ...stretch(0.15), ...lowerDown(0.2) },
  kk: { jawOpen: 0.25, ...stretch(0.2) },
  CH: { jawOpen: 0.15, mouthFunnel: 0.5, mouthPucker: 0.3, ...upperUp(0.2), ...lowerDown(0.2) },
  SS: { jawOpen: 0.08, ...stretch(0.35), ...smile(0.2), ...upperUp(0.1), ...lowerDown(0.1) },
  nn: { jawOpen: 0.15, ...stretch(0.1), ...lowerDown(0.1) },
  RR: { jawOpen: 0.15, mouthFunnel: 0.3, mouthPucker: 0.3, mouthShrugUpper: 0.15 },
  aa: { jawOpen: 0.7, ...lowerDown(0.3), ...upperUp(0.1) },
  E: { jawOpen: 0.4, ...stretch(0.35), ...smile(0.15), ...lowerDown(0.2) },
  ih: { jawOpen: 0.25, ...smile(0.35), ...stretch(0.25) },
  oh: { jawOpen: 0.45, mouthFunnel: 0.6, mouthPucker: 0.2 },
  ou: { jawOpen: 0.2, mouthPucker: 0.8, mouthFunnel: 0.4 },
};

/** VRM 1.0: five vowel expressions; consonants are small mixes of them, bilabials the closed rest pose. */
export const VRM1_MORPH_TABLE: MorphTable<Vrm1Expression> = {
  sil: {},
  PP: {},
  FF: { ih: 0.15, ou: 0.1 },
  TH: { aa: 0.15, ih: 0.15 },
  DD: { aa: 0.2, ih: 0.2 },
  kk: { aa: 0.3, ih: 0.15 },
  CH: { ou: 0.4, ih: 0.2 },
  SS: { ih: 0.4 },
  nn: { aa: 0.15, ih: 0.15 },
  RR: { ou: 0.4, oh: 0.2 },
  aa: { aa: 1 },
  E: { ee: 1 },
  ih: { ih: 1 },
  oh: { oh: 1 },
  ou: { ou: 1 },
};

const VRM1_TO_VRM0: Record<Vrm1Expression, Vrm0Expression> = { aa: 'A', ih: 'I', ou: 'U', ee: 'E', oh: 'O' };

function renameMorphs<From extends string, To extends string>(table: MorphTable<From>, rename: (morph: From) => To): MorphTable<To> {
  return Object.fromEntries(
    VISEMES.map((viseme) => [
      viseme,
      Object.fromEntries(Object.entries(table[viseme]).map(([morph, weight]) => [rename(morph as From), weight])),
    ]),
  ) as MorphTable<To>;
}

/** VRM 0.x: the VRM 1.0 table under the old preset names. */
export const VRM0_MORPH_TABLE: MorphTable<Vrm0Expression> = renameMorphs(VRM1_MORPH_TABLE, (morph) => VRM1_TO_VRM0[morph]);

/** Oculus viseme morphs: one morph per viseme. */
export const OCULUS_MORPH_TABLE: MorphTable<OculusMorph> = Object.fromEntries(
  VISEMES.map((viseme) => [viseme, { [OculusMorph[viseme]]: 1 }]),
) as MorphTable<OculusMorph>;

/**
 * The default (procedural) avatar has the Oculus viseme morphs; its other morphs (eyeBlinkLeft/Right,
 * mouthSmile, browInnerUp) belong to idle animation, so speech leaves them alone.
 */
export const DEFAULT_AVATAR_MORPH_TABLE: MorphTable<OculusMorph> = OCULUS_MORPH_TABLE;

/** The table of each avatar format. */
export const MORPH_TABLES: Readonly<Record<AvatarFormat, MorphTable>> = {
  arkit: ARKIT_MORPH_TABLE,
  vrm1: VRM1_MORPH_TABLE,
  vrm0: VRM0_MORPH_TABLE,
  oculus: OCULUS_MORPH_TABLE,
  'default-avatar': DEFAULT_AVATAR_MORPH_TABLE,
};

/** Every morph name a table drives (set them all each frame, so released shapes return to 0). */
export function morphTargetNames(table: MorphTable): string[] {
  const names = new Set<string>();
  for (const viseme of VISEMES) for (const morph of Object.keys(table[viseme])) names.add(morph);
  return [...names];
}

/**
 * Viseme weights → morph weights: each morph is the weight-sum of its entries in the table,
 * clamped to [0, 1]; every morph of the table is present (0 when unused). Pass `out` to reuse an object.
 */
export function visemeWeightsToMorphs(
  weights: Readonly<Partial<VisemeWeights>>,
  table: MorphTable,
  out: Record<string, number> = {},
): Record<string, number> {
  for (const viseme of VISEMES) for (const morph of Object.keys(table[viseme])) out[morph] = 0;
  for (const viseme of VISEMES) {
    const weight = weights[viseme] ?? 0;
    if (weight <= 0) continue;
    const entries = table[viseme] as Record<string, number>;
    for (const morph in entries) out[morph] = Math.min(1, out[morph]! + weight * entries[morph]!);
  }
  return out;
}
