import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { AppError, ErrorCode } from '../../shared/errors.contract';

/**
 * A Piper voice's `.onnx.json`: sample rate, eSpeak voice, inference scales, the phoneme → id map
 * and (multi-speaker voices) the speaker map. `hop_length` (samples per duration frame) defaults to
 * 256, the value of every Piper VITS voice.
 */

export const PAD = '_';
export const BOS = '^';
export const EOS = '$';
export const DEFAULT_HOP_LENGTH = 256;

const PiperConfigSchema = z.object({
  audio: z.object({ sample_rate: z.number().int().positive() }),
  espeak: z.object({ voice: z.string().min(1) }),
  inference: z
    .object({
      noise_scale: z.number().nonnegative().default(0.667),
      length_scale: z.number().positive().default(1),
      noise_w: z.number().nonnegative().default(0.8),
    })
    .prefault({}),
  phoneme_type: z.string().default('espeak'),
  phoneme_id_map: z.record(z.string(), z.array(z.number().int().nonnegative()).min(1)),
  num_speakers: z.number().int().positive().default(1),
  speaker_id_map: z.record(z.string(), z.number().int().nonnegative()).default({}),
  hop_length: z.number().int().positive().default(DEFAULT_HOP_LENGTH),
});

export interface PiperVoiceConfig {
  sampleRateHz: number;
  espeakVoice: string;
  noiseScale: number;
  lengthScale: number;
  noiseW: number;
  phonemeIdMap: ReadonlyMap<string, readonly number[]>;
  speakerCount: number;
  speakerIds: Readonly<Record<string, number>>;
  hopLength: number;
}

function invalid(configPath: string, why: string): AppError {
  return new AppError(ErrorCode.ModelInvalid, `The Piper voice config ${configPath} is invalid: ${why}`, false);
}

/** Parses `.onnx.json` text; throws model_invalid naming the file. */
export function parsePiperConfig(text: string, configPath: string): PiperVoiceConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalid(configPath, `not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const parsed = PiperConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(configPath, `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'unexpected shape'}`);
  }
  const config = parsed.data;
  if (config.phoneme_type !== 'espeak') throw invalid(configPath, `phoneme_type "${config.phoneme_type}" is not supported (only "espeak")`);
  for (const symbol of [PAD, BOS, EOS]) {
    if (!config.phoneme_id_map[symbol]) throw invalid(configPath, `phoneme_id_map has no "${symbol}"`);
  }
  return {
    sampleRateHz: config.audio.sample_rate,
    espeakVoice: config.espeak.voice,
    noiseScale: config.inference.noise_scale,
    lengthScale: config.inference.length_scale,
    noiseW: config.inference.noise_w,
    phonemeIdMap: new Map(Object.entries(config.phoneme_id_map)),
    speakerCount: config.num_speakers,
    speakerIds: config.speaker_id_map,
    hopLength: config.hop_length,
  };
}

/** Reads and parses the config; a missing file is model_missing. */
export async function readPiperConfig(configPath: string): Promise<PiperVoiceConfig> {
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch {
    throw new AppError(ErrorCode.ModelMissing, `The Piper voice config is missing: ${configPath}`, false);
  }
  return parsePiperConfig(text, configPath);
}
