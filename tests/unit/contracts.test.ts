import { describe, expect, it } from 'vitest';
import { decodeBinaryFrame, encodeBinaryFrame } from '../../app/shared/binary-frame';
import { AppError, ErrorCode } from '../../app/shared/errors.contract';
import { parseClientMessage, parseServerMessage } from '../../app/shared/validate';
import { decodeClientFrame, encodeServerMessage } from '../../app/shared/wire-codec';

function expectInvalid(run: () => unknown, fragment: RegExp): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(ErrorCode.InvalidMessage);
    expect((error as AppError).recoverable).toBe(true);
    expect((error as AppError).message).toMatch(fragment);
    return;
  }
  throw new Error('expected an invalid_message error');
}

describe('binary frames', () => {
  it('round-trips header fields and samples exactly, with 4-byte aligned samples', () => {
    for (const typeName of ['mic.audio', 'x', 'abcdefghijk']) {
      const pcm = Float32Array.from({ length: 321 }, (_, i) => Math.sin(i / 7));
      const frame = encodeBinaryFrame({ type: typeName, sessionId: 's1', seq: 3, pcm });
      expect((frame.byteLength - pcm.byteLength) % 4).toBe(0);
      const decoded = decodeBinaryFrame(frame);
      expect(decoded.type).toBe(typeName);
      expect(decoded.seq).toBe(3);
      expect(Array.from(decoded.pcm as Float32Array)).toEqual(Array.from(pcm));
    }
  });

  it('decodes from an unaligned view by copying', () => {
    const frame = encodeBinaryFrame({ type: 'mic.audio', pcm: new Float32Array([1, 2, 3]) });
    const shifted = new Uint8Array(frame.byteLength + 1);
    shifted.set(frame, 1);
    expect(Array.from(decodeBinaryFrame(shifted.subarray(1)).pcm as Float32Array)).toEqual([1, 2, 3]);
  });

  it('rejects truncated and malformed frames with a reason', () => {
    expect(() => decodeBinaryFrame(new Uint8Array([1, 0]))).toThrow(/shorter/);
    expect(() => decodeBinaryFrame(new Uint8Array([200, 0, 0, 0, 1, 2]))).toThrow(/does not fit/);
    const frame = encodeBinaryFrame({ type: 'mic.audio', pcm: new Float32Array([1]) });
    expect(() => decodeBinaryFrame(frame.subarray(0, frame.byteLength - 1))).toThrow(/whole Float32/);
    const notJson = new Uint8Array(8);
    new DataView(notJson.buffer).setUint32(0, 4, true);
    notJson.set([0x7b, 0x7b, 0x20, 0x20], 4);
    expect(() => decodeBinaryFrame(notJson)).toThrow(/not valid JSON/);
  });
});

describe('client message validation', () => {
  it('accepts each well-formed message', () => {
    expect(parseClientMessage({ type: 'user.text', sessionId: 's', text: 'hi' }).type).toBe('user.text');
    expect(parseClientMessage({ type: 'session.open', requestId: 'r1' }).type).toBe('session.open');
    const mic = parseClientMessage({ type: 'mic.audio', sessionId: 's', seq: 0, sampleRateHz: 16000, pcm: new Float32Array(160) });
    expect(mic.type).toBe('mic.audio');
  });

  it('rejects unknown types, missing fields, wrong audio rates and oversized text', () => {
    expectInvalid(() => parseClientMessage({ type: 'rm -rf' }), /rm -rf/);
    expectInvalid(() => parseClientMessage({ type: 'user.text', sessionId: 's' }), /text/);
    expectInvalid(() => parseClientMessage({ type: 'mic.audio', sessionId: 's', seq: 0, sampleRateHz: 44100, pcm: new Float32Array(1) }), /sampleRateHz/);
    expectInvalid(() => parseClientMessage({ type: 'user.text', sessionId: 's', text: 'x'.repeat(5000) }), /text/);
    expectInvalid(() => parseClientMessage(null), /without a known type/);
  });

  it('takes model ids only in the catalog pattern and never a name JavaScript objects carry', () => {
    const settings = (models: Record<string, string>) => ({ type: 'settings.set', settings: { vad: {}, poolSizes: {}, models } });
    expect(parseClientMessage(settings({ llm: 'qwen2.5-0.5b-instruct-q4_k_m', stt: '/models/ggml-tiny.en.bin', voice: 'C:\\voices\\joe.onnx' })).type).toBe(
      'settings.set',
    );
    for (const id of ['__proto__', 'constructor', 'prototype', 'Qwen 2.5', '-x', '.hidden']) {
      expectInvalid(() => parseClientMessage(settings({ llm: id })), /models\.llm/);
      expectInvalid(() => parseClientMessage({ type: 'models.pull', modelId: id }), /modelId/);
    }
    expect(parseClientMessage({ type: 'models.cancel', modelId: 'whisper-tiny.en' }).type).toBe('models.cancel');
  });

  it('server messages are validated too', () => {
    expect(parseServerMessage({ type: 'pong', nonce: 1 }).type).toBe('pong');
    expectInvalid(() => parseServerMessage({ type: 'tts.chunk', sessionId: 's' }), /tts\.chunk/);
  });
});

describe('wire codec', () => {
  it('decodes JSON text and binary frames into validated messages', () => {
    expect(decodeClientFrame({ kind: 'text', text: '{"type":"ping","nonce":5}' })).toEqual({ type: 'ping', nonce: 5 });
    const bytes = encodeBinaryFrame({ type: 'mic.audio', sessionId: 's', seq: 1, sampleRateHz: 16000, pcm: new Float32Array([0.5]) });
    const message = decodeClientFrame({ kind: 'binary', bytes });
    expect(message.type === 'mic.audio' && message.pcm[0]).toBe(0.5);
  });

  it('rejects broken JSON, JSON audio and garbage binary with typed errors', () => {
    expectInvalid(() => decodeClientFrame({ kind: 'text', text: '{nope' }), /not valid JSON/);
    expectInvalid(() => decodeClientFrame({ kind: 'text', text: '{"type":"mic.audio","pcm":[1,2]}' }), /binary frame/);
    expectInvalid(() => decodeClientFrame({ kind: 'binary', bytes: new Uint8Array([9, 9, 9]) }), /binary frame/);
  });

  it('sends PCM messages as binary and others as JSON', () => {
    const chunk = encodeServerMessage({
      type: 'tts.chunk', sessionId: 's', turnId: 't', seq: 0, text: 'Hi.', sampleRateHz: 22050, phonemes: [], pcm: new Float32Array(4),
    });
    expect(chunk).toBeInstanceOf(Uint8Array);
    expect(typeof encodeServerMessage({ type: 'pong', nonce: 1 })).toBe('string');
    expect(parseServerMessage(decodeBinaryFrame(chunk as Uint8Array)).type).toBe('tts.chunk');
  });
});
