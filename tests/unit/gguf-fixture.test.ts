import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGgufFileInfo } from 'node-llama-cpp';
import { inspectGgufFile } from '../../app/native-workers/llm/gguf-file';
import { CHATML_TEMPLATE, ensureGgufFixture, FIXTURE_CONTEXT_LENGTH } from '../../scripts/fixtures/gguf-fixture';

async function sha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

describe('tiny GGUF llama fixture', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gguf-fixture-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is byte-identical for the same seed and differs for another seed', async () => {
    const first = await ensureGgufFixture({ dir: join(dir, 'a') });
    const second = await ensureGgufFixture({ dir: join(dir, 'b') });
    const otherSeed = await ensureGgufFixture({ dir: join(dir, 'a'), seed: 7 });
    expect(await sha256(first)).toBe(await sha256(second));
    expect(await sha256(otherSeed)).not.toBe(await sha256(first));
    expect((await stat(first)).size).toBeLessThan(2 * 1024 * 1024);
  });

  it('is written once and rewritten only when the file on disk is not the expected one', async () => {
    const path = await ensureGgufFixture({ dir });
    const written = await stat(path);
    expect(await ensureGgufFixture({ dir })).toBe(path);
    expect((await stat(path)).mtimeMs).toBe(written.mtimeMs);

    await truncate(path, 1000);
    await ensureGgufFixture({ dir });
    expect((await stat(path)).size).toBe(written.size);
  });

  it('is a GGUF v3 llama model with ChatML control tokens, byte tokens and a ChatML template', async () => {
    const path = await ensureGgufFixture({ dir });
    const info = await readGgufFileInfo(path, { sourceType: 'filesystem', logWarnings: false });
    expect(info.version).toBe(3);
    expect(info.metadata.general.architecture).toBe('llama');
    const llama = info.architectureMetadata;
    expect(llama.context_length).toBeGreaterThanOrEqual(2048);
    expect(llama.context_length).toBe(FIXTURE_CONTEXT_LENGTH);
    expect(llama).toMatchObject({ embedding_length: 64, block_count: 2 });
    const tokenizer = info.metadata.tokenizer;
    expect(tokenizer.ggml.model).toBe('llama');
    expect(tokenizer.ggml.tokens).toEqual(expect.arrayContaining(['<|im_start|>', '<|im_end|>', '<0x00>', '<0xFF>', '\u2581']));
    expect(tokenizer.ggml.tokens[tokenizer.ggml.eos_token_id!]).toBe('<|im_end|>');
    expect(tokenizer.chat_template).toBe(CHATML_TEMPLATE);
    expect(info.tensorInfo?.map((tensor) => tensor.name)).toEqual(expect.arrayContaining(['token_embd.weight', 'output.weight', 'blk.1.ffn_down.weight']));
  });

  it('passes the pre-load check with exactly the bytes its tensors need', async () => {
    const path = await ensureGgufFixture({ dir });
    const summary = await inspectGgufFile(path);
    expect(summary).toMatchObject({ version: 3, architecture: 'llama', hasChatTemplate: true, tensorCount: 21 });
    expect(summary.requiredBytes).toBe(summary.fileBytes);

    const withoutTemplate = await inspectGgufFile(await ensureGgufFixture({ dir, chatTemplate: false }));
    expect(withoutTemplate.hasChatTemplate).toBe(false);
  });
});
