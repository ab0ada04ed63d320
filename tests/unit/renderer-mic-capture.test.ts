import { describe, expect, it } from 'vitest';
import type { ClientMessage } from '../../app/shared/messages.contract';
import { describeMicError, MicCapture, type MicSink } from '../../app/renderer/audio/mic-capture';
import { frameLevel } from '../../app/shared/audio/pcm';
import { FrameAssembler, MIC_FRAME_SAMPLES, MicResampler } from '../../app/renderer/audio/mic-resampler';

function sine(frequencyHz: number, rateHz: number, seconds: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(Math.round(rateHz * seconds));
  for (let i = 0; i < out.length; i += 1) out[i] = amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / rateHz);
  return out;
}

/** Resamples in 128-sample render quanta, like the AudioWorklet. */
function resample(input: Float32Array, rateHz: number): Float32Array {
  const resampler = new MicResampler(rateHz);
  const out: number[] = [];
  for (let i = 0; i < input.length; i += 128) resampler.push(input.subarray(i, i + 128), (sample) => out.push(sample));
  return Float32Array.from(out);
}

/** Amplitude of `frequencyHz` in `signal` (single-bin DFT). */
function amplitudeAt(signal: Float32Array, frequencyHz: number, rateHz: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < signal.length; i += 1) {
    re += signal[i]! * Math.cos((2 * Math.PI * frequencyHz * i) / rateHz);
    im -= signal[i]! * Math.sin((2 * Math.PI * frequencyHz * i) / rateHz);
  }
  return (2 * Math.hypot(re, im)) / signal.length;
}

describe('mic resampler', () => {
  for (const rateHz of [48000, 44100, 16000, 22050]) {
    it(`${rateHz} Hz → 16 kHz keeps the rate, a 1 kHz tone and its level`, () => {
      const out = resample(sine(1000, rateHz, 1), rateHz);
      expect(Math.abs(out.length - 16000)).toBeLessThanOrEqual(40);
      // Skip the filter's start-up.
      const steady = out.subarray(100, 15900);
      expect(amplitudeAt(steady, 1000, 16000)).toBeCloseTo(0.5, 1);
      expect(amplitudeAt(steady, 1000, 16000)).toBeGreaterThan(0.47);
      expect(amplitudeAt(steady, 3000, 16000)).toBeLessThan(0.01);
    });
  }

  it('removes content above 8 kHz instead of aliasing it', () => {
    // 11 kHz at 48 kHz would fold to 5 kHz at 16 kHz without the low-pass.
    const out = resample(sine(11000, 48000, 1), 48000).subarray(100, 15900);
    expect(amplitudeAt(out, 5000, 16000)).toBeLessThan(0.005);
    const rms = Math.sqrt(out.reduce((sum, x) => sum + x * x, 0) / out.length);
    expect(rms).toBeLessThan(0.005);
  });

  it('gives the same output whatever the input block size', () => {
    const input = sine(440, 44100, 0.2);
    const whole: number[] = [];
    new MicResampler(44100).push(input, (s) => whole.push(s));
    const blocks = resample(input, 44100);
    expect(blocks.length).toBe(whole.length);
    for (let i = 0; i < whole.length; i += 1) expect(blocks[i]).toBeCloseTo(whole[i]!, 6);
  });

  it('assembles 320-sample frames and hands each one over once', () => {
    const frames: Float32Array[] = [];
    const assembler = new FrameAssembler(MIC_FRAME_SAMPLES, (frame) => frames.push(frame));
    for (let i = 0; i < 1000; i += 1) assembler.add(i);
    expect(frames).toHaveLength(3);
    expect(frames[1]![0]).toBe(320);
    expect(frames[0]).not.toBe(frames[1]);
  });
});

function sink(sessionId: string | null = 's1') {
  const sent: Extract<ClientMessage, { type: 'mic.audio' }>[] = [];
  const errors: string[] = [];
  const value: MicSink = { sessionId: () => sessionId, send: (message) => sent.push(message), error: (code, message) => errors.push(`${code}: ${message}`) };
  return { value, sent, errors };
}

/** A capture that is active without a browser (frames go through acceptFrame). */
function activeMic(target: MicSink): MicCapture {
  const mic = new MicCapture(target, () => undefined);
  (mic as unknown as { status: { active: boolean } }).status.active = true;
  return mic;
}

describe('mic capture', () => {
  it('sends 16 kHz frames with increasing seq and counts them', () => {
    const target = sink();
    const mic = activeMic(target.value);
    for (let i = 0; i < 3; i += 1) mic.acceptFrame(new Float32Array(MIC_FRAME_SAMPLES).fill(0.1));
    expect(target.sent.map((m) => m.seq)).toEqual([0, 1, 2]);
    expect(target.sent[0]).toMatchObject({ type: 'mic.audio', sessionId: 's1', sampleRateHz: 16000 });
    expect(mic.diagnostics()).toEqual({ active: true, level: expect.closeTo(frameLevel(new Float32Array([0.1])), 3), framesSent: 3 });
  });

  it('sends silence while muted or while push-to-talk is up', () => {
    const target = sink();
    const mic = activeMic(target.value);
    mic.setMuted(true);
    mic.acceptFrame(new Float32Array(MIC_FRAME_SAMPLES).fill(0.3));
    mic.setMuted(false);
    mic.setMode('push-to-talk');
    mic.acceptFrame(new Float32Array(MIC_FRAME_SAMPLES).fill(0.3));
    mic.setTalking(true);
    mic.acceptFrame(new Float32Array(MIC_FRAME_SAMPLES).fill(0.3));
    expect(target.sent.map((m) => m.pcm[0])).toEqual([0, 0, expect.closeTo(0.3, 5)]);
  });

  it('drops frames while there is no session', () => {
    const target = sink(null);
    const mic = activeMic(target.value);
    mic.acceptFrame(new Float32Array(MIC_FRAME_SAMPLES));
    expect(target.sent).toHaveLength(0);
    expect(mic.diagnostics().framesSent).toBe(0);
  });

  it('says in words why the microphone did not start', async () => {
    const noMedia = sink();
    await new MicCapture(noMedia.value, () => undefined).start();
    expect(noMedia.errors[0]).toMatch(/^bad_audio: Microphone capture is not available/);

    const denied = sink();
    const media = { getUserMedia: () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError')) } as unknown as MediaDevices;
    const mic = new MicCapture(denied.value, () => media);
    await mic.start();
    expect(denied.errors[0]).toMatch(/denied/);
    expect(mic.getSnapshot()).toMatchObject({ active: false, starting: false });
    expect(describeMicError(new DOMException('', 'NotFoundError'))).toMatch(/No microphone/);
  });

  it('maps frame RMS to a 60 dB level scale', () => {
    expect(frameLevel(new Float32Array(320))).toBe(0);
    expect(frameLevel(new Float32Array(320).fill(1))).toBe(1);
    expect(frameLevel(new Float32Array(320).fill(0.01))).toBeCloseTo(1 / 3, 3);
  });
});
