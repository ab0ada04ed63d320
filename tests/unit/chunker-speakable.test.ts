import { describe, expect, it } from 'vitest';
import { speakableText } from '../../app/engine/pipeline/speakable-text';

describe('speakableText (what the TTS says for a chunk)', () => {
  it('drops markdown emphasis, headings and bullets', () => {
    expect(speakableText('## Plan\n- **First**, do _this_.')).toBe('Plan First, do this.');
    expect(speakableText('1. Boil water.')).toBe('Boil water.');
    expect(speakableText('Set my_var_name.')).toBe('Set my_var_name.');
  });

  it('reads code without its backticks and links by their text', () => {
    expect(speakableText('Run `npm test` now.')).toBe('Run npm test now.');
    expect(speakableText('See [the docs](https://example.com/a/b).')).toBe('See the docs.');
  });

  it('says a bare URL by its host', () => {
    expect(speakableText('Open https://www.example.com/path?q=1 today.')).toBe('Open example.com today.');
  });

  it('keeps numbers, decimals and ordinary punctuation', () => {
    expect(speakableText('Pi is 3.14, e.g. roughly; 2 * 3 = 6.')).toBe('Pi is 3.14, e.g. roughly; 2 * 3 = 6.');
  });
});
