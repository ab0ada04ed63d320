import { z } from 'zod';
import { ModelIdSchema } from './catalog.contract';
import { VmcSettingsSchema } from './vmc.contract';

/**
 * User settings. Engine-side settings (persona, voice, VAD sensitivity, pool sizes, models) live
 * in a JSON file in the app's data folder and travel as `settings.get / settings.set →
 * settings.current`; renderer-only settings (background, microphone, avatar) live in the page's
 * localStorage. An absent engine field means "the model profile's own default".
 */

/** Longest system prompt the user may set (matches `session.open`). */
export const PERSONA_MAX_CHARS = 8000;

export const VadSettingsSchema = z.object({
  /** Speech probability (0 … 1) above which a frame counts as speech: lower hears quieter speech. */
  threshold: z.number().min(0.05).max(0.95).optional(),
  /** Silence after speech before the utterance ends (the turn's endpoint). */
  minSilenceMs: z.number().int().min(50).max(5000).optional(),
  /**
   * How a pause ends the turn: `smart` asks the end-of-turn model whether the user finished (a
   * thinking pause keeps the turn open); `silence` ends it after the silence alone. Absent: smart
   * when an end-of-turn model is installed.
   */
  endOfTurn: z.enum(['smart', 'silence']).optional(),
  /**
   * Speech over the avatar: `smart` lowers its voice at once and stops it only for a real
   * interruption (a backchannel such as "uh-huh" or "yeah" lets it go on); `always-stop` stops it at
   * once, as soon as the speech lasts the barge-in minimum. Absent: smart.
   */
  interruptions: z.enum(['smart', 'always-stop']).optional(),
});
export type VadSettings = z.infer<typeof VadSettingsSchema>;

const workerCount = z.number().int().min(1).max(8).optional();

/** Warm workers per kind; absent: the resource plan's choice. */
export const PoolSizesSchema = z.object({ llm: workerCount, stt: workerCount, tts: workerCount });
export type PoolSizes = z.infer<typeof PoolSizesSchema>;

/** True for a choice that names a file (it has a path separator); anything else is a model id. */
export function isModelPath(choice: string): boolean {
  return /[\\/]/.test(choice);
}

/** A catalog model id or a model file path; absent: installed or development models (profile `auto`). */
const modelChoice = z
  .string()
  .trim()
  .min(1)
  .max(4096)
  .refine((choice) => isModelPath(choice) || ModelIdSchema.safeParse(choice).success, 'a model file path or a model id (lowercase letters, digits, ".", "_" and "-")')
  .optional();

export const ModelChoicesSchema = z.object({ llm: modelChoice, stt: modelChoice, voice: modelChoice });
export type ModelChoices = z.infer<typeof ModelChoicesSchema>;

/**
 * How long conversations stay in the data folder: forever, `days` after their last message, or not
 * at all (`none`: nothing is written, and what was kept is deleted).
 */
export const ConversationRetentionSchema = z.discriminatedUnion('keep', [
  z.object({ keep: z.literal('forever') }),
  z.object({ keep: z.literal('days'), days: z.number().int().min(1).max(3650) }),
  z.object({ keep: z.literal('none') }),
]);
export type ConversationRetention = z.infer<typeof ConversationRetentionSchema>;

export const EngineSettingsSchema = z.object({
  /** The avatar's system prompt; absent: the profile's default persona. */
  persona: z.string().trim().min(1).max(PERSONA_MAX_CHARS).optional(),
  /** Speaker name passed to the voice (e.g. an eSpeak voice such as "en-gb"); absent: the voice's default. */
  voice: z.string().trim().min(1).max(200).optional(),
  vad: VadSettingsSchema.default({}),
  poolSizes: PoolSizesSchema.default({}),
  models: ModelChoicesSchema.default({}),
  /** VMC protocol output to a VTuber tool; absent: off (defaultVmcSettings). */
  vmc: VmcSettingsSchema.optional(),
  /** Keeping conversations; absent: forever. Applied at start and as soon as it changes. */
  conversations: ConversationRetentionSchema.optional(),
});
export type EngineSettings = z.infer<typeof EngineSettingsSchema>;

export const defaultEngineSettings: EngineSettings = { vad: {}, poolSizes: {}, models: {} };

/** Groups of engine settings that take effect only when the engine starts again. */
export const RestartSettingSchema = z.enum(['vad', 'poolSizes', 'models']);
export type RestartSetting = z.infer<typeof RestartSettingSchema>;

/** Background behind the avatar: normal scene, transparent (for capture), or chroma-key green. */
export const BackgroundMode = { Normal: 'normal', Transparent: 'transparent', Chroma: 'chroma' } as const;
export type BackgroundMode = (typeof BackgroundMode)[keyof typeof BackgroundMode];
export const BackgroundModeSchema = z.enum(BackgroundMode);

/** Hands-free: the engine hears everything. Push-to-talk: only while the talk key is held. */
export const MicMode = { HandsFree: 'hands-free', PushToTalk: 'push-to-talk' } as const;
export type MicMode = (typeof MicMode)[keyof typeof MicMode];
export const MicModeSchema = z.enum(MicMode);

export const RendererSettingsSchema = z.object({
  background: BackgroundModeSchema.default(BackgroundMode.Normal),
  micMode: MicModeSchema.default(MicMode.HandsFree),
  /** A `MediaDeviceInfo.deviceId`; null: the system's default microphone. */
  micDeviceId: z.string().min(1).max(500).nullable().default(null),
  /** Name of the last avatar the user loaded; null: the built-in avatar. */
  avatar: z.string().min(1).max(500).nullable().default(null),
  /** A camera's `MediaDeviceInfo.deviceId`; null: the system's default camera. The camera itself is off at every start. */
  cameraDeviceId: z.string().min(1).max(500).nullable().default(null),
  /** The avatar greets someone the camera sees arrive after an absence. */
  greetOnArrival: z.boolean().default(true),
});
export type RendererSettings = z.infer<typeof RendererSettingsSchema>;

export const defaultRendererSettings: RendererSettings = RendererSettingsSchema.parse({});
