import { describe, expect, it } from 'vitest';
import { droppedTokenRange } from '../../app/native-workers/llm/llama-engine';

const run = (from: number, count: number): number[] => Array.from({ length: count }, (_, index) => from + index);

describe('droppedTokenRange', () => {
  const system = run(1, 10);
  const dropped = run(100, 40);
  const kept = run(200, 60);

  it('finds the block the window took out after the common prefix', () => {
    expect(droppedTokenRange([...system, ...dropped, ...kept], [...system, ...kept])).toEqual({ start: 10, end: 50 });
  });

  it('lines the kept part up where it matches longest, not at an earlier copy of its start', () => {
    // The dropped block begins and ends with copies of the kept part's first 30 tokens (a repeated question and answer).
    const current = [...system, ...run(300, 5), ...kept.slice(0, 30), ...run(500, 10), ...kept.slice(0, 30), ...run(600, 5), ...kept];
    const next = [...system, ...kept];
    const range = droppedTokenRange(current, next)!;
    expect(range).toEqual({ start: 10, end: 10 + 5 + 30 + 10 + 30 + 5 });
    expect([...current.slice(0, range.start), ...current.slice(range.end)]).toEqual(next);
  });

  it('gives nothing for an extension, a changed tail or a short remainder', () => {
    expect(droppedTokenRange([...system, ...kept], [...system, ...kept, ...run(900, 5)])).toBeNull();
    expect(droppedTokenRange([...system, ...kept], [...system, ...kept.slice(0, 50), ...run(900, 5)])).toBeNull();
    expect(droppedTokenRange([...system, ...dropped, ...kept], [...system, ...run(900, 10)])).toBeNull();
    expect(droppedTokenRange([], [])).toBeNull();
  });
});
