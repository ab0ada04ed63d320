import { z } from 'zod';

/** What started a turn: typed text or a spoken utterance. */
/** `camera`: the avatar speaks first, greeting someone the camera sees arrive. */
export const TurnSource = { Text: 'text', Voice: 'voice', Camera: 'camera' } as const;
export type TurnSource = (typeof TurnSource)[keyof typeof TurnSource];
export const TurnSourceSchema = z.enum(TurnSource);

/**
 * Monotonic timestamps of one turn (`performance.now()` ms in the engine process), as listed in
 * shared/design/measurement.md. Fields are absent until their moment happens.
 */
export const TurnTraceSchema = z.object({
  sessionId: z.string(),
  turnId: z.string(),
  source: TurnSourceSchema,
  speechStartMs: z.number().optional(),
  speechEndMs: z.number().optional(),
  endpointMs: z.number().optional(),
  sttFinalMs: z.number().optional(),
  llmRequestMs: z.number().optional(),
  llmFirstTokenMs: z.number().optional(),
  firstChunkTextMs: z.number().optional(),
  ttsFirstAudioMs: z.number().optional(),
  playbackScheduledMs: z.number().optional(),
  firstAudioAudibleMs: z.number().optional(),
  turnEndMs: z.number().optional(),
  bargeInMs: z.number().optional(),
  audioStoppedMs: z.number().optional(),
});
export type TurnTrace = z.infer<typeof TurnTraceSchema>;

/** The timestamp fields of a trace, in pipeline order. */
export const TRACE_FIELDS = [
  'speechStartMs',
  'speechEndMs',
  'endpointMs',
  'sttFinalMs',
  'llmRequestMs',
  'llmFirstTokenMs',
  'firstChunkTextMs',
  'ttsFirstAudioMs',
  'playbackScheduledMs',
  'firstAudioAudibleMs',
  'turnEndMs',
  'bargeInMs',
  'audioStoppedMs',
] as const;
export type TraceField = (typeof TRACE_FIELDS)[number];
