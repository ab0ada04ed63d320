import { describe, expect, it } from 'vitest';
import { ScheduledVisemeTrack } from '../../app/shared/lipsync/scheduled-viseme-track';

describe('scheduled viseme track (audio clock, several chunks)', () => {
  it('places each chunk at its start time, blends across the chunk boundary, and samples purely', () => {
    const lipSync = new ScheduledVisemeTrack();
    lipSync.schedule([{ phoneme: 'sil', startMs: 0, endMs: 100 }, { phoneme: 'ɑː', startMs: 100, endMs: 300 }], 10);
    lipSync.schedule([{ phoneme: 'uː', startMs: 0, endMs: 200 }, { phoneme: 'sil', startMs: 200, endMs: 300 }], 10.3);
    expect(lipSync.sample(10.05).viseme).toBe('sil');
    expect(lipSync.sample(10.2)).toMatchObject({ viseme: 'aa', weights: { aa: 1 } });
    // The chunk boundary at 10.3 s is an ordinary aa → ou crossfade.
    expect(lipSync.sample(10.3).weights.aa).toBeCloseTo(0.5, 9);
    expect(lipSync.sample(10.3).weights.ou).toBeCloseTo(0.5, 9);
    expect(lipSync.sample(10.4).viseme).toBe('ou');
    // Pure: asking again for an earlier time gives the same answer.
    expect(lipSync.sample(10.2).viseme).toBe('aa');
    expect(lipSync.sample(20).viseme).toBe('sil');
  });

  it('cuts what would be heard after a barge-in and returns the mouth to rest', () => {
    const lipSync = new ScheduledVisemeTrack();
    lipSync.schedule([{ phoneme: 'ɑː', startMs: 0, endMs: 1000 }], 5);
    expect(lipSync.sample(5.5).viseme).toBe('aa');
    lipSync.cut(5.4);
    expect(lipSync.sample(5.3).viseme).toBe('aa');
    expect(lipSync.sample(5.5).viseme).toBe('sil');
  });

  it('keeps every chunk still to be heard when the reply is voiced far ahead of its audio', () => {
    // Four 3 s chunks arrive while the first one plays (a fast machine writes and voices the whole
    // reply in a second): the later chunks start up to 9 s ahead of what is being heard.
    const lipSync = new ScheduledVisemeTrack();
    const chunk = (phoneme: string) => [{ phoneme, startMs: 0, endMs: 3000 }];
    lipSync.schedule(chunk('ɑː'), 0);
    expect(lipSync.sample(0.5).viseme).toBe('aa');
    lipSync.schedule(chunk('uː'), 3);
    lipSync.schedule(chunk('iː'), 6);
    lipSync.schedule(chunk('ɑː'), 9);
    expect(lipSync.sample(1).viseme).toBe('aa');
    expect(lipSync.sample(4.5).viseme).toBe('ou');
    expect(lipSync.sample(7.5).viseme).toBe('ih');
    expect(lipSync.sample(10.5).viseme).toBe('aa');
  });

  it('forgets what is well behind the listener', () => {
    const lipSync = new ScheduledVisemeTrack();
    lipSync.schedule([{ phoneme: 'uː', startMs: 0, endMs: 1000 }], 0);
    expect(lipSync.sample(10).viseme).toBe('sil');
    lipSync.schedule([{ phoneme: 'ɑː', startMs: 0, endMs: 1000 }], 10);
    // The first chunk ended 9 s before the audio being heard: it is gone, the new one is there.
    expect(lipSync.sample(0.5).viseme).toBe('sil');
    expect(lipSync.sample(10.5).viseme).toBe('aa');
  });
});
