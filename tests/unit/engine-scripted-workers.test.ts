import { describe, expect, it } from 'vitest';
import { scriptedReply, scriptedTokens } from '../../app/native-workers/scripted/scripted-reply';
import { synthesizeScriptedSpeech, textToSounds } from '../../app/native-workers/scripted/scripted-speech';
import { EnergyVad } from '../../app/native-workers/scripted/scripted-vad';

const rms = (pcm: Float32Array, from = 0, to = pcm.length): number => {
  let energy = 0;
  for (let i = from; i < to; i++) energy += pcm[i]! * pcm[i]!;
  return Math.sqrt(energy / Math.max(1, to - from));
};

describe('scripted TTS placeholder speech', () => {
  it('has a phoneme timeline that tiles the samples exactly', () => {
    const speech = synthesizeScriptedSpeech('Hello there, Dr. Pepper! 42 sheep.', 22050);
    const durationMs = (speech.pcm.length * 1000) / speech.sampleRateHz;
    expect(speech.phonemes[0]!.startMs).toBe(0);
    expect(speech.phonemes.at(-1)!.endMs).toBeCloseTo(durationMs, 9);
    for (let i = 1; i < speech.phonemes.length; i++) expect(speech.phonemes[i]!.startMs).toBe(speech.phonemes[i - 1]!.endMs);
  });

  it('is audible where vowels are and silent in pauses, without clipping', () => {
    const speech = synthesizeScriptedSpeech('Hello there, friend.', 22050);
    const samplesAt = (ms: number): number => Math.round((ms * speech.sampleRateHz) / 1000);
    for (const span of speech.phonemes) {
      const level = rms(speech.pcm, samplesAt(span.startMs), samplesAt(span.endMs));
      if (span.phoneme === '_') expect(level).toBe(0);
      if (['a', 'e', 'i', 'o', 'u'].includes(span.phoneme)) expect(level).toBeGreaterThan(0.1);
    }
    expect(Math.max(...speech.pcm.map(Math.abs))).toBeLessThan(1);
  });

  it('is deterministic and reads digits as words', () => {
    expect(synthesizeScriptedSpeech('Same text.', 16000).pcm).toEqual(synthesizeScriptedSpeech('Same text.', 16000).pcm);
    expect(textToSounds('7').map((sound) => sound.phoneme).join('')).toBe('seven');
  });
});

describe('scripted LLM reply', () => {
  it('echoes the start of the user text, then fixed sentences', () => {
    expect(scriptedReply('hello world, how are you doing today friend', 2)).toBe('You said hello world, how are you doing. That is an interesting thing to say.');
    expect(scriptedReply('say: Exactly this.')).toBe('Exactly this.');
    expect(scriptedTokens(' You said hi.').join('')).toBe(' You said hi.');
  });
});

describe('scripted energy VAD', () => {
  const options = { vadThreshold: 0.02, vadFrameMs: 10, vadMinSpeechMs: 30, vadMinSilenceMs: 100, vadProbability: 'energy' as const };
  const tone = (ms: number, amplitude: number): Float32Array => Float32Array.from({ length: ms * 16 }, (_, i) => amplitude * Math.sin(i / 5));

  it('reports speech start and end at stream positions', () => {
    const vad = new EnergyVad(options);
    vad.open('s', {});
    expect(vad.process('s', tone(100, 0), 16000).events).toEqual([]);
    expect(vad.process('s', tone(200, 0.3), 16000).events).toEqual([{ event: 'speech-start', atMs: 100 }]);
    expect(vad.process('s', tone(150, 0), 16000).events).toEqual([{ event: 'speech-end', atMs: 300 }]);
  });

  it('keeps one state per stream', () => {
    const vad = new EnergyVad(options);
    vad.open('a', {});
    vad.open('b', {});
    expect(() => vad.process('c', tone(20, 0), 16000)).toThrow(/no open VAD stream "c"/);
    vad.process('a', tone(100, 0.3), 16000);
    expect(vad.process('b', tone(20, 0), 16000).events).toEqual([]);
    expect(vad.process('a', tone(200, 0), 16000).events).toEqual([{ event: 'speech-end', atMs: 100 }]);
  });
});
