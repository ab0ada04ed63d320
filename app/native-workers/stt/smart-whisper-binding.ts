import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { NativeSegment, NativeTranscribeParams, NativeWhisper, OpenWhisper } from './whisper-engine';

type SmartWhisper = typeof import('smart-whisper');

let loaded: Promise<SmartWhisper> | undefined;

/**
 * smart-whisper's addon routes whisper.cpp's log lines to stderr unless NODE_ENV is "production"
 * when it initializes (per thread), so the engine loads it with that set (the worker's own
 * process.env copy, restored right after). The addon is compiled at install by whisper-addon/.
 */
function loadSmartWhisper(): Promise<SmartWhisper> {
  loaded ??= (async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      return await import('smart-whisper');
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
  const { WhisperModel, binding } = await loadSmartWhisper();
  const model = await WhisperModel.load(filePath, useGpu);
  return {
    transcribe(pcm: Float32Array, params: NativeTranscribeParams, onSegment: (segment: NativeSegment) => void): Promise<NativeSegment[]> {
      const handle = model.handle;
      if (!handle) return Promise.reject(new Error('the model was freed'));
      return new Promise((resolve, reject) => {
        // The addon answers with the segments, or with an Error when whisper_full fails.
        const finish = (results: NativeSegment[] | Error): void => (results instanceof Error ? reject(results) : resolve(results));
        binding.transcribe(handle, pcm, params, finish as (results: NativeSegment[]) => void, onSegment);
      });
    },
    free: () => model.free(),
  } satisfies NativeWhisper;
};
