import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { OnnxFormatError, readOnnxModelInfo, type OnnxModelInfo } from './onnx-model-info';
import type { SherpaVitsConfig } from './sherpa-tts-binding';

/**
 * Checks a VITS/Piper voice before sherpa-onnx sees it. sherpa exits the whole process (instead of
 * throwing) on many bad inputs: missing metadata, no lexicon and no data dir, an unknown frontend,
 * a malformed tokens.txt, a lexicon voice without the " " token. Each of those is caught here and
 * reported as an AppError that names the file at fault.
 */

/** `spec.options` of the sherpa-vits worker (the model itself is `spec.modelPath`). */
export const VitsVoiceOptionsSchema = z.object({
  tokensPath: z.string().min(1),
  /** Word → tokens lexicon (lexicon voices). */
  lexiconPath: z.string().min(1).optional(),
  /** espeak-ng-data folder (Piper voices, which phonemize with eSpeak NG). */
  dataDir: z.string().min(1).optional(),
  noiseScale: z.number().nonnegative().default(0.667),
  noiseScaleW: z.number().nonnegative().default(0.8),
  lengthScale: z.number().positive().default(1),
  speakerId: z.number().int().nonnegative().default(0),
});
export type VitsVoiceOptions = z.infer<typeof VitsVoiceOptionsSchema>;

/** How the voice turns text into tokens, which decides how we label its phonemes. */
export type VitsFrontend = 'lexicon' | 'espeak';

export interface ValidatedVitsVoice {
  sherpaConfig: SherpaVitsConfig;
  model: OnnxModelInfo;
  frontend: VitsFrontend;
  options: VitsVoiceOptions;
  sampleRateHz: number;
  /** eSpeak voice the model was trained with (Piper voices), e.g. "en-us". */
  espeakVoice: string;
}

const REQUIRED_METADATA = ['sample_rate', 'n_speakers', 'language', 'comment'] as const;
/** Input lists sherpa feeds correctly; any other list makes onnxruntime throw inside native code. */
const VITS_INPUT_LISTS = [
  ['x', 'x_length', 'noise_scale', 'length_scale', 'noise_scale_w'],
  ['x', 'x_length', 'noise_scale', 'length_scale', 'noise_scale_w', 'sid'],
  ['x', 'x_length', 'noise_scale', 'length_scale', 'noise_scale_w', 'speaker'],
];
const PIPER_INPUT_LISTS = [
  ['input', 'input_lengths', 'scales'],
  ['input', 'input_lengths', 'scales', 'sid'],
  ['input', 'input_lengths', 'scales', 'sid', 'langid'],
];
const ESPEAK_DATA_FILES = ['phontab', 'phonindex', 'phondata', 'intonations'];

function invalid(message: string): AppError {
  return new AppError(ErrorCode.ModelInvalid, message, false);
}

async function requireFile(path: string, role: string): Promise<void> {
  try {
    await access(path);
  } catch {
    throw new AppError(ErrorCode.ModelMissing, `The voice's ${role} file is missing: ${path}`, false);
  }
}

/** tokens.txt: one "symbol id" per line, or a bare id for the space token. */
export function parseTokens(text: string, tokensPath: string): Map<string, number> {
  const tokens = new Map<string, number>();
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.replace(/\r$/u, '');
    if (line.trim() === '') return;
    const parts = line.trim().split(/\s+/u);
    const [symbol, id] = parts.length === 1 ? [' ', parts[0]!] : [parts[0]!, parts[1]!];
    if (parts.length > 2 || !/^\d+$/u.test(id)) {
      throw invalid(`The voice's tokens file ${tokensPath} has a malformed line ${index + 1}: "${line}" (expected "symbol id").`);
    }
    if (!tokens.has(symbol)) tokens.set(symbol, Number(id));
  });
  if (tokens.size === 0) throw invalid(`The voice's tokens file ${tokensPath} is empty.`);
  return tokens;
}

async function readModelInfo(modelPath: string): Promise<OnnxModelInfo> {
  try {
    return readOnnxModelInfo(await readFile(modelPath));
  } catch (error) {
    if (error instanceof OnnxFormatError) throw invalid(`The voice model ${modelPath} is not an ONNX model (${error.message}).`);
    throw error;
  }
}

function checkInputs(model: OnnxModelInfo, allowed: readonly string[][], modelPath: string): void {
  const names = model.inputNames.join(', ');
  if (!allowed.some((list) => list.join(', ') === names) || model.outputNames.length === 0) {
    throw invalid(`The voice model ${modelPath} has inputs (${names}); sherpa-onnx can feed only (${allowed.map((list) => list.join(', ')).join(') or (')}).`);
  }
}

/** Validates files, model metadata and graph inputs; resolves with the config sherpa can load safely. */
export async function validateVitsVoice(modelPath: string | undefined, rawOptions: unknown, threads: number): Promise<ValidatedVitsVoice> {
  const parsed = VitsVoiceOptionsSchema.safeParse(rawOptions);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`The VITS voice options are invalid: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
  }
  const options = parsed.data;
  if (!modelPath) throw new AppError(ErrorCode.ModelMissing, 'No VITS model file was given.', false);
  await requireFile(modelPath, 'model');
  await requireFile(options.tokensPath, 'tokens');
  const tokens = parseTokens(await readFile(options.tokensPath, 'utf8'), options.tokensPath);
  const model = await readModelInfo(modelPath);

  for (const key of REQUIRED_METADATA) {
    if (!model.metadata[key]) throw invalid(`The voice model ${modelPath} lacks the "${key}" metadata that sherpa-onnx requires.`);
  }
  const sampleRateHz = Number(model.metadata.sample_rate);
  if (!Number.isInteger(sampleRateHz) || sampleRateHz <= 0) {
    throw invalid(`The voice model ${modelPath} has an invalid sample_rate "${model.metadata.sample_rate}".`);
  }
  const comment = model.metadata.comment!;
  if (/melo/u.test(comment) || model.metadata.jieba === '1' || model.metadata.frontend === 'characters') {
    throw invalid(`The voice model ${modelPath} is a ${model.metadata.frontend === 'characters' ? 'character-based' : 'MeloTTS/jieba'} voice, which this worker does not run.`);
  }
  if (model.metadata.language!.toLowerCase() === 'chinese') {
    throw invalid(`The voice model ${modelPath} is a Chinese lexicon voice, which this worker does not run.`);
  }

  checkInputs(model, /piper|coqui/u.test(comment) ? PIPER_INPUT_LISTS : VITS_INPUT_LISTS, modelPath);

  const phonemizesWithEspeak = /piper|coqui|icefall/u.test(comment) && options.dataDir !== undefined;
  let frontend: VitsFrontend;
  if (phonemizesWithEspeak) {
    for (const file of ESPEAK_DATA_FILES) await requireFile(join(options.dataDir!, file), `eSpeak data (${file})`);
    // sherpa's Piper front end reads one codepoint per token and looks up pad, start and end by name.
    const multiCodepoint = [...tokens.keys()].find((symbol) => [...symbol].length !== 1);
    if (multiCodepoint !== undefined) throw invalid(`The voice's tokens file ${options.tokensPath} has the token "${multiCodepoint}"; Piper voices need one codepoint per token.`);
    const missing = ['_', '^', '$'].filter((symbol) => !tokens.has(symbol));
    if (missing.length > 0) throw invalid(`The voice's tokens file ${options.tokensPath} lacks Piper's ${missing.map((symbol) => `"${symbol}"`).join(', ')} token(s).`);
    frontend = 'espeak';
  } else {
    if (!options.lexiconPath) {
      throw invalid(`The voice model ${modelPath} needs a lexicon (options.lexiconPath) or, for Piper voices, an eSpeak data folder (options.dataDir).`);
    }
    await requireFile(options.lexiconPath, 'lexicon');
    if (!tokens.has(' ')) throw invalid(`The voice's tokens file ${options.tokensPath} has no " " (word separator) token, which lexicon voices need.`);
    frontend = 'lexicon';
  }

  const sherpaConfig: SherpaVitsConfig = {
    model: {
      vits: {
        model: modelPath,
        tokens: options.tokensPath,
        lexicon: frontend === 'lexicon' ? options.lexiconPath! : '',
        dataDir: frontend === 'espeak' ? options.dataDir! : '',
        noiseScale: options.noiseScale,
        noiseScaleW: options.noiseScaleW,
        lengthScale: options.lengthScale,
      },
      numThreads: threads,
      provider: 'cpu',
      debug: false,
    },
    maxNumSentences: 1,
    // sherpa shortens silences by default (0.2); keep the model's own timing.
    silenceScale: 1,
  };
  return { sherpaConfig, model, frontend, options, sampleRateHz, espeakVoice: model.metadata.voice || 'en-us' };
}
