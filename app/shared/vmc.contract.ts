import { z } from 'zod';

/**
 * VMC protocol output (OSC over UDP, what VSeeFace, VNyan, Warudo and VMagicMirror receive): the
 * setting, the pose the renderer sends the engine every frame while it is on, and the status the
 * engine tells every page. The browser cannot send UDP, so the engine sends the OSC bundles.
 */

/** Which VRM expression names go on the wire: VRM 0.x blend shape presets or VRM 1.0 expressions. */
export const VmcNaming = { Vrm0: 'vrm0', Vrm1: 'vrm1' } as const;
export type VmcNaming = (typeof VmcNaming)[keyof typeof VmcNaming];
export const VmcNamingSchema = z.enum(VmcNaming);

/** The port VMC receivers listen on by default (VSeeFace, VNyan, Warudo). */
export const VMC_DEFAULT_PORT = 39539;
export const VMC_DEFAULT_HOST = '127.0.0.1';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-f]{0,4}(:[0-9a-f]{0,4}){2,7}$/i;
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** True for an IPv4 or IPv6 address or a DNS host name (no ports, schemes or paths). */
export function isVmcHost(host: string): boolean {
  return IPV4.test(host) || (host.includes(':') && IPV6.test(host)) || (!/^[\d.]+$/.test(host) && HOST_NAME.test(host));
}

export const VmcHostSchema = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .refine(isVmcHost, 'an IP address (such as 127.0.0.1) or a host name, without port or scheme');

export const VmcPortSchema = z.number().int().min(1).max(65535);

/** The VMC output setting (engine `settings.json`). Off unless the user turns it on. */
export const VmcSettingsSchema = z.object({
  enabled: z.boolean(),
  host: VmcHostSchema,
  port: VmcPortSchema,
  naming: VmcNamingSchema,
});
export type VmcSettings = z.infer<typeof VmcSettingsSchema>;

export const defaultVmcSettings: VmcSettings = { enabled: false, host: VMC_DEFAULT_HOST, port: VMC_DEFAULT_PORT, naming: VmcNaming.Vrm1 };

/** `host:port` (`[v6]:port` for IPv6) as `--vmc-out` takes it; throws an Error in words. */
export function parseVmcTarget(text: string): { host: string; port: number } {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text.trim()) ?? /^([^:]+):(\d+)$/.exec(text.trim());
  const host = VmcHostSchema.safeParse(match?.[1]);
  const port = VmcPortSchema.safeParse(Number(match?.[2]));
  if (!match || !host.success || !port.success) {
    throw new Error(`expected host:port such as ${VMC_DEFAULT_HOST}:${VMC_DEFAULT_PORT} (an IP address or host name, a port from 1 to 65535), got "${text}".`);
  }
  return { host: host.data, port: port.data };
}

/**
 * The expressions the renderer reports, under VRM 1.0's preset names; the engine renames them for
 * VRM 0.x receivers (vmc-bundle.ts).
 */
export const VMC_EXPRESSIONS = ['aa', 'ih', 'ou', 'ee', 'oh', 'blinkLeft', 'blinkRight', 'happy', 'angry', 'sad', 'relaxed', 'surprised'] as const;
export type VmcExpression = (typeof VMC_EXPRESSIONS)[number];

/** Bones the avatar moves, under Unity's HumanBodyBones names (what VMC carries). */
export const VMC_BONES = ['Neck', 'Head', 'LeftEye', 'RightEye'] as const;
export type VmcBone = (typeof VMC_BONES)[number];

const finite = z.number().finite();
const weight = z.number().min(0).max(1);
/** A unit quaternion [x, y, z, w]. */
const QuaternionSchema = z
  .tuple([finite, finite, finite, finite])
  .refine(([x, y, z, w]) => Math.abs(Math.hypot(x, y, z, w) - 1) < 0.01, 'a unit quaternion [x, y, z, w]');
/** Metres, within 100 m of the origin. */
const PositionSchema = z.tuple([finite.min(-100).max(100), finite.min(-100).max(100), finite.min(-100).max(100)]);

/**
 * The face and head of one rendered frame, sent by the renderer while VMC output is on. Rotations
 * and positions are three.js / glTF local values (right-handed, the avatar facing +Z); the engine
 * converts them to Unity's left-handed space.
 */
export const VmcPoseSchema = z.object({
  type: z.literal('vmc.pose'),
  /** AudioContext time (s) of the audio heard with this face: the lip-sync clock. */
  audioTimeSec: finite.nonnegative(),
  /** Expression weights as the avatar applied them; absent names are 0. */
  blend: z.strictObject(Object.fromEntries(VMC_EXPRESSIONS.map((name) => [name, weight.optional()])) as Record<VmcExpression, z.ZodOptional<typeof weight>>),
  bones: z
    .array(z.object({ name: z.enum(VMC_BONES), rotation: QuaternionSchema }))
    .max(VMC_BONES.length)
    .refine((bones) => new Set(bones.map((bone) => bone.name)).size === bones.length, 'each bone once'),
  root: z.object({ position: PositionSchema, rotation: QuaternionSchema }),
});
export type VmcPose = z.infer<typeof VmcPoseSchema>;

/** Whether the engine sends VMC now and where: pages send poses only while `enabled`. */
export const VmcStatusSchema = z.object({
  type: z.literal('vmc.status'),
  enabled: z.boolean(),
  naming: VmcNamingSchema,
  /** `host:port` the bundles go to. */
  target: z.string(),
  /** `--vmc-out` set it for this run (until the setting is changed), or the setting. */
  source: z.enum(['flag', 'settings']),
  /** The last send failure, in words. */
  problem: z.string().optional(),
});
export type VmcStatus = z.infer<typeof VmcStatusSchema>;
