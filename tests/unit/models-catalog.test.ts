import { describe, expect, it } from 'vitest';
import { ModelKind, ModelTier, type CatalogEntry } from '../../app/shared/catalog.contract';
import { loadCatalog } from '../../app/engine/models/model-catalog';
import { resolveCatalogPath } from '../../app/engine/models/model-paths';

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
