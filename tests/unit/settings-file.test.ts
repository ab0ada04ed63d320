import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError, ErrorCode } from '../../app/shared/errors.contract';
import { defaultEngineSettings, type EngineSettings } from '../../app/shared/settings.contract';
import { resolveDataDir } from '../../app/engine/settings/data-dir';
import { SettingsFile } from '../../app/engine/settings/settings-file';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'avatar-settings-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const chosen: EngineSettings = {
  persona: 'You are a pirate.',
  voice: 'en-gb',
  vad: { threshold: 0.3, minSilenceMs: 600 },
  poolSizes: { llm: 2 },
  models: { llm: 'qwen2.5-0.5b-instruct-q4_k_m' },
};

describe('settings file', () => {
  it('is the defaults, without a warning, when there is no file yet', async () => {
    const loaded = await new SettingsFile(dir).load();
    expect(loaded).toEqual({ settings: defaultEngineSettings });
  });

  it('reads back exactly what was saved, in a new folder it creates', async () => {
    const file = new SettingsFile(join(dir, 'nested', 'data'));
    await file.save(chosen);
    expect(JSON.parse(readFileSync(file.path, 'utf8'))).toEqual(chosen);
    expect(await new SettingsFile(join(dir, 'nested', 'data')).load()).toEqual({ settings: chosen });
  });

  it('writes atomically: concurrent saves leave one complete file and no temporaries', async () => {
    const file = new SettingsFile(dir);
    const personas = Array.from({ length: 20 }, (_, i) => `Persona number ${i} ${'x'.repeat(2000)}`);
    await Promise.all(personas.map((persona) => file.save({ ...chosen, persona })));
    expect(readdirSync(dir)).toEqual(['settings.json']);
    // Saves are serialized in call order: the last one wins.
    expect((await file.load()).settings.persona).toBe(personas.at(-1));
  });

  it('replaces a corrupt file by the defaults with a warning, and keeps the old file aside', async () => {
    const file = new SettingsFile(dir);
    writeFileSync(file.path, '{"persona": "half a file');
    const loaded = await file.load();
    expect(loaded.settings).toEqual(defaultEngineSettings);
    expect(loaded.warning).toMatch(/unusable \(not valid JSON/);
    expect(loaded.warning).toContain('settings.json.corrupt');
    expect(readFileSync(`${file.path}.corrupt`, 'utf8')).toBe('{"persona": "half a file');
    expect(existsSync(file.path)).toBe(false);
  });

  it('treats values out of range as a corrupt file, naming the field', async () => {
    const file = new SettingsFile(dir);
    writeFileSync(file.path, JSON.stringify({ poolSizes: { llm: 99 } }));
    const loaded = await file.load();
    expect(loaded.settings).toEqual(defaultEngineSettings);
    expect(loaded.warning).toMatch(/poolSizes\.llm/);
  });

  it('leaves out model choices that are neither a file nor a model id, keeping the other settings', async () => {
    const file = new SettingsFile(dir);
    writeFileSync(file.path, JSON.stringify({ persona: 'Calm.', models: { llm: 'constructor', stt: '__proto__', voice: '/v/joe.onnx' } }));
    const loaded = await file.load();
    expect(loaded.settings).toEqual({ persona: 'Calm.', vad: {}, poolSizes: {}, models: { voice: '/v/joe.onnx' } });
    expect(loaded.warning).toBe(`The model settings "llm", "stt" in ${file.path} are neither a model file nor a model id; they are left out.`);
    expect(existsSync(`${file.path}.corrupt`)).toBe(false);
    await expect(file.save({ ...loaded.settings, models: { llm: 'prototype' } })).rejects.toMatchObject({ code: ErrorCode.InvalidMessage });
  });

  it('refuses invalid settings and reports a failed write as a typed error in words', async () => {
    const file = new SettingsFile(dir);
    await file.save(chosen);
    await expect(file.save({ ...chosen, vad: { threshold: 2 } })).rejects.toMatchObject({ code: ErrorCode.InvalidMessage });
    expect((await file.load()).settings).toEqual(chosen);
    // A data folder that cannot be created (a file is in the way).
    writeFileSync(join(dir, 'blocked'), '');
    const failure = await new SettingsFile(join(dir, 'blocked')).save(chosen).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AppError);
    expect((failure as AppError).code).toBe(ErrorCode.Internal);
    expect((failure as AppError).message).toMatch(/could not be saved/);
  });
});

describe('data folder', () => {
  it('is the explicit folder, then AVATAR_DATA_DIR, then the platform data folder', () => {
    expect(resolveDataDir({ explicitDir: '/x', env: { AVATAR_DATA_DIR: '/y' } })).toBe('/x');
    expect(resolveDataDir({ env: { AVATAR_DATA_DIR: '/y' } })).toBe('/y');
    expect(resolveDataDir({ env: {}, platform: 'linux', home: '/home/u' })).toBe('/home/u/.local/share/local-talking-avatar');
    expect(resolveDataDir({ env: { XDG_DATA_HOME: '/d' }, platform: 'linux', home: '/home/u' })).toBe('/d/local-talking-avatar');
    expect(resolveDataDir({ env: {}, platform: 'darwin', home: '/Users/u' })).toBe('/Users/u/Library/Application Support/local-talking-avatar');
  });
});
