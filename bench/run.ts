import { readdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Benchmark, BenchReport } from './bench-api';

/** `npm run bench -- <name> [--out file.json] [--runs N] [...]`: runs one benchmark, prints JSON. */

const benchDir = dirname(fileURLToPath(import.meta.url));

async function loadBenchmarks(): Promise<Map<string, Benchmark>> {
  const files = (await readdir(benchDir)).filter((file) => file.endsWith('.bench.ts')).sort();
  const benches = new Map<string, Benchmark>();
  for (const file of files) {
    const module = (await import(pathToFileURL(join(benchDir, file)).href)) as { default: Benchmark };
    benches.set(module.default.name, module.default);
  }
  return benches;
}

function parseArgs(argv: string[]): { name?: string; options: Record<string, string> } {
  const options: Record<string, string> = {};
  let name: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--')) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        options[arg.slice(2)] = next;
        i++;
      } else options[arg.slice(2)] = 'true';
    } else if (!name) name = arg;
  }
  return { name, options };
}

async function main(): Promise<void> {
  const { name, options } = parseArgs(process.argv.slice(2));
  const benches = await loadBenchmarks();
  if (!name || name === 'list') {
    for (const bench of benches.values()) console.log(`${bench.name.padEnd(12)} ${bench.description}`);
    return;
  }
  const bench = benches.get(name);
  if (!bench) {
    console.error(`Unknown benchmark "${name}". Available: ${[...benches.keys()].join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const result = await bench.run(options);
  const report: BenchReport = {
    name: bench.name,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', gpu: null },
    ...result,
  };
  const json = JSON.stringify(report, null, 2);
  console.log(json);
  if (options.out) await writeFile(options.out, json + '\n');
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  },
);
