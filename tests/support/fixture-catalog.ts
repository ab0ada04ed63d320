import { createHash } from 'node:crypto';
import { CatalogSchema, type Catalog, type CatalogEntry } from '../../app/shared/catalog.contract';

export const fixtureSource = { repo: 'example/fixtures', path: 'generated-by-test' };

export const sha256Hex = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** The catalog entry of a fixture GGUF served at `url` (pinned size and hash of `body`). */
export function fixtureLlmEntry(url: string, body: Buffer, overrides: Partial<CatalogEntry['files'][number]> = {}): CatalogEntry {
  return {
    id: 'tiny-llm',
    title: 'Fixture GGUF',
    kind: 'llm',
    engine: 'llama',
    tiers: ['cpu-only'],
    licence: 'MIT',
    files: [
      {
        fileName: 'tiny-llm.gguf',
        format: 'gguf',
        url,
        sizeBytes: body.length,
        sha256: sha256Hex(body),
        hashPolicy: 'pinned',
        source: fixtureSource,
        ...overrides,
      },
    ],
  };
}

/** A validated catalog of the given entries. */
export function fixtureCatalog(...models: CatalogEntry[]): Catalog {
  return CatalogSchema.parse({ version: 1, models });
}
