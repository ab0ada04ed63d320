import { z } from 'zod';
import { ConversationEntrySchema, ExportFormatSchema, SessionConversationSchema } from './conversation.contract';
import { ErrorCodeSchema } from './errors.contract';
import { PhonemeSpanSchema } from './phoneme.contract';
import { EngineSettingsSchema, RestartSettingSchema } from './settings.contract';
import { ModelIdSchema, ModelKindSchema } from './catalog.contract';
import { TurnSourceSchema, TurnTraceSchema } from './trace.contract';
import { VadEventKindSchema, WorkerKindSchema } from './worker.contract';
import { VmcPoseSchema, VmcStatusSchema } from './vmc.contract';
import { VisionSummarySchema } from './vision.contract';

/**
 * Every message between renderer and engine. Both transports (Electron IPC and the `serve`
 * WebSocket) carry exactly these values; each side validates what it receives.
 * Messages with a `Float32Array` field travel as binary (see binary-frame.ts), never as JSON numbers.
 */

const id = z.string().min(1).max(128);
const pcm = z.instanceof(Float32Array);

// ---- renderer → engine -------------------------------------------------------------------

export const SessionOpenSchema = z.object({
  type: z.literal('session.open'),
  requestId: id,
  persona: z.string().max(8000).optional(),
  voice: z.string().max(200).optional(),
  /** `last` (default): continue the last kept conversation; `none`: a conversation in memory only (a remote talker's); an id: that conversation. */
  conversation: SessionConversationSchema.optional(),
});

export const SessionCloseSchema = z.object({ type: z.literal('session.close'), sessionId: id });

/** Typed text from the user: a turn like a spoken one. */
export const UserTextSchema = z.object({
  type: z.literal('user.text'),
  sessionId: id,
  text: z.string().min(1).max(4000),
});

/** 16 kHz mono microphone samples, in capture order. */
export const MicAudioSchema = z.object({
  type: z.literal('mic.audio'),
  sessionId: id,
  seq: z.number().int().nonnegative(),
  sampleRateHz: z.literal(16000),
  pcm,
});

/** The renderer reports how much of a reply chunk has been heard. */
export const PlaybackProgressSchema = z.object({
  type: z.literal('playback.progress'),
  sessionId: id,
  turnId: id,
  seq: z.number().int().nonnegative(),
  playedMs: z.number().nonnegative(),
  /** True when this chunk started playing (first audible sample) with this report. */
  started: z.boolean().optional(),
  /** True when the chunk finished playing. */
  ended: z.boolean().optional(),
});

/** The user asks the avatar to stop talking (button or key). */
export const TurnInterruptSchema = z.object({ type: z.literal('turn.interrupt'), sessionId: id });

export const PingSchema = z.object({ type: z.literal('ping'), nonce: z.number() });

/** Start a new conversation in this session (answered with `conversation.loaded`); the old one stays on disk. */
export const ConversationNewSchema = z.object({ type: z.literal('conversation.new'), sessionId: id });

/** The session's conversation as a file (answered with `conversation.exported`). */
export const ConversationExportSchema = z.object({ type: z.literal('conversation.export'), sessionId: id, format: ExportFormatSchema });

/** Model manager: list the catalog with installed state. */
export const ModelsListSchema = z.object({ type: z.literal('models.list') });
/** Model manager: download (or resume) a catalog model. */
export const ModelsPullSchema = z.object({ type: z.literal('models.pull'), modelId: ModelIdSchema });
export const ModelsCancelSchema = z.object({ type: z.literal('models.cancel'), modelId: ModelIdSchema });

/** Engine settings: ask for the current ones (answered with `settings.current`). */
export const SettingsGetSchema = z.object({ type: z.literal('settings.get') });
/** Engine settings: replace them all (saved at once; every client gets `settings.current`). */
export const SettingsSetSchema = z.object({ type: z.literal('settings.set'), settings: EngineSettingsSchema });

/**
 * What the avatar sees through the camera, in a few facts (never a frame): each turn's prompt gains
 * one line of it. `null`: the camera is off, nothing is added.
 */
export const VisionSummaryMessageSchema = z.object({ type: z.literal('vision.summary'), sessionId: id, summary: VisionSummarySchema.nullable() });

/**
 * The camera saw someone to greet: they came into view after an absence (`arrival`), or waved at
 * the avatar (`wave`). The avatar greets them (once) if it is not talking.
 */
export const VisionGreetReasonSchema = z.enum(['arrival', 'wave']);
export type VisionGreetReason = z.infer<typeof VisionGreetReasonSchema>;
export const VisionArrivalSchema = z.object({ type: z.literal('vision.arrival'), sessionId: id, reason: VisionGreetReasonSchema.default('arrival') });

export const ClientMessageSchema = z.discriminatedUnion('type', [
  SessionOpenSchema,
  SessionCloseSchema,
  UserTextSchema,
  MicAudioSchema,
  PlaybackProgressSchema,
  TurnInterruptSchema,
  PingSchema,
  ConversationNewSchema,
  ConversationExportSchema,
  ModelsListSchema,
  ModelsPullSchema,
  ModelsCancelSchema,
  SettingsGetSchema,
  SettingsSetSchema,
  VmcPoseSchema,
  VisionSummaryMessageSchema,
  VisionArrivalSchema,
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

// ---- engine → renderer -------------------------------------------------------------------

export const SessionOpenedSchema = z.object({
  type: z.literal('session.opened'),
  requestId: id,
  sessionId: id,
});

export const TurnStartedSchema = z.object({
  type: z.literal('turn.started'),
  sessionId: id,
  turnId: id,
  source: TurnSourceSchema,
  userText: z.string().optional(),
});

export const VadEventSchema = z.object({
  type: z.literal('vad'),
  sessionId: id,
  event: VadEventKindSchema,
});

export const TranscriptSchema = z.object({
  type: z.literal('transcript'),
  sessionId: id,
  turnId: id,
  text: z.string(),
  final: z.boolean(),
});

/** Reply text as the LLM streams it. */
export const ReplyDeltaSchema = z.object({
  type: z.literal('reply.delta'),
  sessionId: id,
  turnId: id,
  text: z.string(),
});

/** One speakable chunk of the reply: audio plus its phoneme timeline. Played strictly by `seq`. */
export const TtsChunkSchema = z.object({
  type: z.literal('tts.chunk'),
  sessionId: id,
  turnId: id,
  seq: z.number().int().nonnegative(),
  text: z.string(),
  sampleRateHz: z.number().int().positive(),
  phonemes: z.array(PhonemeSpanSchema),
  pcm,
});

/** Why a turn was stopped: the user spoke over the avatar, asked it to stop, or the turn failed. */
export const StopReason = { BargeIn: 'barge-in', User: 'user', Error: 'error' } as const;
export type StopReason = (typeof StopReason)[keyof typeof StopReason];
export const StopReasonSchema = z.enum(StopReason);

/** How a turn ended. */
/** `empty`: the user's speech had no words (a cough, a laugh): nothing was asked, nothing is answered, no error. */
export const TurnStatus = { Complete: 'complete', Interrupted: 'interrupted', Failed: 'failed', Empty: 'empty' } as const;
export type TurnStatus = (typeof TurnStatus)[keyof typeof TurnStatus];
export const TurnStatusSchema = z.enum(TurnStatus);

/** Stop playback now (fade out): barge-in, user stop or failure. */
export const TurnStopSchema = z.object({
  type: z.literal('turn.stop'),
  sessionId: id,
  turnId: id,
  reason: StopReasonSchema,
});

/**
 * The user started speaking over the avatar: its voice is lowered (`ducked: true`) while the engine
 * decides whether that was a backchannel ("uh-huh": back to full volume, `ducked: false`) or an
 * interruption (a `turn.stop` follows).
 */
export const TurnDuckSchema = z.object({
  type: z.literal('turn.duck'),
  sessionId: id,
  turnId: id,
  ducked: z.boolean(),
});

export const TurnEndedSchema = z.object({
  type: z.literal('turn.ended'),
  sessionId: id,
  turnId: id,
  status: TurnStatusSchema,
  replyText: z.string(),
  heardText: z.string(),
  /** Number of tts.chunk messages sent for this turn. */
  chunkCount: z.number().int().nonnegative(),
});

export const TurnTraceMessageSchema = z.object({
  type: z.literal('turn.trace'),
  trace: TurnTraceSchema,
});

export const WorkerStatusSchema = z.object({
  kind: WorkerKindSchema,
  workerId: z.string(),
  state: z.enum(['starting', 'loading', 'ready', 'busy', 'failed', 'stopped']),
  model: z.string(),
  loadProgress: z.number().min(0).max(1).optional(),
});

export const EngineStatusSchema = z.object({
  type: z.literal('engine.status'),
  ready: z.boolean(),
  workers: z.array(WorkerStatusSchema),
  /** Present when the engine could not start: why, in words (settings and models still answer). */
  degraded: z.object({ reason: z.string().min(1) }).optional(),
});

export const ErrorMessageSchema = z.object({
  type: z.literal('error'),
  code: ErrorCodeSchema,
  message: z.string(),
  recoverable: z.boolean(),
  sessionId: id.optional(),
  turnId: id.optional(),
});

export const PongSchema = z.object({ type: z.literal('pong'), nonce: z.number() });

/**
 * The session's conversation: sent after `session.opened` (a continued conversation brings its
 * messages, the page shows them) and after `conversation.new` (empty).
 */
export const ConversationLoadedSchema = z.object({
  type: z.literal('conversation.loaded'),
  sessionId: id,
  conversationId: z.string(),
  startedAtMs: z.number(),
  /** Written to the data folder (false: retention "don't keep", or a conversation in memory only). */
  kept: z.boolean(),
  /** The most recent messages (at most MAX_LOADED_ENTRIES; an export has them all). */
  entries: z.array(ConversationEntrySchema),
});

/** Most messages `conversation.loaded` carries. */
export const MAX_LOADED_ENTRIES = 500;

/** The answer to `conversation.export`: a file name to suggest and the content. */
export const ConversationExportedSchema = z.object({
  type: z.literal('conversation.exported'),
  sessionId: id,
  conversationId: z.string(),
  format: ExportFormatSchema,
  fileName: z.string(),
  content: z.string(),
});

export const ModelEntrySchema = z.object({
  id: z.string(),
  title: z.string(),
  kind: ModelKindSchema.nullable(),
  tiers: z.array(z.string()),
  licence: z.string().nullable(),
  sizeBytes: z.number().nullable(),
  approxSizeMb: z.number(),
  installed: z.boolean(),
  /** True when this model is the one the engine runs now. */
  active: z.boolean(),
});
export type ModelEntry = z.infer<typeof ModelEntrySchema>;

export const ModelsListingSchema = z.object({
  type: z.literal('models.listing'),
  modelsDir: z.string(),
  models: z.array(ModelEntrySchema),
});

/** Download progress of one model (resumable; totalBytes null while unknown). */
export const ModelsProgressSchema = z.object({
  type: z.literal('models.progress'),
  modelId: z.string(),
  receivedBytes: z.number(),
  totalBytes: z.number().nullable(),
  bytesPerSec: z.number(),
});

export const ModelsDoneSchema = z.object({
  type: z.literal('models.done'),
  modelId: z.string(),
  status: z.enum(['installed', 'failed', 'cancelled']),
  message: z.string(),
  path: z.string().optional(),
});

/** The engine's settings as saved, and what is not in effect until the engine starts again. */
export const SettingsCurrentSchema = z.object({
  type: z.literal('settings.current'),
  settings: EngineSettingsSchema,
  /** Changed since the engine started and applied only at its next start. */
  restartRequired: z.array(RestartSettingSchema),
  /** The settings file, for the user to find. */
  file: z.string(),
  /** Something the user should know, in words (e.g. a corrupt file was replaced by defaults). */
  warning: z.string().optional(),
});

export const ServerMessageSchema = z.discriminatedUnion('type', [
  SessionOpenedSchema,
  TurnStartedSchema,
  VadEventSchema,
  TranscriptSchema,
  ReplyDeltaSchema,
  TtsChunkSchema,
  TurnStopSchema,
  TurnDuckSchema,
  TurnEndedSchema,
  TurnTraceMessageSchema,
  EngineStatusSchema,
  ErrorMessageSchema,
  PongSchema,
  ConversationLoadedSchema,
  ConversationExportedSchema,
  ModelsListingSchema,
  ModelsProgressSchema,
  ModelsDoneSchema,
  SettingsCurrentSchema,
  VmcStatusSchema,
]);
export type ServerMessage = z.infer<typeof ServerMessageSchema>;
export type WorkerStatus = z.infer<typeof WorkerStatusSchema>;

/**
 * The desktop app's share server, as Electron main tells its window (preload `shareEndpoint()`):
 * pages served by `serve` share through their own host instead.
 */
export const ShareEndpointSchema = z.object({
  /** `ws://127.0.0.1:<port>/signal`: where the window takes the sender role. */
  signalUrl: z.string().url().startsWith('ws://'),
  /** The app token of the share server (sender role); never given to viewers. */
  token: z.string().min(16),
  /** The viewer page with the watch-only token (`http://…/view?token=…`). */
  viewUrl: z.string().url().startsWith('http://'),
});
export type ShareEndpoint = z.infer<typeof ShareEndpointSchema>;

/**
 * Requests and the one message that answers each, paired by name (every other client message is
 * fire-and-forget or answered by a stream of events). The engine's handlers and the renderer's
 * listeners both read this, so "who answers models.list" has one answer.
 */
export const REPLY_OF = {
  'session.open': 'session.opened',
  'models.list': 'models.listing',
  'settings.get': 'settings.current',
  'settings.set': 'settings.current',
  ping: 'pong',
  'conversation.new': 'conversation.loaded',
  'conversation.export': 'conversation.exported',
} as const satisfies Partial<Record<ClientMessage['type'], ServerMessage['type']>>;
export type RequestType = keyof typeof REPLY_OF;
export type ReplyTo<T extends RequestType> = Extract<ServerMessage, { type: (typeof REPLY_OF)[T] }>;

/** True when `message` is the reply that a `request` type gets. */
export function isReplyTo<T extends RequestType>(request: T, message: ServerMessage): message is ReplyTo<T> {
  return message.type === REPLY_OF[request];
}

