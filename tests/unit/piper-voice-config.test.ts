import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultAlignmentCacheDir } from '../../app/native-workers/piper/piper-aligned-model';
import { DEFAULT_HOP_LENGTH, parsePiperConfig } from '../../app/native-workers/piper/piper-voice-config';

const MINIMAL = {
  audio: { sample_rate: 22050 },
  espeak: { voice: 'en-us' },
  phoneme_id_map: { _: [0], '^': [1], $: [2], a: [14] },
};

describe('Piper voice config (.onnx.json)', () => {
  it('reads the voice’s rate, eSpeak voice, scales and map; hop_length and scales have Piper’s defaults', () => {
    const config = parsePiperConfig(JSON.stringify(MINIMAL), 'voice.onnx.json');
    expect(config).toMatchObject({ sampleRateHz: 22050, espeakVoice: 'en-us', noiseScale: 0.667, lengthScale: 1, noiseW: 0.8, speakerCount: 1, hopLength: DEFAULT_HOP_LENGTH });
    expect(config.phonemeIdMap.get('a')).toEqual([14]);
    const tuned = parsePiperConfig(JSON.stringify({ ...MINIMAL, inference: { noise_scale: 0.5, length_scale: 1.2, noise_w: 0 }, hop_length: 300 }), 'v.json');
    expect(tuned).toMatchObject({ noiseScale: 0.5, lengthScale: 1.2, noiseW: 0, hopLength: 300 });
  });

  it('rejects what the worker cannot speak, naming the file', () => {
    const bad = (value: unknown): (() => unknown) => () => parsePiperConfig(typeof value === 'string' ? value : JSON.stringify(value), '/voices/x.onnx.json');
    expect(bad('{')).toThrow(/\/voices\/x\.onnx\.json is invalid: not JSON/);
    expect(bad({ ...MINIMAL, espeak: undefined })).toThrow(/espeak/);
    expect(bad({ ...MINIMAL, phoneme_type: 'text' })).toThrow(/phoneme_type "text" is not supported/);
    expect(bad({ ...MINIMAL, phoneme_id_map: { a: [14] } })).toThrow(/phoneme_id_map has no "_"/);
    expect(bad({ ...MINIMAL, phoneme_id_map: { ...MINIMAL.phoneme_id_map, b: [] } })).toThrow(/phoneme_id_map/);
    let caught: unknown;
    try {
      bad({ ...MINIMAL, audio: {} })();
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'model_invalid', recoverable: false });
  });

  it('keeps patched voices in the per-user cache, never in the repository', () => {
    expect(defaultAlignmentCacheDir({ XDG_CACHE_HOME: '/xdg' }, 'linux')).toBe(join('/xdg', 'local-talking-avatar', 'piper-aligned'));
    expect(defaultAlignmentCacheDir({ LOCALAPPDATA: 'C:\\Local' }, 'win32')).toBe(join('C:\\Local', 'local-talking-avatar', 'piper-aligned'));
    expect(defaultAlignmentCacheDir({}, 'darwin')).toMatch(/Library.Caches.local-talking-avatar.piper-aligned$/u);
  });
});
