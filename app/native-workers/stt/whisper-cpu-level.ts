import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import cpuLevels from './whisper-addon/cpu-levels.json';

/** One build of the whisper.cpp addon: the -march it was compiled with and the CPU flags it needs. */
export interface CpuLevel {
  name: string;
  march: string;
  flags: string[];
}

/** Forces a level by name (a test loading the baseline, a user whose CPU reports flags wrongly). */
export const CPU_LEVEL_ENV = 'AVATAR_WHISPER_CPU_LEVEL';

/** An architecture without a level table gets one build with the compiler's defaults (as build-addon.mjs does). */
const GENERIC: CpuLevel = { name: 'generic', march: '', flags: [] };

/** The levels built for an architecture, baseline first (whisper-addon/cpu-levels.json). */
export function cpuLevelsFor(arch: string): CpuLevel[] {
  return (cpuLevels as unknown as Record<string, CpuLevel[] | undefined>)[arch] ?? [GENERIC];
}

/**
 * The fastest built level this CPU runs: every flag it needs is present. The baseline is the answer
 * when nothing better is built or the flags are unknown (an empty set); a named override wins when
 * it is built, and an override naming a level that is not built is an error, not a silent fallback.
 */
export function chooseCpuLevel(levels: readonly CpuLevel[], cpuFlags: ReadonlySet<string>, built: ReadonlySet<string>, override?: string): CpuLevel {
  if (override) {
    const forced = levels.find((level) => level.name === override);
    if (!forced || !built.has(forced.name)) {
      throw new Error(`${CPU_LEVEL_ENV}=${override} names no built whisper addon (built: ${[...built].join(', ') || 'none'}).`);
    }
    return forced;
  }
  const runnable = levels.filter((level) => built.has(level.name) && level.flags.every((flag) => cpuFlags.has(flag)));
  const chosen = runnable.at(-1) ?? levels.find((level) => built.has(level.name));
  if (!chosen) throw new Error(`no whisper addon is built for this CPU (levels: ${levels.map((level) => level.name).join(', ') || 'none'}).`);
  return chosen;
}

/** Linux /proc/cpuinfo flag names; macOS sysctl's names lower-cased with dots as underscores ("SSE4.2" → sse4_2). */
export function readCpuFlags(): Set<string> {
  try {
    if (process.platform === 'linux') {
      const line = readFileSync('/proc/cpuinfo', 'utf8')
        .split('\n')
        .find((text) => /^(flags|Features)\s*:/.test(text));
      return new Set(line ? line.split(':')[1]!.trim().split(/\s+/) : []);
    }
    if (process.platform === 'darwin' && process.arch === 'x64') {
      const text = execFileSync('sysctl', ['-n', 'machdep.cpu.features', 'machdep.cpu.leaf7_features', 'machdep.cpu.extfeatures'], { encoding: 'utf8' });
      const names = text.toLowerCase().replace(/\./g, '_').split(/\s+/);
      // sysctl says AVX1_0, LZCNT, XSAVE; the level table uses the Linux names.
      return new Set(names.flatMap((name) => (name === 'avx1_0' ? ['avx'] : name === 'lzcnt' ? ['abm'] : name === 'sse3' ? ['pni'] : [name])).concat(['lahf_lm']));
    }
  } catch {
    // Unknown flags: the baseline runs everywhere.
  }
  return new Set();
}

/** The built addon for this CPU: `smart-whisper/variants/<level>/smart-whisper.node` (whisper-addon/build-addon.mjs). */
export function whisperAddonPath(): { path: string; level: CpuLevel } {
  const variantsDir = join(dirname(createRequire(import.meta.url).resolve('smart-whisper/package.json')), 'variants');
  const levels = cpuLevelsFor(process.arch);
  const built = new Set(levels.map((level) => level.name).filter((name) => existsSync(join(variantsDir, name, 'smart-whisper.node'))));
  const level = chooseCpuLevel(levels, readCpuFlags(), built, process.env[CPU_LEVEL_ENV] || undefined);
  return { path: join(variantsDir, level.name, 'smart-whisper.node'), level };
}
