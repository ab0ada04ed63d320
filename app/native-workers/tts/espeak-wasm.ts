import { AppError, ErrorCode } from '../../shared/errors.contract';

/**
 * eSpeak NG compiled by Emscripten (@echogarden/espeak-ng-emscripten, GPL-3.0; a wasm2js build,
 * i.e. the WebAssembly translated to asm.js-style JavaScript), driven through espeak's synth
 * callback so every phoneme event carries its exact sample position. The build reports phonemes in
 * IPA (espeakINITIALIZE_PHONEME_IPA); its voice data is packed inside the package, so this voice
 * needs no download.
 */

/** The parts of the Emscripten module and its WebIDL bindings that we use. */
interface EspeakEvent {
  get_type(): number;
  get_sample(): number;
}
interface EspeakWorkerHandle {
  set_voice(name: string): number;
  set_rate(wordsPerMinute: number): number;
  get_samplerate(): number;
  getSizeOfEventStruct_(): number;
  getStringIDFromEventStruct_(eventPointer: number): string;
  synth_(text: string, callbackPointer: number): void;
}
interface EspeakModule {
  eSpeakNGWorker: new () => EspeakWorkerHandle;
  espeak_EVENT: unknown;
  espeakEVENT_LIST_TERMINATED: number;
  espeakEVENT_PHONEME: number;
  HEAP16: Int16Array;
  addFunction(callback: (audioPointer: number, sampleCount: number, eventsPointer: number) => number, signature: string): number;
  removeFunction(pointer: number): void;
  wrapPointer(pointer: number, type: unknown): EspeakEvent;
}

/** One espeak phoneme event: the phoneme (IPA, possibly with stress marks) starts at `sample`. */
export interface EspeakPhonemeEvent {
  phoneme: string;
  sample: number;
}

export interface EspeakSynthesis {
  sampleRateHz: number;
  pcm: Float32Array<ArrayBuffer>;
  events: EspeakPhonemeEvent[];
}

/** espeak's default speaking rate; `speed` multiplies it. */
export const ESPEAK_DEFAULT_RATE_WPM = 175;
const MIN_RATE_WPM = 80;
const MAX_RATE_WPM = 450;

/** One eSpeak NG instance (not thread-safe; one per worker thread). */
export class EspeakSynthesizer {
  private voice = '';

  private constructor(private readonly module: EspeakModule, private readonly handle: EspeakWorkerHandle) {}

  /** Instantiates the module (reads the ≈ 24 MB voice data from the package). */
  static async create(): Promise<EspeakSynthesizer> {
    const { default: createModule } = await import('@echogarden/espeak-ng-emscripten');
    const module = (await createModule()) as EspeakModule;
    return new EspeakSynthesizer(module, new module.eSpeakNGWorker());
  }

  get sampleRateHz(): number {
    return this.handle.get_samplerate();
  }

  /** Selects an eSpeak voice by name (e.g. "en-us", "de", "fr"). */
  setVoice(name: string): void {
    if (name === this.voice) return;
    if (this.handle.set_voice(name) !== 0) {
      throw new AppError(ErrorCode.ModelInvalid, `eSpeak NG has no voice named "${name}".`, true);
    }
    this.voice = name;
  }

  /** Synthesizes `text` to mono PCM with the phoneme events espeak reported while producing it. */
  synthesize(text: string, speed = 1): EspeakSynthesis {
    const rateWpm = Math.round(Math.min(MAX_RATE_WPM, Math.max(MIN_RATE_WPM, ESPEAK_DEFAULT_RATE_WPM * speed)));
    this.handle.set_rate(rateWpm);
    const module = this.module;
    const eventSize = this.handle.getSizeOfEventStruct_();
    const blocks: Int16Array[] = [];
    const events: EspeakPhonemeEvent[] = [];
    const callback = module.addFunction((audioPointer, sampleCount, eventsPointer) => {
      if (sampleCount > 0) blocks.push(module.HEAP16.slice(audioPointer / 2, audioPointer / 2 + sampleCount));
      for (let pointer = eventsPointer; ; pointer += eventSize) {
        const event = module.wrapPointer(pointer, module.espeak_EVENT);
        const type = event.get_type();
        if (type === module.espeakEVENT_LIST_TERMINATED) break;
        if (type === module.espeakEVENT_PHONEME) {
          events.push({ phoneme: this.handle.getStringIDFromEventStruct_(pointer), sample: event.get_sample() });
        }
      }
      return 0; // 0 = continue synthesis
    }, 'iiii');
    try {
      this.handle.synth_(text, callback);
    } finally {
      module.removeFunction(callback);
    }
    const sampleCount = blocks.reduce((sum, block) => sum + block.length, 0);
    const pcm = new Float32Array(sampleCount);
    let offset = 0;
    for (const block of blocks) {
      for (let i = 0; i < block.length; i++) pcm[offset + i] = block[i]! / 32768;
      offset += block.length;
    }
    return { sampleRateHz: this.sampleRateHz, pcm, events };
  }
}
