import { describe, expect, it } from 'vitest';
import { lexiconTokens, parseLexicon, splitWords } from '../../app/native-workers/tts/lexicon-phonemizer';
import { readOnnxModelInfo } from '../../app/native-workers/tts/onnx-model-info';
import { parseTokens } from '../../app/native-workers/tts/vits-voice-config';
import { FIXTURE_LEXICON, FIXTURE_TOKENS, buildFixtureModel } from '../../scripts/fixtures/voice-fixture';

const tokens = new Map(FIXTURE_TOKENS.map((token, id) => [token, id]));
const lexicon = new Map(Object.entries(FIXTURE_LEXICON).map(([word, phones]) => [word, [...phones]]));

describe('VITS voice front end', () => {
  it('splits text like sherpa: words, and punctuation on its own', () => {
    expect(splitWords("Hello, World! It's 9.")).toEqual(['hello', ',', 'world', '!', "it's", '9', '.']);
  });

  it('rebuilds the token sequence sherpa 1.13 sends a lexicon voice', () => {
    // Counts observed from sherpa-onnx-node 1.13.8 with the fixture voice: 37 and 24 tokens.
    expect(lexiconTokens('Peter Piper picked a peck of pickled peppers.', lexicon, new Set())).toHaveLength(37);
    const twoSentences = lexiconTokens('hello, world! this is a test', lexicon, new Set());
    expect(twoSentences).toHaveLength(24);
    expect(twoSentences.slice(0, 11)).toEqual(['h', 'ə', 'l', 'oʊ', ' ', 'w', 'ɜː', 'l', 'd', ' ', ' ']);
    expect(lexiconTokens('hello unknown', lexicon, new Set())).toEqual(['h', 'ə', 'l', 'oʊ']);
  });

  it('reads lexicon and tokens files as sherpa does', () => {
    expect(parseTokens('3\np 1\n\nb 2\n', 'tokens.txt')).toEqual(new Map([[' ', 3], ['p', 1], ['b', 2]]));
    expect(() => parseTokens('p 1 2\n', '/voices/tokens.txt')).toThrow(/tokens.txt has a malformed line 1/u);
    const parsed = parseLexicon('Hello h ə l oʊ\nhello x\nbad q q\n', tokens);
    expect(parsed).toEqual(new Map([['hello', ['h', 'ə', 'l', 'oʊ']]]));
  });

  it('reads metadata and graph inputs from ONNX bytes', () => {
    const info = readOnnxModelInfo(buildFixtureModel());
    expect(info.inputNames).toEqual(['x', 'x_length', 'noise_scale', 'length_scale', 'noise_scale_w']);
    expect(info.outputNames).toEqual(['y']);
    expect(info.inputs[0]).toEqual({ name: 'x', elementType: 7, dims: [1, 'num_tokens'] });
    expect(info.outputs).toEqual([{ name: 'y', elementType: 1, dims: [1, 1, 'num_samples'] }]);
    expect(info.metadata).toMatchObject({ sample_rate: '16000', n_speakers: '1', language: 'English' });
    expect(() => readOnnxModelInfo(new TextEncoder().encode('not a model at all'))).toThrow();
  });
});
