/**
 * The development LLM (SmolLM2-135M-Instruct Q4_1 GGUF) in node-llama-cpp on the CPU, replying with
 * its own chat template. Skipped (with the reason in the title) when the dev models cannot be fetched.
 */
import { getLlama, LlamaChatSession } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';

const dev = await devModelsOrSkipReason();

describe.skipIf(!dev.ok)(`dev LLM SmolLM2-135M-Instruct${dev.ok ? '' : ` (SKIPPED: ${dev.skipReason})`}`, () => {
  it('loads and gives a sensible short answer with its own chat template', async () => {
    if (!dev.ok) return;
    const llama = await getLlama({ gpu: false, maxThreads: 2 });
    const model = await llama.loadModel({ modelPath: dev.profile.llm.ggufPath });
    try {
      expect(model.fileInfo.metadata.general.architecture).toBe('llama');
      const context = await model.createContext({ contextSize: 512, threads: 2 });
      const session = new LlamaChatSession({ contextSequence: context.getSequence() });
      // The GGUF's Jinja template is ChatML (<|im_start|>…); node-llama-cpp resolves it from the file.
      expect(session.chatWrapper.wrapperName).toMatch(/ChatML|Jinja/);
      const reply = await session.prompt('What is the capital of France? Answer in one short sentence.', { maxTokens: 40, temperature: 0 });
      console.log(`SmolLM2 (${session.chatWrapper.wrapperName}) → "${reply}"`);
      expect(reply).toMatch(/Paris/);
      expect(reply).not.toMatch(/<\|im_(start|end)\|>/);
      await context.dispose();
    } finally {
      await model.dispose();
      await llama.dispose();
    }
  });
});
