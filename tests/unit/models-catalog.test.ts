import { describe, expect, it } from 'vitest';
import { CatalogFileSchema, ModelKind, ModelTier, urlPinnedToCommit, type CatalogEntry } from '../../app/shared/catalog.contract';
import { loadCatalog } from '../../app/engine/models/model-catalog';
import { resolveCatalogPath } from '../../app/engine/models/model-paths';

/**
 * Shipped catalog files allowed to stay without a commit-pinned URL or a sha256, keyed `<model id>/<file name>`,
 * each with the reason (why no commit revision or sha256 could be cited, and what still checks the download).
 * Empty: every shipped file names a commit revision and has a sha256.
 */
const UNPINNED_ALLOWLIST: ReadonlyMap<string, string> = new Map<string, string>([]);

describe('the shipped model catalog', () => {
  it('validates and recommends an STT, an LLM and a voice for every tier', async () => {
    const catalog = await loadCatalog(resolveCatalogPath(undefined, {}));
    for (const tier of Object.values(ModelTier)) {
      for (const kind of Object.values(ModelKind)) {
        const picks = catalog.models.filter((m: CatalogEntry) => m.kind === kind && m.tiers.includes(tier));
        expect(picks.length, `${kind} for ${tier}`).toBeGreaterThan(0);
      }
    }
  });

  it('says where every size and hash comes from, and pins or explains each file', async () => {
    const catalog = await loadCatalog(resolveCatalogPath(undefined, {}));
    for (const file of catalog.models.flatMap((m) => m.files)) {
      expect(file.source.repo).toMatch(/^[\w.-]+\/[\w.-]+$/);
      expect(file.source.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(file.url.startsWith('https://')).toBe(true);
      expect(file.url.endsWith(`/${file.fileName}`)).toBe(true);
      if (file.sha256 === null) {
        expect(file.hashPolicy).toBe('pin-on-first-download');
        expect(file.source.note).toMatch(/pins/);
      }
    }
  });

  it('pins every file to a commit revision and a sha256, except the allowlist', async () => {
    const catalog = await loadCatalog(resolveCatalogPath(undefined, {}));
    const keys = new Set<string>();
    for (const model of catalog.models) {
      for (const file of model.files) {
        const key = `${model.id}/${file.fileName}`;
        keys.add(key);
        const reason = UNPINNED_ALLOWLIST.get(key);
        if (reason !== undefined) {
          expect(reason.length, `${key}: give the reason`).toBeGreaterThan(20);
          continue;
        }
        expect(urlPinnedToCommit(file.url), `${key}: ${file.url}`).toBe(true);
        expect(file.hashPolicy, key).toBe('pinned');
        expect(file.sha256, key).toMatch(/^[0-9a-f]{64}$/);
        expect(file.sizeBytes, key).not.toBeNull();
      }
    }
    for (const key of UNPINNED_ALLOWLIST.keys()) expect(keys.has(key), `stale allowlist entry ${key}`).toBe(true);
  });

  it('tells commit-pinned download URLs from moving branches', () => {
    const commit = '5359861c739e955e79d9a303bcbc70fb988958b1';
    expect(urlPinnedToCommit(`https://huggingface.co/ggerganov/whisper.cpp/resolve/${commit}/ggml-tiny.en.bin`)).toBe(true);
    expect(urlPinnedToCommit('https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-tiny.en.bin')).toBe(false);
    expect(urlPinnedToCommit(`https://huggingface.co/ggerganov/whisper.cpp/blob/${commit}/ggml-tiny.en.bin`)).toBe(false);
    expect(urlPinnedToCommit(`https://huggingface.co/ggerganov/whisper.cpp/resolve/${commit}`)).toBe(false);
    expect(urlPinnedToCommit(`https://huggingface.co/ggerganov/whisper.cpp/resolve/${commit.slice(0, 7)}/ggml-tiny.en.bin`)).toBe(false);
    expect(urlPinnedToCommit(`https://raw.githubusercontent.com/pipecat-ai/pipecat/${commit}/src/model.onnx`)).toBe(true);
    expect(urlPinnedToCommit('https://raw.githubusercontent.com/pipecat-ai/pipecat/main/src/model.onnx')).toBe(false);
    expect(urlPinnedToCommit(`https://github.com/pipecat-ai/pipecat/raw/${commit}/src/model.onnx`)).toBe(true);
    expect(urlPinnedToCommit('https://github.com/pipecat-ai/pipecat/releases/download/v1/model.onnx')).toBe(false);
    expect(urlPinnedToCommit('http://127.0.0.1:8080/model.gguf')).toBeNull();
  });

  it('refuses a catalog file whose Hugging Face URL names a branch', () => {
    const file = {
      fileName: 'ggml-tiny.en.bin',
      format: 'whisper-ggml',
      url: 'https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-tiny.en.bin',
      sizeBytes: 77704715,
      sha256: '921e4cf8686fdd993dcd081a5da5b6c365bfde1162e72b08d75ac75289920b1f',
      hashPolicy: 'pinned',
      source: { repo: 'ggml-org/whisper.cpp', path: 'models/README.md' },
    };
    const result = CatalogFileSchema.safeParse(file);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['url']);
    const commit = '5359861c739e955e79d9a303bcbc70fb988958b1';
    expect(CatalogFileSchema.safeParse({ ...file, url: file.url.replace('/main/', `/${commit}/`) }).success).toBe(true);
  });

  it('names the file that is wrong when a catalog is malformed', async () => {
    const { writeFile, mkdtemp, rm } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'catalog-'));
    const path = join(dir, 'catalog.json');
    await writeFile(path, JSON.stringify({ version: 1, models: [{ id: 'Bad Id' }] }));
    await expect(loadCatalog(path)).rejects.toThrow(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is malformed: models\\.0\\.id`));
    await rm(dir, { recursive: true });
  });
});
