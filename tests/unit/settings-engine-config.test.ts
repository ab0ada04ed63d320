import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultEngineConfig } from '../../app/engine/engine-config';
import { applyEngineSettings, modelPathsFromSettings } from '../../app/engine/settings/engine-settings-config';

describe('engine settings at start', () => {
  it('sets worker counts and the default persona; VAD sensitivity stays out of the load options (it is live); absent settings change nothing', () => {
    const base = defaultEngineConfig();
    expect(applyEngineSettings(base, { vad: {}, poolSizes: {}, models: {} }).workers.llm).toEqual(base.workers.llm);
    const scripted = applyEngineSettings(base, { persona: 'Be brief.', vad: { threshold: 0.25, minSilenceMs: 700 }, poolSizes: { llm: 1, tts: 3 }, models: {} });
    expect(scripted.workers.llm.count).toBe(1);
    expect(scripted.workers.tts.count).toBe(3);
    expect(scripted.workers.stt.count).toBe(base.workers.stt.count);
    expect(scripted.workers.vad).toEqual(base.workers.vad);
    expect(scripted.defaultPersona).toBe('Be brief.');
    expect(base.workers.tts.count).toBe(2); // the base config is not mutated
  });

  it('resolves model choices as files or catalog ids and skips unusable ones with a warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'avatar-models-'));
    try {
      const gguf = join(dir, 'model.gguf');
      writeFileSync(gguf, 'GGUF');
      const resolved = await modelPathsFromSettings({ llm: gguf, stt: 'whisper-tiny.en', voice: join(dir, 'missing.onnx') }, async (id) => {
        if (id === 'whisper-tiny.en') return '/models/ggml-tiny.en.bin';
        throw new Error(`${id} is not installed`);
      });
      expect(resolved.paths).toEqual({ llmModelPath: gguf, sttModelPath: '/models/ggml-tiny.en.bin' });
      expect(resolved.warnings).toEqual([expect.stringMatching(/voice file in the settings does not exist/)]);
      const notInstalled = await modelPathsFromSettings({ llm: 'qwen' }, async (id) => Promise.reject(new Error(`${id} is not installed`)));
      expect(notInstalled.paths).toEqual({});
      expect(notInstalled.warnings[0]).toMatch(/"qwen" in the settings cannot be used \(qwen is not installed\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
