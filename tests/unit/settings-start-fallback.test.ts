import { describe, expect, it } from 'vitest';
import type { EngineSettings } from '../../app/shared/settings.contract';
import { startFallback, type FailedStart } from '../../app/engine/settings/start-fallback';

/** What a start that failed on a model setting tries next, and what the user is told. */

const settings: EngineSettings = { persona: 'Calm.', vad: {}, poolSizes: {}, models: { llm: '/m/new.gguf', stt: '/etc/hostname', voice: '/v/joe.onnx' } };

function failed(overrides: Partial<FailedStart>): FailedStart {
  return {
    settings,
    saved: settings,
    reason: 'Whisper model "/etc/hostname" is truncated',
    failedKinds: ['stt'],
    usedSettings: new Set(['llm', 'stt', 'voice']),
    lastWorking: undefined,
    ...overrides,
  };
}

describe('start fallback', () => {
  it('drops a failed choice for the profile default when no start worked before, keeping every other setting', () => {
    const fallback = startFallback(failed({}));
    expect(fallback?.settings).toEqual({ ...settings, models: { llm: '/m/new.gguf', voice: '/v/joe.onnx' } });
    expect(fallback?.warning).toBe(
      'The speech-to-text model "/etc/hostname" in the settings could not be loaded (Whisper model "/etc/hostname" is truncated); it was set aside and the app uses its default instead.',
    );
  });

  it('goes back to the model of the last start that worked, and past it to the default when that one fails too', () => {
    const back = startFallback(failed({ lastWorking: { stt: '/m/ggml-base.en.bin' } }));
    expect(back?.settings.models.stt).toBe('/m/ggml-base.en.bin');
    expect(back?.warning).toMatch(/set aside and the app uses the last one that worked \("\/m\/ggml-base\.en\.bin"\)\.$/);
    const again = startFallback(failed({ settings: back!.settings, saved: back!.settings, lastWorking: { stt: '/m/ggml-base.en.bin' } }));
    expect(again?.settings.models).toEqual({ llm: '/m/new.gguf', voice: '/v/joe.onnx' });
  });

  it('sets aside the voice when the tts workers failed, and each failed model setting in one warning', () => {
    const fallback = startFallback(failed({ failedKinds: ['tts', 'llm'], lastWorking: { llm: '/m/old.gguf' } }));
    expect(fallback?.settings.models).toEqual({ llm: '/m/old.gguf', stt: '/etc/hostname' });
    expect(fallback?.warning).toMatch(/^The language model "\/m\/new\.gguf" .* The voice "\/v\/joe\.onnx" in the settings could not be loaded/);
  });

  it('changes only the failed choice in the settings as saved now, keeping what the user changed while the engine loaded', () => {
    const saved: EngineSettings = { ...settings, persona: 'Changed while loading.', models: { ...settings.models, llm: '/m/other.gguf' } };
    expect(startFallback(failed({ saved }))?.settings).toEqual({ ...saved, models: { llm: '/m/other.gguf', voice: '/v/joe.onnx' } });
  });

  it('sets nothing aside when the failed model did not come from the settings', () => {
    expect(startFallback(failed({ usedSettings: new Set(['llm', 'voice']) }))).toBeNull();
    expect(startFallback(failed({ failedKinds: ['vad'] }))).toBeNull();
    expect(startFallback(failed({ failedKinds: [] }))).toBeNull();
  });
});
