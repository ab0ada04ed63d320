import { describe, expect, it } from 'vitest';
import { droppedTokenRange, dropsOldestMessages } from '../../app/native-workers/llm/llama-engine';

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

describe('dropsOldestMessages', () => {
  const system = { type: 'system' as const, text: 'You are a friendly avatar.' };
  const user = (text: string) => ({ type: 'user' as const, text });
  const model = (text: string) => ({ type: 'model' as const, response: [text] });
  const history = [system, user('a'), model('A'), user('b'), model('B'), user('c'), model('C')];

  it('is true when the window dropped the oldest exchanges, also with the last reply cut short', () => {
    expect(dropsOldestMessages(history, [system, user('b'), model('B'), user('c'), model('C')])).toBe(true);
    expect(dropsOldestMessages(history, [system, user('b'), model('B'), user('c'), model('C, cut')])).toBe(true);
  });

  it('finds the kept part where the same question was asked before', () => {
    const repeated = [system, user('a'), model('A'), user('q'), model('Q1'), user('b'), model('B'), user('q'), model('Q2'), user('c'), model('C')];
    expect(dropsOldestMessages(repeated, [system, user('q'), model('Q2'), user('c'), model('C')])).toBe(true);
  });

  it('is false for an extension, an edit in the middle, a new system prompt or the same history', () => {
    expect(dropsOldestMessages(history, [...history, user('d'), model('D')])).toBe(false);
    expect(dropsOldestMessages(history, [system, user('b'), model('B, edited'), user('c'), model('C')])).toBe(false);
    expect(dropsOldestMessages(history, [{ type: 'system', text: 'Another persona.' }, user('b'), model('B'), user('c'), model('C')])).toBe(false);
    expect(dropsOldestMessages(history, [system, user('x'), model('X')])).toBe(false);
    expect(dropsOldestMessages(history, history)).toBe(false);
  });
});
