import type { BackgroundMode } from '../../shared/settings.contract';
import type { TurnTrace } from '../../shared/trace.contract';
import type { AvatarInfo } from '../avatar/avatar-rig';
import type { EngineClient } from '../transport/engine-client';
import type { TranscriptEntry } from './conversation-store';

export type AvatarState = 'idle' | 'listening' | 'thinking' | 'speaking';

/** The renderer's read-only diagnostics (shared/design/measurement.md), plain JSON. */
export interface AvatarDiagnostics {
  state: AvatarState;
  fps: number;
  frame: number;
  audioTimeSec: number;
  outputLatencySec: number;
  audioContextState: string;
  viseme: string;
  morphWeights: Record<string, number>;
  /** Jaw opening implied by the applied morph weights (0 closed … 1 wide). */
  mouthOpen: number;
  lastTurn: TurnTrace | null;
  /** Mouth vs audio on the frame just drawn, ms (positive: mouth late). */
  avOffsetMs: number;
  /** p95 of |avOffsetMs| over the recent speaking frames. */
  avOffsetAbsMsP95: number;
  chunksPlayed: number;
  transport: EngineClient['kind'];
  connection: string;
  /** The engine reports every worker warm. */
  engineReady: boolean;
  sessionId: string | null;
  replyText: string;
  transcript: Pick<TranscriptEntry, 'role' | 'text'>[];
  errors: string[];
  /** Microphone capture (audio/mic-capture.ts). */
  mic: MicDiagnostics;
  /** The avatar on stage: built-in or loaded from a file, and the morph table driving its mouth. */
  avatar: AvatarInfo;
  /** The emotion on the face and how strongly it shows (0..1). */
  emotion: string;
  emotionWeight: number;
  background: BackgroundMode;
  /** Where the avatar looks this frame (radians; yaw positive towards its left, pitch up). */
  gaze: { yaw: number; pitch: number; headYaw: number };
  /** The camera and its perception loop. */
  vision: VisionDiagnostics;
  /** What the last frame cost the GL: draw calls and triangles submitted (three.js renderer info). */
  render: { drawCalls: number; triangles: number };
}

/** The `vision` part of the diagnostics (no image data: positions and labels only). */
export interface VisionDiagnostics {
  active: boolean;
  status: string;
  loadProgress: number;
  backend: string | null;
  loadMs: number | null;
  framesProcessed: number;
  present: boolean;
  faces: number;
  /** The main face's centre in the image (0 left … 1 right), null when nobody is seen. */
  faceX: number | null;
  gestures: string[];
  lastDetectMs: number | null;
  greetingTurns: number;
  palmStops: number;
  /** Waves recognised. */
  waves: number;
  /** The hand's centre in the image (0 left … 1 right), null when no hand is seen. */
  handX: number | null;
  /** Why the loop holds for a turn now (typing, speaking, turn-pending, awaiting-first-audio), null when it looks. */
  held: string | null;
  /** Holds begun, and frames a hold cut short (stages dropped or the frame not looked at). */
  holds: number;
  framesCut: number;
  /** Milliseconds each stage of the last result took (face, hands), and the stages a hold dropped from it. */
  lastStageMs: { face?: number; hands?: number } | null;
  lastMissing: string[];
}

/** The `mic` part of the diagnostics. */
export interface MicDiagnostics {
  active: boolean;
  /** Input level of the last frame, 0 (≤ -60 dBFS) … 1 (0 dBFS). */
  level: number;
  framesSent: number;
}

let micSource = (): MicDiagnostics => ({ active: false, level: 0, framesSent: 0 });

/** The microphone's part of the current snapshot (the avatar listens to the voice level). */
export function micDiagnostics(): MicDiagnostics {
  return micSource();
}

/** The microphone registers where its part of every snapshot comes from. */
export function setMicDiagnosticsSource(source: () => MicDiagnostics): void {
  micSource = source;
}

declare global {
  interface Window {
    /** Read-only snapshot for the latency overlay and tests; replaced every frame. */
    avatarDiagnostics?: Readonly<AvatarDiagnostics>;
  }
}

/** Publishes a new frozen snapshot as `window.avatarDiagnostics`. */
export function publishDiagnostics(snapshot: Omit<AvatarDiagnostics, 'mic'>): void {
  window.avatarDiagnostics = Object.freeze({ ...snapshot, mic: micSource() });
}
