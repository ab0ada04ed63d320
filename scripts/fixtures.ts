/**
 * `npm run fixtures`: generates the project's tiny deterministic models (GGUF llama, whisper ggml,
 * ONNX voice) into tests/fixtures/generated/ when missing. Tests call the same functions, so a
 * single test file also works on a fresh clone; running this first avoids generating in parallel.
 */
const generators: Array<{ name: string; load: () => Promise<() => Promise<unknown>> }> = [];

async function main(): Promise<void> {
  for (const generator of generators) {
    const startedMs = performance.now();
    const ensure = await generator.load();
    await ensure();
    console.log(`fixture ${generator.name}: ready in ${Math.round(performance.now() - startedMs)} ms`);
  }
  if (generators.length === 0) console.log('no fixtures to generate');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
