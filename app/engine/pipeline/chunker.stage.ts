import { ClauseChunker, defaultChunkerOptions, type ChunkerOptions } from './clause-chunker';
import type { Stage } from './stage';

/** A speakable piece of the reply, numbered in speaking order. */
export interface Clause {
  seq: number;
  text: string;
}

/** Reply text deltas → speakable clauses, the first released as soon as it is speakable. */
export function chunkerStage(options: ChunkerOptions = defaultChunkerOptions): Stage<string, Clause> {
  return async function* chunk(deltas, signal) {
    const chunker = new ClauseChunker(options);
    let seq = 0;
    for await (const delta of deltas) {
      signal.throwIfAborted();
      for (const text of chunker.push(delta)) yield { seq: seq++, text };
    }
    for (const text of chunker.flush()) yield { seq: seq++, text };
  };
}
