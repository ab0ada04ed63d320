import { describe, expect, it } from 'vitest';
import { ModelFormat } from '../../app/shared/catalog.contract';
import { detectFormat } from '../../app/engine/models/model-format';
import { resolveCatalogPath, resolveModelsDir } from '../../app/engine/models/model-paths';
import { formatProgress } from '../../app/engine/models/progress-format';

describe('models folder', () => {
  const home = '/home/ada';

  it('lives in the platform data folder, outside the app bundle', () => {
    expect(resolveModelsDir({ env: {}, platform: 'linux', home })).toBe('/home/ada/.local/share/local-talking-avatar/models');
    expect(resolveModelsDir({ env: { XDG_DATA_HOME: '/data' }, platform: 'linux', home })).toBe('/data/local-talking-avatar/models');
    expect(resolveModelsDir({ env: {}, platform: 'darwin', home })).toBe(
      '/home/ada/Library/Application Support/local-talking-avatar/models',
    );
    expect(resolveModelsDir({ env: { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, platform: 'win32', home })).toBe(
      'C:\\Users\\ada\\AppData\\Roaming\\local-talking-avatar\\models',
    );
  });

  it('is overridden by --dir, then AVATAR_MODELS_DIR, then the setting', () => {
    const env = { AVATAR_MODELS_DIR: '/env' };
    expect(resolveModelsDir({ explicitDir: '/cli', settingDir: '/setting', env, platform: 'linux', home })).toBe('/cli');
    expect(resolveModelsDir({ settingDir: '/setting', env, platform: 'linux', home })).toBe('/env');
    expect(resolveModelsDir({ settingDir: '/setting', env: {}, platform: 'linux', home })).toBe('/setting');
  });

  it('takes the catalog from --catalog, then AVATAR_MODEL_CATALOG, then resources/models', () => {
    expect(resolveCatalogPath('/a.json', { AVATAR_MODEL_CATALOG: '/b.json' })).toBe('/a.json');
    expect(resolveCatalogPath(undefined, { AVATAR_MODEL_CATALOG: '/b.json' })).toBe('/b.json');
    expect(resolveCatalogPath(undefined, {})).toMatch(/resources[\\/]models[\\/]catalog\.json$/);
  });
});

describe('model file formats', () => {
  const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

  it('knows GGUF, whisper.cpp ggml and ONNX by their first bytes', () => {
    expect(detectFormat(Buffer.from('GGUF\x03\x00\x00\x00'))).toBe(ModelFormat.Gguf);
    expect(detectFormat(bytes(0x6c, 0x6d, 0x67, 0x67, 0x80, 0xca, 0, 0))).toBe(ModelFormat.WhisperGgml);
    // ir_version 7, then field 2 (producer_name), length 7.
    expect(detectFormat(bytes(0x08, 0x07, 0x12, 0x07, 0x70, 0x79))).toBe(ModelFormat.Onnx);
    expect(detectFormat(Buffer.from('  {"audio": {}}'))).toBe(ModelFormat.Json);
  });

  it('rejects other files', () => {
    expect(detectFormat(Buffer.from('PK\x03\x04zip'))).toBeNull();
    expect(detectFormat(bytes(0x08, 0x07, 0x10, 0x01))).toBeNull();
    expect(detectFormat(bytes())).toBeNull();
  });
});

describe('progress line', () => {
  it('shows percent, sizes, speed and ETA', () => {
    expect(formatProgress({ id: 'm', receivedBytes: 25e6, totalBytes: 100e6, bytesPerSec: 5e6 })).toBe(
      'm   25.0%  25.0 MB / 100.0 MB  5.0 MB/s  ETA 0:15',
    );
    expect(formatProgress({ id: 'm', receivedBytes: 1e6, totalBytes: null, bytesPerSec: 0 })).toBe('m  1.0 MB  0.0 MB/s');
    expect(formatProgress({ id: 'm', receivedBytes: 0, totalBytes: 8e9, bytesPerSec: 1e6 })).toContain('ETA 2:13:20');
  });
});
