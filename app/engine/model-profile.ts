import { existsSync, statSync } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { WorkerKind } from '../shared/worker.contract';
import { hasWorkerEngine } from '../native-workers/registry';
import { DevModelProfileSchema, PROFILE_FILE_NAME, resolveDevModelsDir } from './models/dev-model-profile';
import { openModelManager } from './models/model-manager';
import { defaultEngineConfig, type EngineConfig, type WorkerKindConfig } from './engine-config';

/**
 * Which models the engine runs. `auto` (the app's default) uses real runtimes everywhere: the
 * embedded eSpeak voice and silero VAD always; the LLM and whisper from explicit paths, else the
 * model manager's installed models, else the development profile (`npm run models -- dev`). A kind
 * with no model at all runs the scripted placeholder and says so (the UI shows why and what to do).
 * `dev` requires the development profile; `scripted` runs every kind on the placeholder engines.
 */
export const PROFILE_NAMES = ['auto', 'dev', 'scripted'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export interface ProfileRequest {
  profile: ProfileName;
  /** Explicit model files (command-line flags or settings) win over everything else. */
  llmModelPath?: string;
  sttModelPath?: string;
  /** A Piper `.onnx` voice; absent means the embedded eSpeak voice (or the dev Piper voice). */
  voiceModelPath?: string;
  modelsDir?: string;
  /** Base config to adjust (pipeline, launcher, health…). */
  base?: EngineConfig;
}

export interface ResolvedProfile {
  config: EngineConfig;
  /** One line per kind: what runs and from where, for logs and the UI. */
  summary: string[];
  /** Kinds that fell back to the scripted placeholder because no model exists. */
  placeholders: WorkerKind[];
  /** What the profile had to leave out (an unusable development models profile), in words. */
  warnings: string[];
}

const MB = 1e6;
/**
 * Silence that ends the user's turn. The endpoint is on the critical path of every reply (the
 * VAD decides about 40 ms plus one 32 ms window after this much silence); 200 ms is the budget in
 * measurement.md and splits none of the e2e_cpu questions at their commas (300 ms cost 100 ms more).
 */
const SILERO_MIN_SILENCE_MS = 200;
/**
 * Speech this long starts an utterance: 150 ms hears a short word said over the avatar ("Wait,
 * stop." in Piper's voice was missed at silero's 250 ms); shorter sounds are still noise to the
 * endpointer (minUtteranceMs), and over the avatar their words decide.
 */
const SILERO_MIN_SPEECH_MS = 150;
/**
 * silero reports speech only after 250 ms of it (plus two 32 ms windows), and later still on a soft
 * first word ("What color…" was cut to "color…" with 300 ms): the utterance keeps 700 ms before
 * the speech-start frame, which costs whisper about 20 ms.
 */
const SILERO_PREROLL_MS = 700;
/**
 * With the end-of-turn model the VAD ends speech after a short silence and the model decides; a
 * pause it judges mid-thought may last up to maxPauseMs before the turn ends anyway.
 */
/**
 * In smart mode the VAD's silence only opens the question (the model and the words decide): 120 ms
 * answered 95 ms sooner than 200 ms in the turn_taking bench with no more premature ends.
 */
const SMART_TURN_VAD_SILENCE_MS = 120;
/**
 * A pause is judged from its first unvoiced 20 ms frame (Smart Turn 40–80 ms, whisper 150–300 ms on
 * this CPU, side by side), before the VAD's silence has run out. The voice saying finished (the
 * model's own threshold) ends the turn at once, provisionally: the turn starts once the words agree
 * ("I was wondering", "Tell me about" — which eSpeak's voice says with 0.96 — reopen the pause) and
 * the VAD's silence has run out; the voice coming back first (a gap between words: Smart Turn says
 * 0.96–0.99 before "tonight" in "What should I cook for dinner tonight?") withdraws it, and the
 * utterance goes on whole. turn_taking bench, questions, quiet machine: endpoint p50 128 ms (346
 * with the VAD's silence first), cut questions 0, premature 0.067.
 */
const EARLY_END = { judgeAfterSilenceMs: 20, voiceAloneThreshold: 0.5, voiceAloneMinSpeechMs: 0, secondLook: true } as const;
/**
 * "Let me think.", "Could you maybe?", "Can you tell me?" end in words and voice like finished turns
 * (0.4–0.97) before a thinking pause, and no probability tells them from real ends: a finished turn of
 * three words or fewer waits 1.2 s from its speech end for more (800 ms bridged too few of the
 * turn_taking bench's 0.5–1.0 s pauses: the comma's own gap and silero's onset add to them). Four
 * words would catch "Can you tell me?" too, but also e2e_cpu's "Why do cats purr?" and "Hello, who
 * are you?", which would then wait 1.2 s.
 */
const SHORT_TURN = { shortTurnWords: 3, shortTurnHoldMs: 1200 } as const;
const DEFAULT_TURN_DETECTION = { mode: 'smart', completeThreshold: 0.5, maxPauseMs: 1500, vadSilenceMs: SMART_TURN_VAD_SILENCE_MS, ...EARLY_END, ...SHORT_TURN } as const;
/**
 * The first clause is what the user waits for: the LLM generates it and the voice synthesizes it
 * before any sound (on 2 CPU cores Piper needs about 45 ms per word, SmolLM2 about 30 ms per token),
 * so it ends at a comma after 2 words or at a word boundary after 6 instead of 3 and 8.
 */
const FIRST_CLAUSE = { firstChunkMinWords: 2, firstChunkMaxWords: 6 };
const REAL_PING_DEADLINE_MS = 20_000;
/**
 * Spoken answers: short, plain sentences (small models ramble without being told), in English —
 * the voices speak English, and SmolLM2 sometimes answered a question about France in French,
 * which the English voice turns into noise.
 */
const SPOKEN_PERSONA =
  'You are Ava, a friendly 3D avatar who talks with people out loud. Always answer in English. Keep every answer short: one or two ' +
  'spoken sentences, no lists, no markdown, no emoji. If you do not know something, say so plainly.';

function fileBytes(path: string): number {
  return statSync(path).size;
}

function real(engine: string, modelName: string, modelPath: string | undefined, extra: Partial<WorkerKindConfig> = {}): WorkerKindConfig {
  return { engine, modelName, ...(modelPath ? { modelPath } : {}), count: 1, cpuBound: true, ...extra };
}

interface DevProfileFiles {
  llm?: string | undefined;
  stt?: string | undefined;
  voice?: string | undefined;
  turn?: string | undefined;
}

/**
 * The development models' files (`npm run models -- dev` writes their profile). No profile is
 * null; an unusable one is null plus the problem in words naming the file, and is kept aside as
 * `.corrupt` (the next `npm run models -- dev` writes a new one), so a damaged cache never stops the app.
 */
async function readDevProfile(): Promise<{ files: DevProfileFiles | null; problem?: string }> {
  const path = join(resolveDevModelsDir(), PROFILE_FILE_NAME);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { files: null };
    return { files: null, problem: `the development models profile ${path} could not be read (${(error as Error).message})` };
  }
  let problem: string;
  try {
    const parsed = DevModelProfileSchema.safeParse(JSON.parse(text));
    if (parsed.success) {
      const present = (file: string): string | undefined => (existsSync(file) ? file : undefined);
      const { llm, stt, tts, turn } = parsed.data;
      return { files: { llm: present(llm.ggufPath), stt: present(stt.whisperGgmlPath), voice: present(tts.piperOnnxPath), turn: turn ? present(turn.smartTurnOnnxPath) : undefined } };
    }
    const issue = parsed.error.issues[0];
    problem = `${issue?.path.join('.') || 'profile'}: ${issue?.message ?? 'invalid'}`;
  } catch (error) {
    problem = `not valid JSON (${(error as Error).message})`;
  }
  const keptAs = `${path}.corrupt`;
  await rename(path, keptAs).catch(() => undefined);
  return { files: null, problem: `the development models profile ${path} was unusable (${problem}) and was kept as ${keptAs}` };
}

async function installedModel(kind: 'llm' | 'stt' | 'turn', modelsDir: string | undefined): Promise<string | undefined> {
  try {
    const manager = await openModelManager(modelsDir ? { dir: modelsDir } : {});
    const installed = (await manager.list()).filter((model) => model.installed && model.kind === kind && model.path);
    return installed[0]?.path ?? undefined;
  } catch {
    return undefined;
  }
}

/** Builds the engine config for a profile; throws an Error in words when a required model is absent. */
export async function resolveProfile(request: ProfileRequest): Promise<ResolvedProfile> {
  const base = request.base ?? defaultEngineConfig();
  if (request.profile === 'scripted') {
    return { config: base, summary: ['all stages: scripted placeholder engines (no models)'], placeholders: ['vad', 'stt', 'llm', 'tts'], warnings: [] };
  }
  const { files: dev, problem: devProblem } = await readDevProfile();
  if (request.profile === 'dev' && (!dev?.llm || !dev.stt)) {
    throw new Error(`The development models are not in place${devProblem ? ` (${devProblem})` : ''}: run \`npm run models -- dev\` first.`);
  }
  const warnings = devProblem ? [`The app starts as if the development models were absent: ${devProblem} (\`npm run models -- dev\` sets them up again).`] : [];
  const fromDev = request.profile === 'dev';
  const llmPath = request.llmModelPath ?? (fromDev ? dev?.llm : ((await installedModel('llm', request.modelsDir)) ?? dev?.llm));
  const sttPath = request.sttModelPath ?? (fromDev ? dev?.stt : ((await installedModel('stt', request.modelsDir)) ?? dev?.stt));
  const voicePath = request.voiceModelPath ?? (hasWorkerEngine('piper') ? dev?.voice : undefined);

  for (const [what, path] of [['LLM', llmPath], ['speech-to-text', sttPath], ['voice', voicePath]] as const) {
    if (path && !existsSync(path)) throw new Error(`The ${what} model file does not exist: ${path}`);
  }

  const summary: string[] = [];
  const placeholders: WorkerKind[] = [];
  const workers = { ...base.workers };

  workers.vad = real('silero-vad', 'silero-vad-v5', undefined, { cpuBound: false, ramBytes: 30 * MB, options: { minSilenceDurationMs: SILERO_MIN_SILENCE_MS, minSpeechDurationMs: SILERO_MIN_SPEECH_MS } });
  summary.push('vad: silero VAD (bundled)');

  if (llmPath) {
    workers.llm = real('llama', llmPath.split(/[\\/]/).pop()!, llmPath, { ramBytes: fileBytes(llmPath) * 1.5 + 200 * MB });
    summary.push(`llm: llama.cpp ${llmPath}`);
  } else {
    placeholders.push('llm');
    summary.push('llm: placeholder replies — no language model installed (`npm run models -- list`, then `pull <id>`)');
  }

  if (sttPath) {
    workers.stt = real('whisper', sttPath.split(/[\\/]/).pop()!, sttPath, { ramBytes: fileBytes(sttPath) * 2 + 100 * MB });
    summary.push(`stt: whisper.cpp ${sttPath}`);
  } else {
    placeholders.push('stt');
    summary.push('stt: placeholder transcripts — no whisper model installed (`npm run models -- pull whisper-tiny.en`)');
  }

  if (voicePath) {
    workers.tts = real('piper', voicePath.split(/[\\/]/).pop()!, voicePath, { ramBytes: fileBytes(voicePath) * 3 + 100 * MB });
    summary.push(`tts: Piper voice ${voicePath} (exact phoneme timings)`);
  } else {
    workers.tts = real('espeak', 'espeak-ng en-us (embedded)', undefined, { ramBytes: 60 * MB, options: { voice: 'en-us' } });
    summary.push('tts: embedded eSpeak NG voice (exact phoneme timings)');
  }

  const turnPath = fromDev ? dev?.turn : ((await installedModel('turn', request.modelsDir)) ?? dev?.turn);
  if (turnPath) {
    workers.turn = real('smart-turn', turnPath.split(/[\\/]/).pop()!, turnPath, { ramBytes: 120 * MB });
    summary.push(`turn: Smart Turn end-of-turn model ${turnPath} (a thinking pause keeps the turn open)`);
  } else {
    summary.push('turn: silence alone ends a turn — no end-of-turn model installed (`npm run models -- pull smart-turn-v3.2-cpu`)');
  }

  // Real runtimes compute synchronously inside their thread (the wasm eSpeak voice, a long prompt),
  // so a worker may not answer a ping for seconds on a busy CPU without being hung.
  const health = { ...base.health, pingDeadlineMs: Math.max(base.health.pingDeadlineMs, REAL_PING_DEADLINE_MS) };
  return {
    // Real runtimes keep one core for the renderer and the host (see MachineResources.reservedCores).
    config: { ...base, machine: { reservedCores: 1, ...base.machine }, workers, health, defaultPersona: SPOKEN_PERSONA, pipeline: { ...base.pipeline, turnDetection: base.pipeline.turnDetection ?? DEFAULT_TURN_DETECTION, maxTokens: Math.min(base.pipeline.maxTokens, 120), utterancePrerollMs: Math.max(base.pipeline.utterancePrerollMs, SILERO_PREROLL_MS), chunker: { ...base.pipeline.chunker, ...FIRST_CLAUSE } } },
    summary,
    placeholders,
    warnings,
  };
}
