import type { VmcExpression, VmcPose, VmcStatus } from '../../shared/vmc.contract';
import { VMC_EXPRESSIONS } from '../../shared/vmc.contract';
import type { AvatarPose } from '../avatar/avatar-rig';
import { BREATH_LIFT_M, humanoidBoneRotations } from '../avatar/humanoid-pose';
import type { EngineClient } from '../transport/engine-client';

/** A frame's face for VMC: VRM 1.0 expression weights (any other names are ignored) and the pose. */
export interface VmcFrame {
  audioTimeSec: number;
  weights: Readonly<Record<string, number>>;
  pose: AvatarPose;
}

/** Between rendered frames (software GL, a hidden window) the face is sampled at least this often. */
const FILL_INTERVAL_MS = 1000 / 60;
/** A fill-in sample is taken only when no frame was sent for this long (just under the interval: sparse frames get every tick). */
const FILL_AFTER_MS = 14;

const clamp01 = (value: number): number => Math.min(1, Math.max(0, value));

/** The `vmc.pose` message of one frame. */
export function vmcPoseOf(frame: VmcFrame): VmcPose {
  const blend: Partial<Record<VmcExpression, number>> = {};
  for (const name of VMC_EXPRESSIONS) {
    const weight = frame.weights[name];
    if (weight !== undefined && weight > 0) blend[name] = clamp01(weight);
  }
  const bones = humanoidBoneRotations(frame.pose);
  return {
    type: 'vmc.pose',
    audioTimeSec: Math.max(0, frame.audioTimeSec),
    blend,
    bones: [
      { name: 'Neck', rotation: bones.neck },
      { name: 'Head', rotation: bones.head },
      { name: 'LeftEye', rotation: bones.eye },
      { name: 'RightEye', rotation: bones.eye },
    ],
    root: { position: [0, frame.pose.breath * BREATH_LIFT_M, 0], rotation: [0, 0, 0, 1] },
  };
}

/** What the engine says of VMC output right now, in words (the settings panel shows it). */
export function vmcStatusText(status: VmcStatus | null): string {
  if (!status) return '';
  if (!status.enabled) return 'VMC output is off.';
  const naming = status.naming === 'vrm0' ? 'VRM 0.x' : 'VRM 1.0';
  const source = status.source === 'flag' ? ' (from --vmc-out for this run)' : '';
  return status.problem ? `Sending to ${status.target} fails: ${status.problem}` : `Sending to ${status.target} with ${naming} names${source}.`;
}

/**
 * The page's half of VMC output (the engine sends the UDP): while the engine says VMC is on
 * (`vmc.status`), every rendered frame's face goes to the engine as `vmc.pose`; when frames are
 * sparse (software GL) or stop (a hidden window), a worker's metronome samples the same face
 * computation on the audio clock, so a VTuber tool gets a steady rate. While it is off nothing is
 * sent and no timer runs.
 */
export class VmcOutput {
  private status: VmcStatus | null = null;
  private sample: (() => VmcFrame | null) | null = null;
  private ticker: Worker | null = null;
  private lastSentMs = -Infinity;
  private sentCount = 0;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly client: EngineClient) {
    client.onMessage((message) => {
      if (message.type === 'vmc.status') this.follow(message);
    });
    client.onStatus((status) => {
      if (status !== 'open') this.follow(null);
    });
  }

  /** True while the engine sends VMC (the page then reports every frame). */
  get enabled(): boolean {
    return this.status?.enabled === true;
  }

  /** What the engine last said about VMC output (null before it said anything). */
  get current(): VmcStatus | null {
    return this.status;
  }

  /** Calls `listener` whenever the engine's VMC status changes (for useSyncExternalStore); returns the unsubscribe. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** The current status, for useSyncExternalStore. */
  readonly getSnapshot = (): VmcStatus | null => this.status;

  /** Poses sent so far. */
  get sent(): number {
    return this.sentCount;
  }

  /** The animator's face computation for "now" on the audio clock, used between rendered frames. */
  attach(sample: () => VmcFrame | null): () => void {
    this.sample = sample;
    return () => {
      if (this.sample === sample) this.sample = null;
    };
  }

  /** A rendered frame's face (the weights and pose the avatar applied). */
  frame(frame: VmcFrame): void {
    if (this.enabled) this.send(frame);
  }

  private send(frame: VmcFrame): void {
    if (this.client.status !== 'open') return;
    this.client.send(vmcPoseOf(frame));
    this.lastSentMs = performance.now();
    this.sentCount += 1;
  }

  private fill(): void {
    if (!this.enabled || performance.now() - this.lastSentMs < FILL_AFTER_MS) return;
    const frame = this.sample?.();
    if (frame) this.send(frame);
  }

  private follow(status: VmcStatus | null): void {
    this.status = status;
    for (const listener of this.listeners) listener();
    if (this.enabled && !this.ticker) {
      // A worker's timers keep running in hidden pages, where requestAnimationFrame stops.
      this.ticker = new Worker(new URL('../share/share-ticker.worker.ts', import.meta.url), { type: 'module' });
      this.ticker.onmessage = () => this.fill();
      this.ticker.postMessage(FILL_INTERVAL_MS);
    } else if (!this.enabled && this.ticker) {
      this.ticker.terminate();
      this.ticker = null;
    }
  }
}
