import { z } from 'zod';

/**
 * The model catalog (resources/models/catalog.json): recommended real models per hardware tier,
 * each file with a download URL, its size and sha256 where a citable source states them, and
 * that source. The model manager validates the file with these schemas before using it.
 */

/** What a model does in the pipeline (`turn`: end-of-turn detection from the user's audio). */
export const ModelKind = { Stt: 'stt', Llm: 'llm', Tts: 'tts', Turn: 'turn' } as const;
export type ModelKind = (typeof ModelKind)[keyof typeof ModelKind];
export const ModelKindSchema = z.enum(ModelKind);

/** Hardware a recommendation is for. */
export const ModelTier = { CpuOnly: 'cpu-only', Gpu8Gb: 'gpu-8gb', Gpu16Gb: 'gpu-16gb' } as const;
export type ModelTier = (typeof ModelTier)[keyof typeof ModelTier];

/** Runtime that loads the model (matches the worker registry's engine names). */
export const ModelEngine = { Whisper: 'whisper', Llama: 'llama', Piper: 'piper', SherpaVits: 'sherpa-vits', SmartTurn: 'smart-turn' } as const;
export type ModelEngine = (typeof ModelEngine)[keyof typeof ModelEngine];

/** On-disk format of a model file, checked by its magic bytes on import. */
export const ModelFormat = { Gguf: 'gguf', WhisperGgml: 'whisper-ggml', Onnx: 'onnx', Json: 'json' } as const;
export type ModelFormat = (typeof ModelFormat)[keyof typeof ModelFormat];

/**
 * `pinned`: the catalog states the sha256. `pin-on-first-download`: the first download's hash is kept (for
 * another catalog given with --catalog; the shipped catalog pins every file, see tests/unit/models-catalog.test.ts).
 */
export const HashPolicy = { Pinned: 'pinned', PinOnFirstDownload: 'pin-on-first-download' } as const;
export type HashPolicy = (typeof HashPolicy)[keyof typeof HashPolicy];

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

/**
 * A model id: a catalog id or the name an import chose. Names that JavaScript objects already
 * carry (`__proto__`, `constructor`, `prototype`) are refused, so an id never reaches an inherited
 * property of a lookup table.
 */
export const MODEL_ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
const RESERVED_MODEL_IDS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
export const ModelIdSchema = z
  .string()
  .min(1)
  .max(80)
  .regex(MODEL_ID_PATTERN, 'lowercase letters, digits, ".", "_" and "-"')
  .refine((id) => !RESERVED_MODEL_IDS.has(id), 'a reserved name, not a model id');

/** Where a size or hash was read: a public repository, a path in it and the commit seen. */
export const CatalogSourceSchema = z.object({
  repo: z.string().min(3),
  path: z.string().min(1),
  commit: z.string().regex(/^[0-9a-f]{40}$/).optional(),
  note: z.string().optional(),
});
export type CatalogSource = z.infer<typeof CatalogSourceSchema>;

/** A first-party md5 or sha1 of a file, with where it is published. */
export const PublishedDigestSchema = z
  .object({
    algorithm: z.enum(['md5', 'sha1']),
    hex: z.string().regex(/^[0-9a-f]+$/),
    source: CatalogSourceSchema,
  })
  .refine((digest) => digest.hex.length === (digest.algorithm === 'md5' ? 32 : 40), {
    message: 'hex length must match the algorithm',
  });
export type PublishedDigest = z.infer<typeof PublishedDigestSchema>;

const COMMIT = /^[0-9a-f]{40}$/;

/**
 * Whether a download URL names an immutable commit rather than a branch or tag that can move:
 * `huggingface.co/<owner>/<repo>/resolve/<40-hex commit>/…`, `raw.githubusercontent.com/<owner>/<repo>/<40-hex commit>/…`
 * and `github.com/<owner>/<repo>/raw/<40-hex commit>/…`. `null` for any other host, which this rule does not cover
 * (a local test server, a mirror named in another catalog).
 */
export function urlPinnedToCommit(url: string): boolean | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const segments = parsed.pathname.split('/').filter((segment) => segment.length > 0);
  switch (parsed.hostname) {
    case 'huggingface.co':
    case 'hf.co':
      return segments[2] === 'resolve' && COMMIT.test(segments[3] ?? '') && segments.length > 4;
    case 'raw.githubusercontent.com':
      return COMMIT.test(segments[2] ?? '') && segments.length > 3;
    case 'github.com':
    case 'www.github.com':
      return segments[2] === 'raw' && COMMIT.test(segments[3] ?? '') && segments.length > 4;
    default:
      return null;
  }
}

/** One file of a model (a Piper voice has the .onnx and its .onnx.json). */
export const CatalogFileSchema = z
  .object({
    fileName: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9._-]+$/, 'a plain file name')
      .refine((name) => !name.startsWith('.'), 'must not start with a dot'),
    format: z.enum(Object.values(ModelFormat) as [ModelFormat, ...ModelFormat[]]),
    url: z.url({ protocol: /^https?$/ }),
    sizeBytes: z.number().int().positive().nullable(),
    approxSizeMb: z.number().positive().optional(),
    sha256: sha256.nullable(),
    /**
     * A digest the model's own publisher gives when no sha256 is citable (Piper's voices.json gives md5,
     * whisper.cpp's models/README.md sha1). Checked on download and import, in addition to the sha256.
     */
    publishedDigest: PublishedDigestSchema.optional(),
    hashPolicy: z.enum(Object.values(HashPolicy) as [HashPolicy, ...HashPolicy[]]),
    source: CatalogSourceSchema,
  })
  .refine((file) => (file.hashPolicy === HashPolicy.Pinned) === (file.sha256 !== null), {
    message: 'hashPolicy must be "pinned" exactly when sha256 is given',
  })
  .refine((file) => file.sizeBytes !== null || file.approxSizeMb !== undefined, {
    message: 'give sizeBytes or, when unknown, approxSizeMb',
  })
  .refine((file) => urlPinnedToCommit(file.url) !== false, {
    message: 'a Hugging Face or GitHub URL must name a 40-hex commit (resolve/<commit>/…), not a branch such as main',
    path: ['url'],
  });
export type CatalogFile = z.infer<typeof CatalogFileSchema>;

/** A recommended model: the first file is the one engines load (`resolve` returns its path). */
export const CatalogEntrySchema = z.object({
  id: ModelIdSchema,
  title: z.string().min(1).max(120),
  kind: ModelKindSchema,
  engine: z.enum(Object.values(ModelEngine) as [ModelEngine, ...ModelEngine[]]),
  tiers: z.array(z.enum(Object.values(ModelTier) as [ModelTier, ...ModelTier[]])).min(1),
  licence: z.string().min(1),
  notes: z.string().optional(),
  files: z.array(CatalogFileSchema).min(1),
});
export type CatalogEntry = z.infer<typeof CatalogEntrySchema>;

export const CatalogSchema = z
  .object({
    version: z.literal(1),
    models: z.array(CatalogEntrySchema),
  })
  .refine((catalog) => new Set(catalog.models.map((m) => m.id)).size === catalog.models.length, {
    message: 'model ids must be unique',
  });
export type Catalog = z.infer<typeof CatalogSchema>;

/** Progress of one pull: bytes of all the model's files together. */
export interface PullProgress {
  id: string;
  receivedBytes: number;
  /** Null while a file's size is unknown (no size in the catalog and no Content-Length). */
  totalBytes: number | null;
  bytesPerSec: number;
}
