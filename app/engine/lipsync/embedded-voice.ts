import { EspeakSynthesizer } from '../../native-workers/tts/espeak-wasm';
import { refineWithSilence, spansFromOnsets, toMillisecondSpans } from '../../native-workers/tts/phoneme-timeline';
import type { ReferenceClip } from '../../shared/lipsync/reference-alignment';

/**
 * The embedded eSpeak NG voice called directly (no worker): audio plus its exact phoneme timeline,
 * labelled in IPA like the `espeak` TTS worker labels it. Used as ground truth and as the reference
 * rendering for alignment.
 */

export interface RenderOptions {
  /** eSpeak voice, e.g. "en-us" or a variant "en-us+f3". */
  voice: string;
  /** Multiplies the default speaking rate. */
  speed: number;
}

export const DEFAULT_RENDER_OPTIONS: RenderOptions = { voice: 'en-us', speed: 1 };

/** One eSpeak NG instance; renders are synchronous and must not interleave across awaits. */
export class EmbeddedVoice {
  private constructor(private readonly synthesizer: EspeakSynthesizer) {}

  static async create(): Promise<EmbeddedVoice> {
    return new EmbeddedVoice(await EspeakSynthesizer.create());
  }

  /** Synthesizes `text` with its exact phoneme timeline (spans tile the audio). */
  render(text: string, options: Partial<RenderOptions> = {}): ReferenceClip {
    const { voice, speed } = { ...DEFAULT_RENDER_OPTIONS, ...options };
    this.synthesizer.setVoice(voice);
    const { sampleRateHz, pcm, events } = this.synthesizer.synthesize(text, speed);
    const spans = refineWithSilence(spansFromOnsets(events, pcm.length), pcm, sampleRateHz);
    return { pcm, sampleRateHz, phonemes: toMillisecondSpans(spans, sampleRateHz) };
  }
}
