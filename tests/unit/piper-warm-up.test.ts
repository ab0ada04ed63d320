import { describe, expect, it } from 'vitest';
import { WARM_UP_TEXTS } from '../../app/native-workers/piper/piper-engine';
import { ClauseChunker, defaultChunkerOptions } from '../../app/engine/pipeline/clause-chunker';

describe('the Piper warm-up', () => {
  it('ends with one sentence as long as the longest chunk the reply chunker makes, so the arena grows at load', () => {
    const longest = WARM_UP_TEXTS.at(-1)!;
    const words = longest.split(/\s+/).length;
    expect(words).toBeGreaterThanOrEqual(2 * defaultChunkerOptions.longChunkWords);
    // One sentence: Piper runs the model once per sentence, so the whole phrase is one input.
    expect(longest.slice(0, -1)).not.toMatch(/[.!?…]/);
    // However long a reply runs on without a mark, no chunk of it is longer.
    const chunker = new ClauseChunker();
    const rambling = Array.from({ length: 200 }, (_, index) => ['and', 'then', 'the', 'little', 'robot', 'kept', 'walking'][index % 7]).join(' ');
    const chunks = [...chunker.push(`Well, ${rambling} `), ...chunker.flush()];
    expect(chunks.length).toBeGreaterThan(3);
    expect(Math.max(...chunks.map((chunk) => chunk.split(/\s+/).length))).toBeLessThanOrEqual(words);
  });
});
