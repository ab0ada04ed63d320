/**
 * Lip-sync, shared by the renderer and Node (pure TypeScript, no DOM, no Node APIs):
 * phoneme → viseme mapping, the coarticulated viseme track sampled on the audio clock, viseme →
 * morph tables per avatar format, alignment of a reference timeline onto other audio, and visemes
 * from audio alone.
 */
export { phonemeToViseme, phonemeToVisemes } from './phoneme-to-viseme';
export { DIPHTHONG_ONSET_SHARE, visemeAt, visemeSpansFromPhonemes, type VisemeSpan } from './viseme-spans';
export {
  buildVisemeTrack,
  buildVisemeTrackFromPhonemes,
  DEFAULT_VISEME_TRACK_OPTIONS,
  dominantViseme,
  emptyVisemeWeights,
  envelopeWeight,
  sampleVisemeWeights,
  type VisemeEnvelope,
  type VisemeTrack,
  type VisemeTrackOptions,
  type VisemeWeights,
} from './viseme-track';
export { ScheduledVisemeTrack, type ScheduledVisemeFrame } from './scheduled-viseme-track';
export {
  ARKIT_MORPH_TABLE,
  ArkitBlendShape,
  AvatarFormat,
  DEFAULT_AVATAR_MORPH_TABLE,
  MORPH_TABLES,
  morphTargetNames,
  OCULUS_MORPH_TABLE,
  OculusMorph,
  visemeWeightsToMorphs,
  VRM0_MORPH_TABLE,
  VRM1_MORPH_TABLE,
  Vrm0Expression,
  Vrm1Expression,
  type MorphTable,
} from './morph-tables';
export { alignToReference, type AlignmentResult, type PcmClip, type ReferenceClip } from './reference-alignment';
export { estimateVisemesFromAudio, estimateVisemesFromVolume, type VisemeClassifier, type VisemeTemplate } from './audio-visemes';
export { EMBEDDED_VOICE_VISEME_CLASSIFIER } from './viseme-classifier-model';
