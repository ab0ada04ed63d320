import { createRequire } from 'node:module';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { whisperAddonPath } from './whisper-cpu-level';
import type { NativeSegment, NativeTranscribeParams, NativeWhisper, OpenWhisper } from './whisper-engine';

type SmartWhisper = typeof import('smart-whisper');
/** What the compiled addon itself exports (smart-whisper's JS entry re-exports these). */
interface SmartWhisperAddon {
  WhisperModel: SmartWhisper['WhisperModel'];
  transcribe: SmartWhisper['binding']['transcribe'];
}

let loaded: Promise<{ addon: SmartWhisperAddon; level: string }> | undefined;

/**
 * The addon is compiled at install by whisper-addon/ once per CPU level; this loads the fastest one
 * this CPU runs (whisper-cpu-level.ts), never a build with instructions the CPU lacks. It routes
 * whisper.cpp's log lines to stderr unless NODE_ENV is "production" when it initializes (per
 * thread), so the engine loads it with that set (the worker's own process.env copy, restored right after).
 */
function loadSmartWhisper(): Promise<{ addon: SmartWhisperAddon; level: string }> {
  loaded ??= (async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const { path, level } = whisperAddonPath();
      return { addon: createRequire(import.meta.url)(path) as SmartWhisperAddon, level: level.name };
    } catch (error) {
      loaded = undefined;
      const reason = error instanceof Error ? error.message : String(error);
      throw new AppError(ErrorCode.Internal, `The whisper.cpp addon is not built; run "npm rebuild stt-whisper-addon" (${reason}).`, false, { cause: error });
    } finally {
      if (previous === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = previous;
    }
  })();
  return loaded;
}

/** Loads a ggml model through smart-whisper (its low-level binding: one call, one result, no task queue). */
export const openSmartWhisper: OpenWhisper = async ({ filePath, useGpu }) => {
  const {
    addon: { WhisperModel, transcribe },
    level,
  } = await loadSmartWhisper();
  const model = await WhisperModel.load(filePath, useGpu);
  return {
    transcribe(pcm: Float32Array, params: NativeTranscribeParams, onSegment: (segment: NativeSegment) => void): Promise<NativeSegment[]> {
      const handle = model.handle;
      if (!handle) return Promise.reject(new Error('the model was freed'));
      return new Promise((resolve, reject) => {
        // The addon answers with the segments, or with an Error when whisper_full fails.
        const finish = (results: NativeSegment[] | Error): void => (results instanceof Error ? reject(results) : resolve(results));
        transcribe(handle, pcm, params, finish as (results: NativeSegment[]) => void, onSegment);
      });
    },
    free: () => model.free(),
    cpuLevel: level,
  } satisfies NativeWhisper;
};
