import * as ort from 'onnxruntime-node';
import { fitToWindow, WHISPER_MEL_COUNT, WHISPER_SAMPLE_RATE_HZ, WhisperFeatureExtractor } from '../../shared/audio/whisper-features';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import { checkSmartTurnModelFile, SMART_TURN_FRAME_COUNT, SMART_TURN_INPUT } from './smart-turn-model-check';

/**
 * Smart Turn v3 (pipecat-ai/smart-turn, BSD-2-Clause): has the user finished their turn? Takes the
 * turn's 16 kHz audio so far, keeps its last 8 s (zeros in front of a shorter turn, as pipecat's
 * LocalSmartTurnAnalyzerV3 does), computes Whisper log-mel features in TypeScript and runs the ONNX
 * model in onnxruntime-node, in whatever thread creates it. The file is checked before onnxruntime
 * sees it (smart-turn-model-check.ts).
 */

export const SMART_TURN_SAMPLE_RATE_HZ = WHISPER_SAMPLE_RATE_HZ;
export const SMART_TURN_WINDOW_SEC = 8;
export const SMART_TURN_WINDOW_SAMPLES = SMART_TURN_WINDOW_SEC * SMART_TURN_SAMPLE_RATE_HZ;

export interface SmartTurnOptions {
  modelPath: string;
  /** onnxruntime intra-op threads (default 1, as pipecat runs it). */
  threads?: number;
}

export interface SmartTurnPrediction {
  /** Probability in [0, 1] that the turn is complete (pipecat says complete above 0.5). */
  completeProbability: number;
  /** Features plus the model call, in ms. */
  inferenceMs: number;
}

export class SmartTurnModel {
  private readonly features = new WhisperFeatureExtractor(SMART_TURN_WINDOW_SAMPLES);

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly outputName: string,
    readonly modelPath: string,
  ) {}

  /** Checks the file, then opens the onnxruntime session. */
  static async load(options: SmartTurnOptions): Promise<SmartTurnModel> {
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1) {
      throw new AppError(ErrorCode.InvalidMessage, `Smart Turn threads must be a whole number ≥ 1, not ${threads}.`, false);
    }
    const file = await checkSmartTurnModelFile(options.modelPath);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(file.bytes, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new AppError(ErrorCode.ModelInvalid, `onnxruntime cannot load the Smart Turn model ${options.modelPath}: ${why}`, false, { cause: error });
    }
    return new SmartTurnModel(session, file.outputName, options.modelPath);
  }

  /** Probability that the turn in `pcm16k` (16 kHz mono, the turn so far) is complete. */
  async predict(pcm16k: Float32Array): Promise<SmartTurnPrediction> {
    if (pcm16k.length === 0) throw new AppError(ErrorCode.BadAudio, 'Smart Turn needs some audio of the turn, and got none.', true);
    for (let i = 0; i < pcm16k.length; i++) {
      if (!Number.isFinite(pcm16k[i]!)) throw new AppError(ErrorCode.BadAudio, `The turn audio has a non-finite sample at ${i}.`, true);
    }
    const startedMs = performance.now();
    const features = this.features.compute(fitToWindow(pcm16k, SMART_TURN_WINDOW_SAMPLES));
    const input = new ort.Tensor('float32', features, [1, WHISPER_MEL_COUNT, SMART_TURN_FRAME_COUNT]);
    const outputs = await this.session.run({ [SMART_TURN_INPUT]: input }, [this.outputName]);
    const output = outputs[this.outputName];
    const completeProbability = output?.type === 'float32' ? (output.data as Float32Array)[0] : undefined;
    for (const tensor of Object.values(outputs)) tensor.dispose();
    input.dispose();
    if (completeProbability === undefined || !(completeProbability >= 0 && completeProbability <= 1)) {
      throw new AppError(ErrorCode.Internal, `The Smart Turn model ${this.modelPath} returned ${completeProbability}, not a probability.`, true);
    }
    return { completeProbability, inferenceMs: performance.now() - startedMs };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
