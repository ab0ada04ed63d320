import { describe, expect, it } from 'vitest';
import { estimateSpans } from '../../app/native-workers/tts/estimated-timeline';
import { refineWithSilence, spansFromOnsets, toMillisecondSpans } from '../../app/native-workers/tts/phoneme-timeline';

const RATE_HZ = 1000; // one sample per ms keeps the arithmetic readable

/** `ms` of a loud tone, or of silence. */
function tone(ms: number): number[] {
  return Array.from({ length: ms }, (_, i) => 0.5 * Math.sin(i));
}
function silence(ms: number): number[] {
  return Array.from({ length: ms }, () => 0);
}

describe('phoneme timeline from onsets', () => {
  it('tiles the audio: leading silence, each onset until the next, stress marks removed', () => {
    const spans = spansFromOnsets(
      [
        { phoneme: 'h', sample: 20 },
        { phoneme: 'ˈɛ', sample: 50 },
        { phoneme: 'l', sample: 50 },
        { phoneme: 'oʊ', sample: 90 },
        { phoneme: '', sample: 180 },
      ],
      200,
    );
    expect(spans).toEqual([
      { phoneme: 'sil', startSample: 0, endSample: 20 },
      { phoneme: 'h', startSample: 20, endSample: 50 },
      { phoneme: 'l', startSample: 50, endSample: 90 },
      { phoneme: 'oʊ', startSample: 90, endSample: 180 },
      { phoneme: 'sil', startSample: 180, endSample: 200 },
    ]);
  });

  it('gives a stop its silent closure and turns a long silent tail into a pause', () => {
    // "a" sounds 0–100 then 30 ms closure; "p" bursts at 130; "a" 130–250, then 100 ms of silence before "m".
    const pcm = Float32Array.from([...tone(100), ...silence(30), ...tone(120), ...silence(100), ...tone(100)]);
    const onsets = [
      { phoneme: 'a', sample: 0 },
      { phoneme: 'p', sample: 130 },
      { phoneme: 'a', sample: 140 },
      { phoneme: 'm', sample: 350 },
    ];
    const spans = refineWithSilence(spansFromOnsets(onsets, pcm.length), pcm, RATE_HZ);
    expect(spans).toEqual([
      { phoneme: 'a', startSample: 0, endSample: 100 },
      { phoneme: 'p', startSample: 100, endSample: 140 },
      { phoneme: 'a', startSample: 140, endSample: 250 },
      { phoneme: 'sil', startSample: 250, endSample: 350 },
      { phoneme: 'm', startSample: 350, endSample: 450 },
    ]);
    const ms = toMillisecondSpans(spans, 22050);
    for (let i = 1; i < ms.length; i++) expect(ms[i]!.startMs).toBe(ms[i - 1]!.endMs);
  });

  it('estimates spans over the audible part only, in proportion to typical durations', () => {
    const pcm = Float32Array.from([...silence(100), ...tone(300), ...silence(100)]);
    const spans = estimateSpans(['p', 'aɪ', 'sil', 'm'], pcm, RATE_HZ);
    expect(spans[0]).toEqual({ phoneme: 'sil', startSample: 0, endSample: 100 });
    expect(spans.at(-1)).toEqual({ phoneme: 'sil', startSample: 400, endSample: 500 });
    const diphthong = spans.find((span) => span.phoneme === 'aɪ')!;
    const stop = spans.find((span) => span.phoneme === 'p')!;
    expect(diphthong.endSample - diphthong.startSample).toBeGreaterThan(stop.endSample - stop.startSample);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.startSample).toBe(spans[i - 1]!.endSample);
  });

  it('anchors word separators at the pauses the audio shows', () => {
    // Two words of 200 ms and 100 ms with a 60 ms pause between them.
    const pcm = Float32Array.from([...silence(50), ...tone(200), ...silence(60), ...tone(100), ...silence(50)]);
    const spans = estimateSpans(['h', 'ɛ', 'l', 'oʊ', 'sil', 'b', 'aɪ'], pcm, RATE_HZ);
    expect(spans.find((span, index) => index > 0 && span.phoneme === 'sil' && span.endSample < 400)).toEqual({
      phoneme: 'sil',
      startSample: 250,
      endSample: 310,
    });
    expect(spans.find((span) => span.phoneme === 'b')!.startSample).toBe(310);
    expect(spans.find((span) => span.phoneme === 'oʊ')!.endSample).toBe(250);
    expect(spans.at(-1)).toEqual({ phoneme: 'sil', startSample: 410, endSample: 460 });
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.startSample).toBe(spans[i - 1]!.endSample);
  });
});
