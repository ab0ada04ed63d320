/**
 * `npm run fixtures`: generates the project's tiny deterministic models (GGUF llama, whisper ggml,
 * ONNX voices) into tests/fixtures/generated/ when missing. Tests call the same functions, so a
 * single test file also works on a fresh clone; running this first avoids generating in parallel.
 */
import { ensureAvatarFixtures } from './fixtures/avatar-fixture';
import { ensureGgufFixture } from './fixtures/gguf-fixture';
import { ensureHandPhoto } from './fixtures/hand-photo';
import { ensurePiperVoiceFixture, ensureVoiceFixture } from './fixtures/voice-fixture';
import { ensureWhisperFixture } from './fixtures/whisper-fixture';

const generators: Array<{ name: string; ensure: () => Promise<unknown> }> = [
  { name: 'GGUF llama', ensure: () => ensureGgufFixture() },
  { name: 'whisper ggml', ensure: () => ensureWhisperFixture() },
  { name: 'VITS voice (sherpa-onnx)', ensure: () => ensureVoiceFixture() },
  { name: 'Piper-style voice', ensure: () => ensurePiperVoiceFixture() },
  { name: 'sample avatars (VRM 1.0, VRM 0.x, ARKit and Oculus GLB)', ensure: () => ensureAvatarFixtures() },
];

async function main(): Promise<void> {
  for (const generator of generators) {
    const startedMs = performance.now();
    await generator.ensure();
    console.log(`fixture ${generator.name}: ready in ${Math.round(performance.now() - startedMs)} ms`);
  }
  // Fetched, not generated: without the npm registry the camera tests that need it skip.
  try {
    console.log(`fixture hand photo (fingerpose 0.1.0, npm): ${ensureHandPhoto()}`);
  } catch (error) {
    console.warn(`fixture hand photo: not fetched (${error instanceof Error ? error.message : String(error)}); the raised-palm and wave camera tests will skip`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
