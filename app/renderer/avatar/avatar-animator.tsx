import { useFrame } from '@react-three/fiber';
import { type RefObject, useEffect, useMemo, useRef } from 'react';
import type { AvatarFormat } from '../../shared/lipsync';
import { lipSyncProbe } from '../lipsync/lipsync-probe';
import { avatarState } from '../state/avatar-state';
import { micDiagnostics, publishDiagnostics, type VisionDiagnostics } from '../state/diagnostics';
import type { VisionSnapshot } from '../vision/vision-loop';
import type { Runtime } from '../state/runtime';
import type { AvatarInfo, AvatarPose, AvatarRig } from './avatar-rig';
import { getBackgroundMode } from './background-mode';
import { EmotionState } from './emotion';
import { FaceMixer, type FaceLayers, jawOpenness } from './face-mix';
import { IdleMotion } from './idle-motion';

const OFFSET_WINDOW = 240;
/** How much smile the avatar adds when the person in front of the camera smiles. */
const MIRRORED_SMILE = 0.45;

/** Animation values other scene parts read each frame (written by the animator). */
export interface SceneMotion {
  /** The thinking look, 0..1 (the thought indicator follows it). */
  thinking: number;
}

/**
 * The audio context time of the sample being heard right now, from the context's output
 * timestamp extrapolated to this instant: independent of `currentTime`'s render-quantum steps.
 */
function heardNowSec(context: AudioContext, fallbackSec: number): number {
  const stamp = context.getOutputTimestamp?.();
  if (!stamp || !stamp.contextTime || !stamp.performanceTime) return fallbackSec;
  return stamp.contextTime + (performance.now() - stamp.performanceTime) / 1000;
}

function percentile95(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))]!;
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;

/** The camera's part of the diagnostics. */
function visionDiagnostics(snapshot: VisionSnapshot): VisionDiagnostics {
  const last = snapshot.last;
  return {
    active: snapshot.active,
    status: snapshot.status,
    loadProgress: round3(snapshot.loadProgress),
    backend: snapshot.backend,
    loadMs: snapshot.loadMs,
    framesProcessed: snapshot.framesProcessed,
    present: last?.present ?? false,
    faces: last?.faces ?? 0,
    faceX: last?.mainFace ? round3(last.mainFace.x) : null,
    gestures: last?.gestures ?? [],
    lastDetectMs: last ? Math.round(last.detectMs) : null,
    greetingTurns: snapshot.greetingTurns,
    palmStops: snapshot.palmStops,
    waves: snapshot.waves,
    handX: last?.hand ? round3(last.hand.x) : null,
    held: snapshot.held,
    holds: snapshot.holds,
    framesCut: snapshot.framesCut,
    lastStageMs: last ? Object.fromEntries(Object.entries(last.stageMs).map(([stage, ms]) => [stage, Math.round(ms)])) : null,
    lastMissing: last?.missing ?? [],
  };
}

/** Before the first avatar has mounted: the built-in one is on its way. */
const NO_AVATAR: AvatarInfo = Object.freeze({ kind: 'default', name: 'Default avatar', format: 'default-avatar' });

/**
 * The per-frame loop: samples lip-sync on the audio clock, layers blinks, idle life and emotion on
 * top (face-mix.ts), applies the weights to whichever avatar is on stage, renders, then measures
 * how far the drawn mouth is from the heard audio and publishes `window.avatarDiagnostics`.
 * Mutates refs only: no React state changes per frame.
 */
export function AvatarAnimator({ runtime, rigRef, motion }: { runtime: Runtime; rigRef: RefObject<AvatarRig | null>; motion: SceneMotion }) {
  const idle = useMemo(() => new IdleMotion(), []);
  const emotion = useMemo(() => new EmotionState(), []);
  const stats = useRef({ frame: 0, frameTimesMs: [] as number[], offsetsMs: [] as number[], lastMouthOpen: 0, mirroredSmile: 0 });
  const mixers = useMemo(() => new Map<AvatarFormat, FaceMixer>(), []);
  const layers = useRef<FaceLayers>({ visemes: {}, blinkLeft: 0, blinkRight: 0, browInnerUp: 0, smile: 0, emotion: 'neutral', emotionWeight: 0 });

  /** The last frame's idle clock and audio pick time: maps an audio time to the idle clock. */
  const frameClock = useRef({ idleSec: 0, pickSec: 0 });
  /** The last frame's pose (VMC samples between frames keep it). */
  const lastPose = useRef<AvatarPose | null>(null);

  const mixerFor = useMemo(
    () => (format: AvatarFormat) => {
      let mixer = mixers.get(format);
      if (!mixer) mixers.set(format, (mixer = new FaceMixer(format)));
      return mixer;
    },
    [mixers],
  );

  /** The face for an audio time: lip-sync and blinks at that time plus this frame's other layers, in the rig's names. */
  const faceAt = useMemo(
    () => (audioTimeSec: number) => {
      const blink = idle.blinkAt(frameClock.current.idleSec + (audioTimeSec - frameClock.current.pickSec));
      layers.current.blinkLeft = blink;
      layers.current.blinkRight = blink;
      const mouth = runtime.lipSync.sample(audioTimeSec);
      layers.current.visemes = mouth.weights;
      const weights = mixerFor(rigRef.current?.info.format ?? 'default-avatar').mix(layers.current);
      return { viseme: mouth.viseme, weights, mouthOpen: jawOpenness(mouth.weights) };
    },
    [runtime, rigRef, mixerFor, idle],
  );

  /** The VMC names' weights of the layers just computed: the rig's own when it is a VRM 1.0 avatar. */
  const vmcWeights = useMemo(
    () => (rigWeights: Readonly<Record<string, number>>) => (rigRef.current?.info.format === 'vrm1' ? rigWeights : mixerFor('vrm1').mix(layers.current)),
    [rigRef, mixerFor],
  );

  useEffect(() => lipSyncProbe.attach(() => runtime.player.audibleTimeSec(), faceAt), [runtime, faceAt]);
  useEffect(
    () =>
      runtime.vmc.attach(() => {
        const pose = lastPose.current;
        if (!pose) return null;
        const audioTimeSec = runtime.player.audibleTimeSec();
        return { audioTimeSec, weights: vmcWeights(faceAt(audioTimeSec).weights), pose };
      }),
    [runtime, faceAt, vmcWeights],
  );

  // Priority 1: this callback renders the frame itself, so it can measure after drawing.
  useFrame((three, deltaSec) => {
    const { player, store } = runtime;
    const context = player.context;
    const s = stats.current;
    const nowMs = performance.now();
    const dtSec = Math.min(deltaSec, 0.1);
    s.frame += 1;
    s.frameTimesMs.push(nowMs);
    while (s.frameTimesMs.length > 0 && s.frameTimesMs[0]! < nowMs - 1000) s.frameTimesMs.shift();

    // The time used to pick the mouth shape: the audio clock corrected for output latency.
    const pickSec = player.audibleTimeSec();
    const conversation = store.getSnapshot();
    const activeTurnId = conversation.activeTurnId;
    const audible = player.isAudible(pickSec);
    const state = avatarState({
      audible,
      audioPending: player.hasPendingAudio(pickSec),
      turnActive: activeTurnId !== null,
      turnAudioStarted: activeTurnId !== null && player.hasStarted(activeTurnId),
      listening: conversation.listening,
    });
    let replyText = '';
    for (let i = conversation.entries.length - 1; i >= 0; i--) {
      if (conversation.entries[i]!.role === 'avatar') {
        replyText = conversation.entries[i]!.text;
        break;
      }
    }

    const mic = micDiagnostics();
    const vision = runtime.vision;
    const idleFrame = idle.update(three.clock.elapsedTime, dtSec, state, s.lastMouthOpen, mic.active ? mic.level : 0, vision.lookTarget);
    emotion.update(replyText, state, dtSec);
    frameClock.current.idleSec = three.clock.elapsedTime;
    frameClock.current.pickSec = pickSec;
    const layer = layers.current;
    layer.browInnerUp = idleFrame.browInnerUp;
    // A smile seen is a smile mirrored (eased in and out with the rest of the face).
    s.mirroredSmile += ((vision.smiling ? MIRRORED_SMILE : 0) - s.mirroredSmile) * (1 - Math.exp(-3 * dtSec));
    layer.smile = Math.min(1, idleFrame.smile + s.mirroredSmile);
    layer.emotion = emotion.emotion;
    layer.emotionWeight = emotion.weight;
    motion.thinking = idleFrame.thinking;

    const face = faceAt(pickSec);
    s.lastMouthOpen = face.mouthOpen;
    const rig = rigRef.current;
    rig?.apply(face.weights, idleFrame.pose, dtSec);
    lastPose.current = idleFrame.pose;
    if (runtime.vmc.enabled) runtime.vmc.frame({ audioTimeSec: pickSec, weights: vmcWeights(face.weights), pose: idleFrame.pose });
    three.gl.render(three.scene, three.camera);

    // Honest A/V offset: what is heard now (the frame has just been submitted) minus the time
    // the mouth shape was chosen for. Positive: the mouth is late.
    const avOffsetMs = (heardNowSec(context, player.audibleTimeSec()) - pickSec) * 1000;
    if (audible) {
      s.offsetsMs.push(Math.abs(avOffsetMs));
      if (s.offsetsMs.length > OFFSET_WINDOW) s.offsetsMs.shift();
    }

    const morphWeights: Record<string, number> = {};
    for (const name of rig?.morphTargetNames ?? []) morphWeights[name] = round3(face.weights[name] ?? 0);
    lipSyncProbe.recordFrame({ audioTimeMs: pickSec * 1000, viseme: face.viseme, weights: morphWeights, mouthOpen: face.mouthOpen });
    publishDiagnostics({
      state,
      fps: s.frameTimesMs.length,
      frame: s.frame,
      audioTimeSec: context.currentTime,
      outputLatencySec: player.outputLatencySec,
      audioContextState: context.state,
      viseme: face.viseme,
      morphWeights,
      mouthOpen: round3(face.mouthOpen),
      lastTurn: conversation.lastTrace,
      avOffsetMs: Math.round(avOffsetMs * 100) / 100,
      avOffsetAbsMsP95: Math.round(percentile95(s.offsetsMs) * 100) / 100,
      chunksPlayed: player.chunksPlayed,
      transport: runtime.client.kind,
      connection: runtime.client.status,
      engineReady: conversation.engineReady,
      sessionId: conversation.sessionId,
      replyText,
      transcript: conversation.entries.map((entry) => ({ role: entry.role, text: entry.text })),
      errors: conversation.errors.map((error) => `${error.code}: ${error.message}`),
      avatar: rig?.info ?? NO_AVATAR,
      emotion: emotion.emotion,
      emotionWeight: round3(emotion.weight),
      background: getBackgroundMode(),
      gaze: { yaw: round3(idleFrame.pose.gazeYaw), pitch: round3(idleFrame.pose.gazePitch), headYaw: round3(idleFrame.pose.headYaw) },
      vision: visionDiagnostics(vision.getSnapshot()),
      render: { drawCalls: three.gl.info.render.calls, triangles: three.gl.info.render.triangles },
    });
  }, 1);

  return null;
}
