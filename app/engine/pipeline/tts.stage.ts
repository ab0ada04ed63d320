import type { PhonemeSpan } from '../../shared/phoneme.contract';
import type { TtsRunInput } from '../../shared/worker.contract';
import type { WorkerPool } from '../pool/worker-pool';
import type { Clause } from './chunker.stage';
import { orderedMap } from './ordered-map';
import { speakableText } from './speakable-text';
import type { Stage } from './stage';

/** A clause as audio with its phoneme timeline. */
export interface SpeechChunk extends Clause {
  sampleRateHz: number;
  pcm: Float32Array<ArrayBuffer>;
  phonemes: PhonemeSpan[];
  durationMs: number;
}

export interface TtsStageOptions {
  pool: WorkerPool;
  sessionId: string;
  voice?: string;
  /** TTS requests of one turn running at once; results still come out in `seq` order. */
  concurrency: number;
}

/** Clauses → speech (markup is not read aloud), synthesized with bounded concurrency and emitted strictly in seq order. */
export function ttsStage(options: TtsStageOptions): Stage<Clause, SpeechChunk> {
  return (clauses, signal) =>
    orderedMap(
      clauses,
      async (clause, _index, callSignal) => {
        const lease = await options.pool.lease('tts', options.sessionId, callSignal);
        try {
          const input: TtsRunInput = { kind: 'tts', text: speakableText(clause.text) || clause.text };
          if (options.voice !== undefined) input.voice = options.voice;
          const result = await lease.worker.run(input, { signal: callSignal });
          return {
            ...clause,
            sampleRateHz: result.sampleRateHz,
            pcm: result.pcm,
            phonemes: result.phonemes,
            durationMs: (result.pcm.length * 1000) / result.sampleRateHz,
          };
        } finally {
          lease.release();
        }
      },
      { concurrency: options.concurrency, signal },
    );
}
