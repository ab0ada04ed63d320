import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../app/shared/messages.contract';
import type { EngineSettings } from '../../app/shared/settings.contract';
import { composeAppEngine, type AppEngine } from '../../app/engine/compose-app-engine';
import { AppEngineClient } from '../support/app-engine-client';
import { ensureGgufFixture } from '../../scripts/fixtures/gguf-fixture';
import { buildPiperFixtureModel } from '../../scripts/fixtures/voice-fixture';
import { ensureWhisperFixture } from '../../scripts/fixtures/whisper-fixture';
import { micFrames } from './engine-harness';

/** The one composition of `serve` and Electron main: settings file → config → engine + services. */

type SettingsCurrent = Extract<ServerMessage, { type: 'settings.current' }>;
type ErrorMessage = Extract<ServerMessage, { type: 'error' }>;

const dirs: string[] = [];
let composed: AppEngine | undefined;

function dataDir(settings?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'avatar-compose-'));
  dirs.push(dir);
  if (settings !== undefined) writeFileSync(join(dir, 'settings.json'), settings);
  return dir;
}

async function compose(dir: string): Promise<AppEngine> {
  composed = await composeAppEngine({ profile: 'scripted', dataDir: dir, modelsDir: join(dir, 'models') });
  return composed;
}

afterEach(async () => {
  await composed?.engine.shutdown();
  composed = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

class Client extends AppEngineClient {
  async set(settings: EngineSettings): Promise<SettingsCurrent> {
    const from = this.messages.length;
    this.send({ type: 'settings.set', settings });
    return this.waitFor((m): m is SettingsCurrent => m.type === 'settings.current', from);
  }
  /** Sends settings that should be refused; resolves with the error and checks no settings.current came. */
  async refused(settings: EngineSettings): Promise<ErrorMessage> {
    const from = this.messages.length;
    this.send({ type: 'settings.set', settings });
    const error = await this.waitFor((m): m is ErrorMessage => m.type === 'error', from);
    expect(this.messages.slice(from).filter((m) => m.type === 'settings.current')).toEqual([]);
    return error;
  }
  /** VAD speech-end events after `from`. */
  speechEnds(from: number): number {
    return this.messages.slice(from).filter((m) => m.type === 'vad' && m.event === 'speech-end').length;
  }
}

/** Tone bursts separated by `gapMs` of silence, then a long silence, as mic frames. */
function twoBursts(gapMs: number, amplitude = 1): Float32Array<ArrayBuffer>[] {
  const frames = [...micFrames('speech', 400), ...micFrames('silence', gapMs), ...micFrames('speech', 400), ...micFrames('silence', 1000)];
  if (amplitude !== 1) for (const frame of frames) for (let i = 0; i < frame.length; i++) frame[i]! *= amplitude;
  return frames;
}

describe('composeAppEngine', () => {
  it('puts the settings file into the engine config and serves them', async () => {
    const dir = dataDir(JSON.stringify({ persona: 'You are a pirate.', vad: { threshold: 0.3, minSilenceMs: 600 }, poolSizes: { tts: 1 }, models: {} }));
    const app = await compose(dir);
    expect(app.warnings).toEqual([]);
    expect(app.config.defaultPersona).toBe('You are a pirate.');
    expect(app.config.workers.tts.count).toBe(1);
    expect(app.config.workers.llm.count).toBe(2); // the profile's own where the settings say nothing
    expect(app.config.vadSensitivity?.()).toEqual({ threshold: 0.3, minSilenceMs: 600 });
    expect(app.summary.join('\n')).toMatch(/scripted/);

    const client = new Client(app);
    client.send({ type: 'settings.get' });
    const current = await client.waitFor((m): m is SettingsCurrent => m.type === 'settings.current');
    expect(current.settings.persona).toBe('You are a pirate.');
    expect(current.file).toBe(join(dir, 'settings.json'));
    client.connection.close();
  });

  it('starts on the defaults with a warning when the settings file is corrupt, keeping the old file', async () => {
    const dir = dataDir('{ "persona": "half a file');
    const app = await compose(dir);
    expect(app.warnings).toEqual([expect.stringMatching(/settings file was unusable .*settings\.json\.corrupt/)]);
    expect(app.config.vadSensitivity?.()).toEqual({});
    expect(readFileSync(join(dir, 'settings.json.corrupt'), 'utf8')).toBe('{ "persona": "half a file');
    expect(existsSync(join(dir, 'settings.json'))).toBe(false);
    const client = new Client(app);
    client.send({ type: 'settings.get' });
    const current = await client.waitFor((m): m is SettingsCurrent => m.type === 'settings.current');
    expect(current.warning).toMatch(/unusable/);
    client.connection.close();
  });

  it('refuses a model setting its runtime could not load, in words, and saves nothing', async () => {
    const dir = dataDir();
    const app = await compose(dir);
    const client = new Client(app);
    const models = (choices: EngineSettings['models']): EngineSettings => ({ vad: {}, poolSizes: {}, models: choices });
    const whisper = await ensureWhisperFixture();
    const gguf = await ensureGgufFixture();
    const folder = join(dir, 'models-folder');
    mkdirSync(folder);
    const half = join(dir, 'half.gguf');
    writeFileSync(half, readFileSync(gguf).subarray(0, 100_000));
    const voice = join(dir, 'voice.onnx');
    writeFileSync(voice, buildPiperFixtureModel());

    const cases: Array<[EngineSettings['models'], string, RegExp]> = [
      [{ stt: '/etc/hostname' }, 'model_invalid', /speech-to-text model setting was not saved: \/etc\/hostname is not a model file; a speech-to-text model must be a whisper\.cpp ggml model/],
      [{ llm: whisper }, 'model_invalid', /language model setting was not saved: .*ggml-whisper-fixture.* is a whisper\.cpp ggml model, but a language model must be a GGUF model/],
      [{ llm: half }, 'model_invalid', /half\.gguf" is truncated: its tensors need \d+ bytes but the file has 100000/],
      [{ llm: folder }, 'model_invalid', /models-folder is a folder, not a model file/],
      [{ stt: join(dir, 'missing.bin') }, 'model_missing', /There is no file .*missing\.bin/],
      [{ voice }, 'model_missing', /voice setting was not saved: The Piper voice config is missing: .*voice\.onnx\.json/],
      [{ stt: 'whisper-tiny.en' }, 'model_missing', /Model "whisper-tiny\.en" is not installed/],
      [{ llm: 'whisper-tiny.en' }, 'model_invalid', /"whisper-tiny\.en" is a speech-to-text model, not a language model/],
    ];
    for (const [choices, code, words] of cases) {
      const error = await client.refused(models(choices));
      expect(error).toMatchObject({ code, recoverable: true });
      expect(error.message).toMatch(words);
    }
    expect(existsSync(join(dir, 'settings.json'))).toBe(false);

    // Models that check out are saved (and wait for the next start).
    const saved = await client.set(models({ llm: gguf, stt: whisper }));
    expect(saved.restartRequired).toEqual(['models']);
    expect(JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8')).models).toEqual({ llm: gguf, stt: whisper });
    // An unchanged choice is not checked again; a persona change goes through.
    expect((await client.set({ ...models({ llm: gguf, stt: whisper }), persona: 'Calm.' })).settings.persona).toBe('Calm.');
    client.connection.close();
  });

  it('applies new VAD sensitivity to the next utterance without a restart', async () => {
    // Start with a long end silence and a threshold the quiet tone stays under.
    const app = await compose(dataDir(JSON.stringify({ vad: { minSilenceMs: 700, threshold: 0.9 } })));
    await app.engine.start();
    const client = new Client(app);
    client.send({ type: 'session.open', requestId: 'open-1' });
    const { sessionId } = await client.waitFor((m): m is Extract<ServerMessage, { type: 'session.opened' }> => m.type === 'session.opened');
    let seq = 0;
    /** Sends the frames; counts speech ends once the expected number arrived (or 10 s passed) and nothing more came for 700 ms. */
    const speak = async (frames: Float32Array<ArrayBuffer>[], expected: number): Promise<number> => {
      const from = client.messages.length;
      for (const pcm of frames) client.send({ type: 'mic.audio', sessionId, seq: seq++, sampleRateHz: 16000, pcm });
      const untilMs = performance.now() + 10_000;
      while (client.speechEnds(from) < expected && performance.now() < untilMs) await new Promise((resolve) => setTimeout(resolve, 50));
      await new Promise((resolve) => setTimeout(resolve, 700));
      return client.speechEnds(from);
    };

    // A 0.03 tone (RMS 0.021) is under threshold 0.9; two bursts 400 ms apart are one utterance with 700 ms.
    expect(await speak(twoBursts(400, 0.1), 0)).toBe(0);
    expect(await speak(twoBursts(400), 1)).toBe(1);

    const changed = await client.set({ vad: { minSilenceMs: 200, threshold: 0.3 }, poolSizes: {}, models: {} });
    expect(changed.restartRequired).toEqual([]);
    expect(await speak(twoBursts(400), 2)).toBe(2);
    expect(await speak(twoBursts(400, 0.1), 2)).toBe(2);

    // Pool sizes still need a restart.
    const pools = await client.set({ vad: { minSilenceMs: 200, threshold: 0.3 }, poolSizes: { llm: 1 }, models: {} });
    expect(pools.restartRequired).toEqual(['poolSizes']);
    client.connection.close();
  }, 30_000);
});
