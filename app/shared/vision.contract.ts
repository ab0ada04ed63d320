import { z } from 'zod';

/**
 * What the camera's perception loop reports (renderer only: frames never leave the page), the short
 * summary of it the page sends the engine for the next turn's prompt, and the messages between the
 * page and its perception worker.
 */

/** Where the person looks: at the avatar (the camera), or away. */
export const Attention = { AtAvatar: 'at-avatar', Away: 'away' } as const;
export type Attention = (typeof Attention)[keyof typeof Attention];
export const AttentionSchema = z.enum(Attention);

/** Emotions the expression model names. */
export const ExpressionSchema = z.enum(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']);
export type Expression = z.infer<typeof ExpressionSchema>;

/** Gestures the loop recognises (a subset of the library's, in our words). */
export const VisionGesture = { Smile: 'smile', OpenPalm: 'open-palm', Wave: 'wave' } as const;
export type VisionGesture = (typeof VisionGesture)[keyof typeof VisionGesture];
export const VisionGestureSchema = z.enum(VisionGesture);

const unit = z.number().min(0).max(1);

/** The main (largest) face in the frame. */
export const MainFaceSchema = z.object({
  /** Centre of the face box in the image, 0 (left / top) … 1 (right / bottom), as the camera sees it (not mirrored). */
  x: unit,
  y: unit,
  /** Face box height over image height (how near the person is). */
  size: unit,
  /** Head rotation, radians: yaw positive when the person turns to their left; pitch positive looking up. */
  yawRad: z.number().min(-Math.PI).max(Math.PI),
  pitchRad: z.number().min(-Math.PI).max(Math.PI),
  attention: AttentionSchema,
  expression: ExpressionSchema,
  expressionScore: unit,
});
export type MainFace = z.infer<typeof MainFaceSchema>;

/** The hand the loop follows (the hand models run while someone is in view or the avatar speaks). */
export const SeenHandSchema = z.object({
  /** Centre of the hand box in the image, 0 (left / top) … 1 (right / bottom), as the camera sees it. */
  x: unit,
  y: unit,
  /** The finger pose is an open palm (all five fingers out; not a V-sign, a point or a thumb up). */
  openPalm: z.boolean(),
  /** Raised: above the main face's chin (or anywhere when no face is seen). */
  raised: z.boolean(),
});
export type SeenHand = z.infer<typeof SeenHandSchema>;

/**
 * The stages of one detection, run one after another in the perception worker: `face` (detector,
 * mesh and head rotation, iris, emotion), then `hands` (hand detector and finger pose) when asked.
 * A hold between them (the user started a turn) drops the stages not yet run.
 */
export const VisionStageSchema = z.enum(['face', 'hands']);
export type VisionStage = z.infer<typeof VisionStageSchema>;

/** One result of the perception loop (`vision.state`). */
export const VisionStateSchema = z.object({
  type: z.literal('vision.state'),
  /** Someone is in front of the camera. */
  present: z.boolean(),
  faces: z.number().int().nonnegative().max(100),
  mainFace: MainFaceSchema.nullable(),
  gestures: z.array(VisionGestureSchema).max(8),
  /** The hand in view; null when none is seen or the hand models did not run on this frame. */
  hand: SeenHandSchema.nullable(),
  /** When the frame was captured and when its result was ready (page `performance.now()` ms). */
  frameAtMs: z.number().nonnegative(),
  resultAtMs: z.number().nonnegative(),
  /** Time the models took on this frame (the stages that ran). */
  detectMs: z.number().nonnegative(),
  /** Milliseconds each stage that ran took on this frame. */
  stageMs: z.object({ face: z.number().nonnegative().optional(), hands: z.number().nonnegative().optional() }),
  /**
   * Stages asked for but not run: a hold (a turn began) dropped them. With `hands` missing, `hand`
   * is null for want of a look, not because no hand is in view.
   */
  missing: z.array(VisionStageSchema).max(2),
});
export type VisionState = z.infer<typeof VisionStateSchema>;

/** What the avatar sees, in the few facts a prompt line needs (`vision.summary`). */
export const VisionSummarySchema = z.object({
  present: z.boolean(),
  faces: z.number().int().nonnegative().max(100),
  attention: AttentionSchema.nullable(),
  expression: ExpressionSchema.nullable(),
  gestures: z.array(VisionGestureSchema).max(8),
});
export type VisionSummary = z.infer<typeof VisionSummarySchema>;

/** The summary of one perception result. */
export function summarizeVision(state: VisionState): VisionSummary {
  const face = state.mainFace;
  return {
    present: state.present,
    faces: state.faces,
    attention: face?.attention ?? null,
    // A weak guess at an emotion says nothing worth a prompt.
    expression: face && face.expressionScore >= 0.4 ? face.expression : null,
    gestures: state.gestures,
  };
}

const EXPRESSION_WORDS: Record<Expression, string | null> = {
  happy: 'looks happy',
  sad: 'looks sad',
  angry: 'looks annoyed',
  surprise: 'looks surprised',
  fear: 'looks worried',
  disgust: 'looks displeased',
  neutral: null,
};

/** One short line of what the avatar sees ("The user is smiling and looking at you."), for the turn's prompt. */
export function visionLine(summary: VisionSummary): string {
  if (!summary.present || summary.faces === 0) return 'Nobody is in front of the camera.';
  const parts: string[] = [];
  if (summary.gestures.includes('smile')) parts.push('is smiling');
  else {
    const words = summary.expression ? EXPRESSION_WORDS[summary.expression] : null;
    if (words) parts.push(words);
  }
  if (summary.gestures.includes('wave')) parts.push('is waving');
  if (summary.gestures.includes('open-palm')) parts.push('is holding up an open hand');
  if (summary.attention === 'at-avatar') parts.push('is looking at you');
  else if (summary.attention === 'away') parts.push('is looking away');
  const subject = summary.faces > 1 ? `The user (one of ${summary.faces} people in view)` : 'The user';
  if (parts.length === 0) return `${subject} is in front of you.`;
  const last = parts.pop()!;
  return `${subject} ${parts.length > 0 ? `${parts.join(', ')} and ${last}` : last}.`;
}

// ---- page ↔ perception worker ------------------------------------------------------------

/**
 * Inference backends of the perception worker. `auto`: WebGL on a real GPU, the CPU backend on a
 * software one (SwiftShader, llvmpipe: there WebGL spends tens of seconds compiling shaders and
 * seconds per frame). WASM needs @tensorflow/tfjs-backend-wasm's binaries, which the package does not carry.
 */
export const VisionBackendSchema = z.enum(['auto', 'webgl', 'wasm', 'cpu']);
export type VisionBackend = z.infer<typeof VisionBackendSchema>;

export const VisionWorkerRequestSchema = z.discriminatedUnion('type', [
  /** Load the models from `modelBaseUrl` (the app's own files). */
  z.object({ type: z.literal('load'), modelBaseUrl: z.string().min(1).max(2000), backend: VisionBackendSchema }),
  /**
   * One camera frame (transferred); answered with `vision.state`. `hands`: look for a hand too (the
   * hand models are the dearest; the page asks while the avatar speaks, for a raised palm, and while
   * someone is in view, for a wave).
   */
  z.object({ type: z.literal('frame'), frameAtMs: z.number().nonnegative(), hands: z.boolean(), bitmap: z.custom<ImageBitmap>((value) => typeof value === 'object' && value !== null) }),
  /**
   * `held`: the user started a turn (speaking, typing, a reply before its first audio): the frame
   * in progress stops after its current stage (its result says which stages are missing; a frame
   * whose face stage had not begun is answered with `dropped`) until `held: false`.
   */
  z.object({ type: z.literal('hold'), held: z.boolean() }),
]);
export type VisionWorkerRequest = z.infer<typeof VisionWorkerRequestSchema>;

export const VisionWorkerReplySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), loaded: unit }),
  z.object({ type: z.literal('ready'), backend: z.string(), loadMs: z.number().nonnegative() }),
  VisionStateSchema,
  /** A frame the worker did not look at (it was held before the first stage began). */
  z.object({ type: z.literal('dropped'), frameAtMs: z.number().nonnegative() }),
  z.object({ type: z.literal('error'), message: z.string(), fatal: z.boolean() }),
]);
export type VisionWorkerReply = z.infer<typeof VisionWorkerReplySchema>;
