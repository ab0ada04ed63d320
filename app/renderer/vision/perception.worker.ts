import { Human, type Config, type FaceResult, type HandResult, type Result } from '@vladmandic/human';
import {
  ExpressionSchema,
  VisionWorkerRequestSchema,
  type MainFace,
  type SeenHand,
  type VisionGesture,
  type VisionBackend,
  type VisionStage,
  type VisionState,
  type VisionWorkerReply,
} from '../../shared/vision.contract';

/**
 * The camera's perception loop, off the page's main thread: Human (face box, mesh and rotation,
 * iris, emotion, hand and finger pose) on the frames the page transfers as ImageBitmaps, one at a
 * time. Models come from the app's own files (`load.modelBaseUrl`), never a CDN.
 */

/** The models that run: face (detector, mesh, iris, emotion) and one hand; no body, age/gender, objects. */
function humanConfig(modelBaseUrl: string, backend: string): Partial<Config> {
  return {
    backend: backend as Config['backend'],
    modelBasePath: modelBaseUrl,
    cacheModels: false,
    debug: false,
    async: true,
    warmup: 'none',
    // Frames arrive a few times a second: results may not be reused across frames this far apart.
    cacheSensitivity: 0,
    filter: { enabled: false },
    gesture: { enabled: true },
    face: {
      enabled: true,
      detector: { rotation: false, maxDetected: 4, minConfidence: 0.3, skipFrames: 0, skipTime: 0 },
      mesh: { enabled: true },
      iris: { enabled: true },
      emotion: { enabled: true, skipFrames: 0, skipTime: 0 },
      description: { enabled: false },
      antispoof: { enabled: false },
      liveness: { enabled: false },
      attention: { enabled: false },
    },
    hand: { enabled: true, maxDetected: 1, minConfidence: 0.5, skipFrames: 0, skipTime: 0, landmarks: true },
    body: { enabled: false },
    object: { enabled: false },
    segmentation: { enabled: false },
  };
}

/** Looking at the camera: head turned less than this (radians) either way. */
const ATTENTION_MAX_RAD = 0.35;
/** A happy face above this score counts as a smile. */
const SMILE_MIN_SCORE = 0.35;

const clamp01 = (value: number): number => Math.min(1, Math.max(0, value));
const clampAngle = (value: number | undefined): number => Math.max(-Math.PI, Math.min(Math.PI, Number.isFinite(value) ? value! : 0));

function mainFaceOf(faces: readonly FaceResult[], gestures: Result['gesture']): MainFace | null {
  const face = faces.reduce<FaceResult | null>((best, candidate) => (!best || candidate.boxRaw[3] > best.boxRaw[3] ? candidate : best), null);
  if (!face) return null;
  const [x, y, width, height] = face.boxRaw;
  const angle = face.rotation?.angle;
  const yawRad = clampAngle(angle?.yaw);
  const pitchRad = clampAngle(angle?.pitch);
  const irisAway = gestures.some((gesture) => 'iris' in gesture && gesture.iris === face.id && /^looking (left|right|up|down)$/.test(gesture.gesture));
  const attention = Math.abs(yawRad) < ATTENTION_MAX_RAD && Math.abs(pitchRad) < ATTENTION_MAX_RAD && !irisAway ? 'at-avatar' : 'away';
  const top = [...(face.emotion ?? [])].sort((a, b) => b.score - a.score)[0];
  const expression = ExpressionSchema.safeParse(top?.emotion);
  return {
    x: clamp01(x + width / 2),
    y: clamp01(y + height / 2),
    size: clamp01(height),
    yawRad,
    pitchRad,
    attention,
    expression: expression.success ? expression.data : 'neutral',
    expressionScore: expression.success ? clamp01(top!.score) : 0,
  };
}

/** Finger poses Human may name beside "open palm" for a hand that is not one (its open-palm rule is loose: a V-sign passes it). */
const NOT_OPEN_PALM = new Set(['victory', 'thumbs up', 'point', 'middle finger']);

/** The most confident hand of the hands stage: where it is, whether it is an open palm, and whether it is raised (its top above the face's chin). */
function seenHand(result: Result, face: MainFace | null): SeenHand | null {
  const index = result.hand.reduce<number>((best, hand, at) => (best < 0 || hand.score > result.hand[best]!.score ? at : best), -1);
  if (index < 0) return null;
  const hand: HandResult = result.hand[index]!;
  const poses = result.gesture.filter((gesture) => 'hand' in gesture && gesture.hand === index).map((gesture) => gesture.gesture as string);
  const openPalm = poses.includes('open palm') && !poses.some((pose) => NOT_OPEN_PALM.has(pose));
  const [x, y, width, height] = hand.boxRaw;
  // The mean of the landmarks (the box's width jumps with the finger poses it is fitted to).
  const points = hand.keypoints;
  const centreX = points.length > 0 && result.width > 0 ? points.reduce((sum, point) => sum + point[0], 0) / points.length / result.width : x + width / 2;
  return { x: clamp01(centreX), y: clamp01(y + height / 2), openPalm, raised: face === null || y < face.y + face.size / 2 };
}

/** What one frame's stages found: `faceResult` from the face stage, `handResult` from the hands stage (null: not run). */
function stateOf(faceResult: Result, handResult: Result | null, frameAtMs: number, stageMs: VisionState['stageMs'], missing: VisionStage[]): VisionState {
  const faces = faceResult.face.filter((face) => face.score > 0.3);
  const mainFace = mainFaceOf(faces, faceResult.gesture);
  const gestures: VisionGesture[] = [];
  if (mainFace && mainFace.expression === 'happy' && mainFace.expressionScore >= SMILE_MIN_SCORE) gestures.push('smile');
  const hand = handResult ? seenHand(handResult, mainFace) : null;
  if (hand?.openPalm && hand.raised) gestures.push('open-palm');
  const detectMs = (stageMs.face ?? 0) + (stageMs.hands ?? 0);
  return {
    type: 'vision.state',
    present: faces.length > 0,
    faces: Math.min(100, faces.length),
    mainFace,
    gestures,
    hand,
    frameAtMs,
    resultAtMs: frameAtMs + detectMs,
    detectMs,
    stageMs,
    missing,
  };
}

/** Side of the blank image the first (kernel-compiling) inference runs on. */
const WARMUP_SIDE_PX = 128;

let human: Human | null = null;

/** Whether WebGL here runs on a real GPU (not a software rasteriser). */
function hardwareWebGl(): boolean {
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
  if (!gl) return false;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return !/swiftshader|llvmpipe|software|softpipe/i.test(renderer);
}

/** The backend to run: `auto` picks WebGL on a real GPU, else the CPU. */
function chooseBackend(requested: VisionBackend): string {
  if (requested !== 'auto') return requested;
  return hardwareWebGl() ? 'webgl' : 'cpu';
}

function reply(message: VisionWorkerReply): void {
  self.postMessage(message);
}

async function load(modelBaseUrl: string, requested: VisionBackend): Promise<void> {
  const startedMs = performance.now();
  const backend = chooseBackend(requested);
  const instance = new Human(humanConfig(modelBaseUrl, backend));
  const timer = setInterval(() => reply({ type: 'progress', loaded: clamp01(instance.models.stats().percentageLoaded) }), 250);
  try {
    await instance.load();
    // Human falls back to another backend when the one asked for cannot start (WASM without its binaries): say so instead.
    if (instance.tf.getBackend() !== backend) throw new Error(`the ${backend} backend is not available here (running on ${instance.tf.getBackend() || 'none'})`);
    // The first inference compiles the backend's kernels: done here, not on the first camera frame.
    await instance.detect(new OffscreenCanvas(WARMUP_SIDE_PX, WARMUP_SIDE_PX));
  } finally {
    clearInterval(timer);
  }
  human = instance;
  reply({ type: 'progress', loaded: 1 });
  reply({ type: 'ready', backend: instance.tf.getBackend(), loadMs: performance.now() - startedMs });
}

/** The page's hold: a turn has begun, the remaining stages of the frame in progress are dropped. */
let held = false;

/** Lets the messages queued for the worker (a `hold`) in before the next stage. */
const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Which models each stage runs (Human keeps a detect call's overrides: every call sets both). */
const STAGE_CONFIG = {
  face: { face: { enabled: true }, hand: { enabled: false } },
  hands: { face: { enabled: false }, hand: { enabled: true } },
} as const satisfies Record<VisionStage, Partial<Config>>;

/** Runs one stage of a detection on the frame; its result and the milliseconds it took. */
async function runStage(instance: Human, stage: VisionStage, bitmap: ImageBitmap): Promise<{ result: Result; ms: number }> {
  const startedMs = performance.now();
  const result = await instance.detect(bitmap, STAGE_CONFIG[stage] as Partial<Config>);
  if (result.error) throw new Error(result.error);
  return { result, ms: performance.now() - startedMs };
}

/**
 * One frame, stage by stage (face, then hands when asked), checking the page's hold before each:
 * the longest a detection can run on after a turn begins is one stage, not the whole frame.
 */
async function detect(bitmap: ImageBitmap, frameAtMs: number, hands: boolean): Promise<void> {
  try {
    if (!human) throw new Error('The vision models are not loaded yet.');
    await nextTask();
    if (held) {
      reply({ type: 'dropped', frameAtMs });
      return;
    }
    const face = await runStage(human, 'face', bitmap);
    const stageMs: VisionState['stageMs'] = { face: face.ms };
    const missing: VisionStage[] = [];
    let handResult: Result | null = null;
    if (hands) {
      await nextTask();
      if (held) missing.push('hands');
      else {
        const stage = await runStage(human, 'hands', bitmap);
        handResult = stage.result;
        stageMs.hands = stage.ms;
      }
    }
    reply(stateOf(face.result, handResult, frameAtMs, stageMs, missing));
  } finally {
    bitmap.close();
  }
}

self.onmessage = (event: MessageEvent<unknown>) => {
  const request = VisionWorkerRequestSchema.safeParse(event.data);
  if (!request.success) {
    reply({ type: 'error', message: `Invalid perception request: ${request.error.message}`, fatal: false });
    return;
  }
  const message = request.data;
  if (message.type === 'hold') {
    held = message.held;
    return;
  }
  const work = message.type === 'load' ? load(message.modelBaseUrl, message.backend) : detect(message.bitmap, message.frameAtMs, message.hands);
  work.catch((error: unknown) =>
    reply({ type: 'error', message: error instanceof Error ? error.message : String(error), fatal: message.type === 'load' }),
  );
};
