import { describe, expect, it } from 'vitest';
import { BYTE_TO_CHAR, tokenToBytes } from '../../app/engine/models/ct2-whisper/gpt2-bytes';
import { AppError } from '../../app/shared/errors.contract';

describe('GPT-2 byte-level token decoding', () => {
  it('uses a 256-character alphabet: printable Latin-1 as itself, the rest from U+0100', () => {
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    expect(BYTE_TO_CHAR[0x41]).toBe('A');
    expect(BYTE_TO_CHAR[0xe9]).toBe('é');
    expect(BYTE_TO_CHAR[0x00]).toBe('\u0100');
    expect(BYTE_TO_CHAR[0x20]).toBe('Ġ');
    expect(BYTE_TO_CHAR[0x0a]).toBe('Ċ');
    expect(BYTE_TO_CHAR[0xad]).toBe('Ń');
  });

  it('maps every byte back', () => {
    const all = BYTE_TO_CHAR.join('');
    expect(Array.from(tokenToBytes(all))).toEqual(Array.from({ length: 256 }, (_, b) => b));
  });

  it('decodes real Whisper vocabulary tokens to their bytes', () => {
    expect(new TextDecoder().decode(tokenToBytes('ĠAmericans'))).toBe(' Americans');
    expect(new TextDecoder().decode(tokenToBytes('ĊĊ'))).toBe('\n\n');
    expect(new TextDecoder().decode(tokenToBytes('Ġcaf'.concat('Ã©')))).toBe(' café');
    // A token may hold part of a UTF-8 sequence: bytes, not text.
    expect(Array.from(tokenToBytes('ãģ'))).toEqual([0xe3, 0x81]);
    expect(Array.from(tokenToBytes('<|endoftext|>'))).toEqual(Array.from(new TextEncoder().encode('<|endoftext|>')));
  });

  it('rejects characters outside the alphabet (not a byte-level vocabulary)', () => {
    expect(() => tokenToBytes('▁hello')).toThrow(AppError);
    expect(() => tokenToBytes(' a')).toThrow(/not GPT-2 byte-level/);
  });
});
