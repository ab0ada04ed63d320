import { isAbsolute } from 'node:path';
import type { ModelKind } from '../../shared/catalog.contract';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { isModelPath, type ModelChoices } from '../../shared/settings.contract';
import { checkModelFile } from '../models/model-file-check';
import type { ModelManager } from '../models/model-manager';

/** The model settings: which catalog kind each one is, and its name in words. */
export const MODEL_SETTINGS = [
  { setting: 'llm', kind: 'llm', words: 'language model' },
  { setting: 'stt', kind: 'stt', words: 'speech-to-text model' },
  { setting: 'voice', kind: 'tts', words: 'voice' },
] as const satisfies ReadonlyArray<{ setting: keyof ModelChoices; kind: ModelKind; words: string }>;

export type ModelSetting = (typeof MODEL_SETTINGS)[number]['setting'];

/** Words for a model setting ("speech-to-text model"). */
export function modelSettingWords(setting: ModelSetting): string {
  return MODEL_SETTINGS.find((entry) => entry.setting === setting)!.words;
}

/**
 * Checks one model choice before it is saved: a file path must be a model of the setting's kind
 * that its runtime can load (the load's own header and size checks); a model id must be installed
 * and of that kind. Throws AppError (model_missing / model_invalid, recoverable) in words.
 */
export async function checkModelChoice(setting: ModelSetting, choice: string, manager: () => Promise<ModelManager>): Promise<void> {
  const { kind, words } = MODEL_SETTINGS.find((entry) => entry.setting === setting)!;
  try {
    let path = choice;
    if (!isAbsolute(choice) && !isModelPath(choice)) {
      const models = await manager();
      const entry = models.catalog.models.find((model) => model.id === choice);
      if (entry && entry.kind !== kind) {
        throw new AppError(ErrorCode.ModelInvalid, `"${choice}" is a ${MODEL_SETTINGS.find((e) => e.kind === entry.kind)!.words}, not a ${words}.`, true);
      }
      path = await models.resolve(choice);
    }
    await checkModelFile(kind, path);
  } catch (error) {
    const appError = AppError.from(error);
    throw new AppError(appError.code, `The ${words} setting was not saved: ${appError.message}`, true, { cause: error });
  }
}
