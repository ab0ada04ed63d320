import { z } from 'zod';

/** A failure the scripted engine injects when a run's input text contains `contains`. */
export const ScriptedFailureSchema = z.object({
  contains: z.string().min(1),
  /**
   * crash-host: kill the whole runtime host process (as a native abort would);
   * crash-worker: end this worker thread; hang: block the thread forever (no pongs);
   * throw: fail the run with an error; malformed: answer with a message that breaks the protocol;
   * bloat: hold 160 MB and keep running slowly (for the memory ceiling).
   */
  mode: z.enum(['crash-host', 'crash-worker', 'hang', 'throw', 'malformed', 'bloat']),
});
export type ScriptedFailure = z.infer<typeof ScriptedFailureSchema>;

/** `LoadSpec.options` of the scripted engine: every delay is configurable, all default to fast. */
export const ScriptedOptionsSchema = z.object({
  loadMs: z.number().nonnegative().default(0),
  // llm
  firstTokenMs: z.number().nonnegative().default(0),
  tokenMs: z.number().nonnegative().default(0),
  /** Sentences in the reply (the first echoes the user). */
  replySentences: z.number().int().positive().default(3),
  /** A fixed reply instead of the echo. */
  reply: z.string().optional(),
  // tts
  ttsFirstChunkMs: z.number().nonnegative().default(0),
  ttsMsPerChar: z.number().nonnegative().default(0),
  sampleRateHz: z.number().int().positive().default(22050),
  // stt
  sttMs: z.number().nonnegative().default(0),
  /** A fixed transcript instead of "I spoke for N seconds". */
  transcript: z.string().optional(),
  // turn (end of turn): the probability every utterance gets, unless its transcript-free audio is shorter than `turnIncompleteBelowMs`
  turnCompleteProbability: z.number().min(0).max(1).default(1),
  /** Voiced audio shorter than this is judged incomplete (probability 0.1): a scripted "thinking pause". */
  turnIncompleteBelowMs: z.number().nonnegative().default(0),
  /** Audio ending in at least this much silence is judged incomplete (0.1): a voice that sounds unfinished once the silence is heard. 0: never. */
  turnIncompleteAfterSilenceMs: z.number().nonnegative().default(0),
  turnMs: z.number().nonnegative().default(0),
  // vad
  vadThreshold: z.number().positive().default(0.02),
  vadFrameMs: z.number().positive().default(10),
  vadMinSpeechMs: z.number().nonnegative().default(30),
  vadMinSilenceMs: z.number().nonnegative().default(200),
  /** `energy`: a per-frame speech likelihood; `state`: 1 while in speech, hangover included (as some VADs report). */
  vadProbability: z.enum(['energy', 'state']).default('energy'),
  failOn: z.array(ScriptedFailureSchema).default([]),
});
export type ScriptedOptions = z.infer<typeof ScriptedOptionsSchema>;
