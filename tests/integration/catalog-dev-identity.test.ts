import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { digestOfFile, sha256OfFile } from '../../app/engine/models/file-hash';
import { loadCatalog } from '../../app/engine/models/model-catalog';
import { resolveCatalogPath } from '../../app/engine/models/model-paths';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';

/**
 * Catalog truth: where a development model file is byte-identical to an upstream file the catalog
 * lists (the Piper joe voice and its config, the SmolLM2 GGUF, Smart Turn v3.2), the catalog's size and sha256 are
 * those of the file on disk, and the Piper files also match the md5 rhasspy publishes — the link
 * between the citable digest and the pinned sha256. (The dev whisper tiny.en is converted from
 * CTranslate2, so it is not expected to match the whisper.cpp file.)
 */
const dev = await devModelsOrSkipReason();
const catalog = await loadCatalog(resolveCatalogPath(undefined, {}));

function catalogFile(entryId: string, fileName: string) {
  const file = catalog.models.find((model) => model.id === entryId)?.files.find((candidate) => candidate.fileName === fileName);
  if (!file) throw new Error(`catalog has no ${entryId}/${fileName}`);
  return file;
}

describe.skipIf(!dev.ok)(`catalog entries of the development models${dev.ok ? '' : ` (SKIPPED: ${dev.skipReason})`}`, () => {
  const profile = dev.ok ? dev.profile : undefined;
  const cases = profile
    ? [
        { entry: 'piper-en-us-joe-medium', path: profile.tts.piperOnnxPath },
        { entry: 'piper-en-us-joe-medium', path: profile.tts.piperConfigPath },
        { entry: 'smollm2-135m-instruct-q4_1', path: profile.llm.ggufPath },
        { entry: 'smart-turn-v3.2-cpu', path: profile.turn!.smartTurnOnnxPath },
      ]
    : [];

  it.each(cases)('$entry: the dev file $path has the catalog size and pinned sha256', { timeout: 60_000 }, async ({ entry, path }) => {
    const file = catalogFile(entry, path.split('/').pop()!);
    expect(file.hashPolicy).toBe('pinned');
    expect(statSync(path).size).toBe(file.sizeBytes);
    expect(await sha256OfFile(path)).toBe(file.sha256);
    if (file.publishedDigest) expect(await digestOfFile(path, file.publishedDigest.algorithm)).toBe(file.publishedDigest.hex);
  });

  it('whisper tiny.en: the catalog cites whisper.cpp, and the dev file is a conversion, not a copy', async () => {
    const file = catalogFile('whisper-tiny.en', 'ggml-tiny.en.bin');
    expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await sha256OfFile(profile!.stt.whisperGgmlPath)).not.toBe(file.sha256);
  });
});
