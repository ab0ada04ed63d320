import { rmsOf } from '../../shared/audio/pcm';
import { AppError, ErrorCode } from '../../shared/errors.contract';
import type { VadDetection, VadStreamOutput, VadTune } from '../../shared/worker.contract';

interface StreamState {
  /** The sensitivity asked for (the settings); taken over between utterances. */
  tune: VadTune;
  positionMs: number;
  speaking: boolean;
  /** RMS threshold and end silence in use; a new sensitivity takes over between utterances. */
  thresholdRms: number;
  minSilenceMs: number;
  runStartMs: number;
  runMs: number;
}

export interface EnergyVadOptions {
  vadThreshold: number;
  vadFrameMs: number;
  vadMinSpeechMs: number;
  vadMinSilenceMs: number;
  vadProbability: 'energy' | 'state';
}


/** RMS per unit of speech probability: probability 0.5 ⇔ the default RMS threshold 0.02. */
const RMS_PER_PROBABILITY = 0.04;

/** Energy-threshold VAD with independent state per stream: speech after a run of loud frames, silence after a quiet hangover. */
export class EnergyVad {
  private readonly streams = new Map<string, StreamState>();

  constructor(private readonly options: EnergyVadOptions) {}

  open(streamId: string, tune: VadTune): void {
    this.streams.set(streamId, { tune, positionMs: 0, speaking: false, thresholdRms: 0, minSilenceMs: 0, runStartMs: 0, runMs: 0 });
  }

  tune(streamId: string, tune: VadTune): void {
    this.stateOf(streamId).tune = tune;
  }

  process(streamId: string, pcm: Float32Array, sampleRateHz: number): VadStreamOutput {
    const state = this.stateOf(streamId);
    const thresholdRms = state.tune.threshold !== undefined ? state.tune.threshold * RMS_PER_PROBABILITY : this.options.vadThreshold;
    const minSilenceMs = state.tune.minSilenceMs ?? this.options.vadMinSilenceMs;
    if (!state.speaking || state.thresholdRms === 0) {
      state.thresholdRms = thresholdRms;
      state.minSilenceMs = minSilenceMs;
    }
    const frameSamples = Math.max(1, Math.round((this.options.vadFrameMs * sampleRateHz) / 1000));
    const events: VadDetection[] = [];
    let probability = 0;
    for (let start = 0; start < pcm.length; start += frameSamples) {
      const end = Math.min(pcm.length, start + frameSamples);
      const rms = rmsOf(pcm, start, end);
      const frameMs = ((end - start) * 1000) / sampleRateHz;
      probability = Math.min(1, rms / (2 * state.thresholdRms));
      const loud = rms >= state.thresholdRms;
      // A run counts frames that disagree with the current state.
      if (loud !== state.speaking) {
        if (state.runMs === 0) state.runStartMs = state.positionMs;
        state.runMs += frameMs;
        const needed = state.speaking ? state.minSilenceMs : this.options.vadMinSpeechMs;
        if (state.runMs >= needed) {
          state.speaking = loud;
          events.push({ event: loud ? 'speech-start' : 'speech-end', atMs: state.runStartMs });
          state.runMs = 0;
        }
      } else state.runMs = 0;
      state.positionMs += frameMs;
    }
    return { events, probability: this.options.vadProbability === 'state' ? Number(state.speaking) : probability };
  }

  release(streamId: string): void {
    this.streams.delete(streamId);
  }

  private stateOf(streamId: string): StreamState {
    const state = this.streams.get(streamId);
    if (!state) throw new AppError(ErrorCode.InvalidMessage, `There is no open VAD stream "${streamId}".`, true);
    return state;
  }
}
