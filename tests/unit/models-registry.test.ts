import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../app/engine/models/model-registry';

describe('installed-models list', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'registry-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const model = (id: string) => ({
    id,
    origin: 'download' as const,
    engine: 'llama' as const,
    installedAt: '2026-01-01T00:00:00.000Z',
    files: [{ fileName: `${id}.gguf`, format: 'gguf' as const, sizeBytes: 4, sha256: 'a'.repeat(64) }],
  });

  it('starts empty and keeps concurrent changes, leaving no temporary files', async () => {
    const registry = new ModelRegistry(dir);
    expect(await registry.read()).toEqual({ version: 1, models: {}, pins: {} });
    await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        registry.update((data) => {
          data.models[id] = model(id);
        }),
      ),
    );
    expect(Object.keys((await registry.read()).models).sort()).toEqual(['a', 'b', 'c']);
    expect(await readdir(dir)).toEqual(['installed.json']);
  });

  it('sets a damaged list aside and starts again', async () => {
    await writeFile(join(dir, 'installed.json'), '{"version": 1, "models": {"x": 3}');
    const registry = new ModelRegistry(dir);
    expect(await registry.read()).toEqual({ version: 1, models: {}, pins: {} });
    expect(await readFile(join(dir, 'installed.json.damaged'), 'utf8')).toContain('"x": 3');
  });
});
