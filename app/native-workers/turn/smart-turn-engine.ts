import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { LoadSpec, RunInput, TurnRunResult } from '../../shared/worker.contract';
import type { WorkerEngine } from '../worker-runtime';
import { SmartTurnModel } from './smart-turn-model';


/** The end-of-turn worker: Smart Turn v3 in onnxruntime-node, one prediction per request. */
export class SmartTurnEngine implements WorkerEngine {
  private model: SmartTurnModel | null = null;

  async load(spec: LoadSpec): Promise<Record<string, unknown>> {
    if (!spec.modelPath) throw new AppError(ErrorCode.ModelMissing, 'The end-of-turn worker needs a Smart Turn model file.', false);
    this.model = await SmartTurnModel.load({ modelPath: spec.modelPath, threads: spec.threads });
    // The first run builds onnxruntime's kernels: pay for it at load, not on the user's first turn.
    await this.model.predict(new Float32Array(16_000));
    return { engine: 'smart-turn', model: spec.modelPath, threads: spec.threads };
  }

  async run(input: RunInput): Promise<{ data: TurnRunResult }> {
    if (input.kind !== 'turn') throw new AppError(ErrorCode.InvalidMessage, `The end-of-turn worker cannot run "${input.kind}" requests.`, true);
    if (!this.model) throw new AppError(ErrorCode.ModelMissing, 'The Smart Turn model is not loaded.', true);
    return { data: await this.model.predict(input.pcm) };
  }

  async unload(): Promise<void> {
    await this.model?.release();
    this.model = null;
  }
}
