import { useFrame } from '@react-three/fiber';
import { type RefObject, useMemo, useRef } from 'react';
import { OculusMorph } from '../../shared/lipsync';
import type { Viseme } from '../../shared/phoneme.contract';
import { avatarState } from '../state/avatar-state';
import { publishDiagnostics } from '../state/diagnostics';
import type { Runtime } from '../state/runtime';
import type { AvatarRig } from './avatar-rig';
import { mouthOpenness } from './face-params';
import { IdleMotion } from './idle-motion';

const OFFSET_WINDOW = 240;

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

/**
 * The per-frame loop: samples lip-sync on the audio clock, adds idle life, applies the weights to
 * the rig, renders, then measures how far the drawn mouth is from the heard audio and publishes
 * `window.avatarDiagnostics`. Mutates refs only: no React state changes per frame.
 */
export function AvatarAnimator({ runtime, rigRef }: { runtime: Runtime; rigRef: RefObject<AvatarRig | null> }) {
  const idle = useMemo(() => new IdleMotion(), []);
  const stats = useRef({ frame: 0, frameTimesMs: [] as number[], offsetsMs: [] as number[], lastMouthOpen: 0 });

  // Priority 1: this callback renders the frame itself, so it can measure after drawing.
  useFrame((three, deltaSec) => {
    const { player, lipSync, store } = runtime;
    const context = player.context;
    const s = stats.current;
    const nowMs = performance.now();
    s.frame += 1;
    s.frameTimesMs.push(nowMs);
    while (s.frameTimesMs.length > 0 && s.frameTimesMs[0]! < nowMs - 1000) s.frameTimesMs.shift();

    // The time used to pick the mouth shape: the audio clock corrected for output latency.
    const pickSec = player.audibleTimeSec();
    const mouth = lipSync.sample(pickSec);
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

    const idleFrame = idle.update(three.clock.elapsedTime, Math.min(deltaSec, 0.1), state, s.lastMouthOpen);
    const weights: Record<string, number> = {};
    for (const [viseme, weight] of Object.entries(mouth.weights) as [Viseme, number][]) {
      weights[OculusMorph[viseme]] = weight;
    }
    weights.eyeBlinkLeft = idleFrame.blinkLeft;
    weights.eyeBlinkRight = idleFrame.blinkRight;
    weights.browInnerUp = idleFrame.browInnerUp;
    // Smile fades while the mouth is busy with speech shapes.
    const speechAmount = 1 - (mouth.weights.sil ?? 0);
    weights.mouthSmile = idleFrame.smile * (1 - 0.6 * Math.min(1, speechAmount));
    s.lastMouthOpen = mouthOpenness(weights);

    rigRef.current?.apply(weights, idleFrame.pose);
    three.gl.render(three.scene, three.camera);

    // Honest A/V offset: what is heard now (the frame has just been submitted) minus the time
    // the mouth shape was chosen for. Positive: the mouth is late.
    const avOffsetMs = (heardNowSec(context, player.audibleTimeSec()) - pickSec) * 1000;
    if (audible) {
      s.offsetsMs.push(Math.abs(avOffsetMs));
      if (s.offsetsMs.length > OFFSET_WINDOW) s.offsetsMs.shift();
    }

    const morphWeights: Record<string, number> = {};
    for (const name of rigRef.current?.morphTargetNames ?? []) morphWeights[name] = Math.round((weights[name] ?? 0) * 1000) / 1000;
    const lastReply = [...conversation.entries].reverse().find((entry) => entry.role === 'avatar');
    publishDiagnostics({
      state,
      fps: s.frameTimesMs.length,
      frame: s.frame,
      audioTimeSec: context.currentTime,
      outputLatencySec: player.outputLatencySec,
      audioContextState: context.state,
      viseme: mouth.viseme,
      morphWeights,
      mouthOpen: Math.round(s.lastMouthOpen * 1000) / 1000,
      lastTurn: conversation.lastTrace,
      avOffsetMs: Math.round(avOffsetMs * 100) / 100,
      avOffsetAbsMsP95: Math.round(percentile95(s.offsetsMs) * 100) / 100,
      chunksPlayed: player.chunksPlayed,
      transport: runtime.client.kind,
      connection: runtime.client.status,
      engineReady: conversation.engineReady,
      sessionId: conversation.sessionId,
      replyText: lastReply?.text ?? '',
      transcript: conversation.entries.map((entry) => ({ role: entry.role, text: entry.text })),
      errors: conversation.errors.map((error) => `${error.code}: ${error.message}`),
    });
  }, 1);

  return null;
}
