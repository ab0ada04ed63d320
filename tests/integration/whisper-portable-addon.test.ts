import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { devModelsOrSkipReason } from '../../app/engine/models/dev-models';
import { wordErrorRate } from '../../app/engine/models/ct2-whisper/wer';
import { decodeWavAt } from '../../app/engine/lipsync/wav-file';
import { chooseCpuLevel, CPU_LEVEL_ENV, cpuLevelsFor, readCpuFlags, type CpuLevel } from '../../app/native-workers/stt/whisper-cpu-level';
import { startWhisperWorker, stopWhisperWorker, transcribeOn } from '../support/whisper-worker';

/**
 * The whisper.cpp addon is built once per x86-64 level (whisper-addon/build-addon.mjs), never with
 * -march=native: a package built here (AVX-512) must not die with an illegal instruction on a CPU
 * without it. The worker picks the fastest build this CPU runs; the portable baseline holds no
 * instruction beyond its level and still transcribes.
 */

const levels = cpuLevelsFor('x64');
const [v2, v3, v4] = levels as [CpuLevel, CpuLevel, CpuLevel];
const names = (...list: CpuLevel[]): Set<string> => new Set(list.map((level) => level.name));

describe('choosing the addon build for a CPU', () => {
  it('takes the fastest built level whose every flag the CPU has', () => {
    expect(chooseCpuLevel(levels, new Set(v4.flags), names(v2, v3, v4)).name).toBe('x86-64-v4');
    expect(chooseCpuLevel(levels, new Set(v3.flags), names(v2, v3, v4)).name).toBe('x86-64-v3');
    // An AVX2 CPU without one AVX-512 subset (Knights Landing has F and CD, no BW/DQ/VL) stays at v3.
    expect(chooseCpuLevel(levels, new Set([...v3.flags, 'avx512f', 'avx512cd']), names(v2, v3, v4)).name).toBe('x86-64-v3');
    // A CPU with AVX but no AVX2 (Sandy Bridge) runs the baseline.
    expect(chooseCpuLevel(levels, new Set([...v2.flags, 'avx']), names(v2, v3, v4)).name).toBe('x86-64-v2');
  });

  it('falls back to the baseline when flags are unknown or a faster level is not built', () => {
    expect(chooseCpuLevel(levels, new Set(), names(v2, v3, v4)).name).toBe('x86-64-v2');
    expect(chooseCpuLevel(levels, new Set(v4.flags), names(v2)).name).toBe('x86-64-v2');
    expect(chooseCpuLevel(levels, new Set(v4.flags), names(v2, v3)).name).toBe('x86-64-v3');
  });

  it('honours a named level only when it is built, and says what is built when none is', () => {
    expect(chooseCpuLevel(levels, new Set(v4.flags), names(v2, v4), 'x86-64-v2').name).toBe('x86-64-v2');
    expect(() => chooseCpuLevel(levels, new Set(v4.flags), names(v2, v4), 'x86-64-v3')).toThrow(/x86-64-v3 names no built whisper addon \(built: x86-64-v2, x86-64-v4\)/);
    expect(() => chooseCpuLevel(levels, new Set(v4.flags), new Set())).toThrow(/no whisper addon is built/);
  });

  it('every level needs at least what the level below it needs', () => {
    for (let index = 1; index < levels.length; index++) {
      expect(levels[index]!.flags).toEqual(expect.arrayContaining(levels[index - 1]!.flags));
    }
    expect(cpuLevelsFor('riscv64')).toEqual([{ name: 'generic', march: '', flags: [] }]);
  });
});

const variantsDir = join(dirname(createRequire(import.meta.url).resolve('smart-whisper/package.json')), 'variants');
const builtX64 = process.arch === 'x64' ? levels.filter((level) => existsSync(join(variantsDir, level.name, 'smart-whisper.node'))) : [];
const hasObjdump = spawnSync('objdump', ['--version']).status === 0;
const skipDisassembly = process.arch !== 'x64' ? 'not an x86-64 machine' : !hasObjdump ? 'objdump (binutils) is not installed' : builtX64.length === 0 ? 'no addon variant is built (npm rebuild stt-whisper-addon)' : null;

/** Vector registers an x86-64 level may use: v2 none beyond SSE's xmm, v3 adds AVX's ymm, v4 AVX-512's zmm. */
const FORBIDDEN_REGISTERS: Record<string, RegExp | null> = { 'x86-64-v2': /%[yz]mm\d/, 'x86-64-v3': /%zmm\d/, 'x86-64-v4': null };

describe.skipIf(skipDisassembly !== null)(`the built addons hold no instruction beyond their level${skipDisassembly ? ` (SKIPPED: ${skipDisassembly})` : ''}`, () => {
  it('installs the portable baseline and the best level this CPU runs', () => {
    expect(builtX64.map((level) => level.name)).toContain('x86-64-v2');
    const flags = readCpuFlags();
    const best = levels.filter((level) => level.flags.every((flag) => flags.has(flag))).at(-1)!;
    expect(builtX64.map((level) => level.name)).toContain(best.name);
  });

  it.each(builtX64.map((level) => [level.name]))('%s: no vector register wider than its level allows', (name) => {
    const forbidden = FORBIDDEN_REGISTERS[name];
    const path = join(variantsDir, name, 'smart-whisper.node');
    const disassembly = execFileSync('objdump', ['-d', '--no-show-raw-insn', path], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    expect(disassembly.length).toBeGreaterThan(100_000);
    if (!forbidden) {
      // The fastest level does use its registers (the check below would otherwise prove nothing).
      expect(disassembly).toMatch(/%zmm\d/);
      return;
    }
    const offending = disassembly.split('\n').filter((line) => forbidden.test(line));
    expect(offending.slice(0, 5), `${offending.length} instructions beyond ${name}`).toEqual([]);
  });
});

const dev = await devModelsOrSkipReason();
const espeakNg = '/usr/bin/espeak-ng';
const skipBaselineRun = skipDisassembly ?? (!dev.ok ? dev.skipReason : !existsSync(espeakNg) ? 'espeak-ng is not installed' : null);

describe.skipIf(skipBaselineRun !== null)(`the portable baseline transcribes${skipBaselineRun ? ` (SKIPPED: ${skipBaselineRun})` : ''}`, () => {
  let worker: Worker | undefined;
  afterAll(() => stopWhisperWorker(worker));

  it('loads tiny.en with the x86-64-v2 build and transcribes an eSpeak NG sentence', { timeout: 120_000 }, async () => {
    if (!dev.ok) return;
    // A worker thread copies the environment when it starts: this one loads the baseline build.
    const previous = process.env[CPU_LEVEL_ENV];
    process.env[CPU_LEVEL_ENV] = 'x86-64-v2';
    let info: Record<string, unknown>;
    try {
      ({ worker, info } = await startWhisperWorker(dev.profile.stt.whisperGgmlPath, { warmUpMs: 0 }));
    } finally {
      if (previous === undefined) delete process.env[CPU_LEVEL_ENV];
      else process.env[CPU_LEVEL_ENV] = previous;
    }
    expect(info.cpuLevel).toBe('x86-64-v2');
    const sentence = 'Could you tell me the weather for tomorrow?';
    const text = (await transcribeOn(worker, decodeWavAt(execFileSync(espeakNg, ['--stdout', '-v', 'en-us', sentence]), 16_000))).text;
    expect(wordErrorRate(sentence, text).wer, text).toBeLessThanOrEqual(0.2);
  });
});
