/**
 * AudioWorklet processor: mixes the microphone input to mono, resamples it to 16 kHz and posts
 * 20 ms frames (320 Float32 samples, buffer transferred) to the main thread. Bundled by Vite as a
 * worker module (`?worker&url`), so it is a same-origin script under the page's CSP.
 */
import { FrameAssembler, MIC_CAPTURE_PROCESSOR, MIC_FRAME_SAMPLES, MicResampler } from './mic-resampler';

// The AudioWorkletGlobalScope is not part of TypeScript's DOM lib.
declare const sampleRate: number;
declare function registerProcessor(name: string, processor: new () => AudioWorkletProcessorLike): void;
declare const AudioWorkletProcessor: new () => AudioWorkletProcessorLike;
interface AudioWorkletProcessorLike {
  readonly port: MessagePort;
  process(inputs: Float32Array[][]): boolean;
}

/** The message posted for every frame. */
export interface MicWorkletFrame {
  pcm: Float32Array<ArrayBuffer>;
}

class MicCaptureProcessor extends AudioWorkletProcessor {
  private readonly resampler = new MicResampler(sampleRate);
  private readonly assembler = new FrameAssembler(MIC_FRAME_SAMPLES, (pcm) => {
    const message: MicWorkletFrame = { pcm };
    this.port.postMessage(message, [pcm.buffer]);
  });
  private mono = new Float32Array(128);

  override process(inputs: Float32Array[][]): boolean {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const first = channels[0]!;
    let mono = first;
    if (channels.length > 1) {
      if (this.mono.length !== first.length) this.mono = new Float32Array(first.length);
      mono = this.mono;
      mono.fill(0);
      for (const channel of channels) for (let i = 0; i < channel.length; i += 1) mono[i]! += channel[i]! / channels.length;
    }
    this.resampler.push(mono, this.assembler.add);
    return true;
  }
}

registerProcessor(MIC_CAPTURE_PROCESSOR, MicCaptureProcessor);
