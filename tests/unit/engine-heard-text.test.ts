import { describe, expect, it } from 'vitest';
import { heardPrefix, heardText, type ChunkPlayback } from '../../app/engine/conversation/heard-text';

const chunks = [
  { seq: 0, text: 'Hello there friend.', durationMs: 1000 },
  { seq: 1, text: 'This is the second part.', durationMs: 2000 },
];

describe('heard text (what history keeps after barge-in)', () => {
  it('keeps only whole words within the played fraction', () => {
    expect(heardPrefix('Hello there friend.', 0.5)).toBe('Hello');
    expect(heardPrefix('Hello there friend.', 0.7)).toBe('Hello there');
    expect(heardPrefix('Hello there friend.', 0.1)).toBe('');
    expect(heardPrefix('Hello there friend.', 1)).toBe('Hello there friend.');
  });

  it('joins finished chunks and cuts the playing one proportionally', () => {
    const playback = new Map<number, ChunkPlayback>([
      [0, { playedMs: 1000, ended: true, reportedAtMs: 0 }],
      [1, { playedMs: 1100, ended: false, reportedAtMs: 100 }],
    ]);
    expect(heardText(chunks, playback, 100)).toBe('Hello there friend. This is the');
  });

  it('extrapolates from the last report, because audio kept playing since', () => {
    const playback = new Map<number, ChunkPlayback>([[0, { playedMs: 200, ended: false, reportedAtMs: 1000 }]]);
    expect(heardText(chunks, playback, 1000)).toBe('');
    expect(heardText(chunks, playback, 1500)).toBe('Hello there');
  });

  it('counts nothing from chunks the renderer never reported', () => {
    expect(heardText(chunks, new Map(), 5000)).toBe('');
  });
});
