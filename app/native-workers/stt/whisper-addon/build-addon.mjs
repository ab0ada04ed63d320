/**
 * Builds smart-whisper's whisper.cpp addon at install time, in place of the package's own
 * `node-gyp rebuild` (blocked in package.json allowScripts), for three reasons:
 * - its binding.gyp passes no CPU flags, so whisper.cpp compiles to plain SSE2 code, 20–70× slower
 *   than with AVX2/FMA/F16C; NDEBUG drops ggml's debug prints and asserts;
 * - `-march=native` would make that fast here but kill a packaged app with an illegal instruction on
 *   a CPU without this one's extensions (this machine has AVX-512), so the addon is built once per
 *   x86-64 micro-architecture level (cpu-levels.json) into `smart-whisper/variants/<level>/`, and the
 *   STT worker loads the best level the CPU it runs on has (whisper-cpu-level.ts), like ggml's own
 *   CPU backend variants;
 * - node-gyp downloads Node.js headers unless told where they are: the running Node's own install
 *   prefix ships them (include/node) in the standard installs (distribution packages, tarballs, nvm).
 *
 * `npm install` builds the portable baseline and the best level this CPU runs (one build when they
 * are the same). `node build-addon.mjs --all` (run by `npm run dist`) builds every level, so a package
 * made on any machine runs on every CPU of its architecture.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const smartWhisperDir = dirname(require.resolve('smart-whisper/package.json'));
const nodeGyp = process.env.npm_config_node_gyp ?? findNodeGyp();
const buildAll = process.argv.includes('--all');

/** node-gyp as npm ships it, for a run outside an npm script (`npm run dist`). */
function findNodeGyp() {
  const npmCli = process.env.npm_execpath;
  const candidates = [
    npmCli ? join(dirname(dirname(npmCli)), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js') : undefined,
    join(dirname(dirname(process.execPath)), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const found = candidates.find((path) => path && existsSync(path));
  if (!found) throw new Error('node-gyp not found: run this through npm (npm rebuild stt-whisper-addon) or set npm_config_node_gyp.');
  return found;
}

/** The running Node's install prefix when it holds headers of exactly this version. */
function localNodeDir() {
  const prefix = dirname(dirname(process.execPath));
  const versionHeader = join(prefix, 'include', 'node', 'node_version.h');
  if (!existsSync(versionHeader)) return undefined;
  const header = readFileSync(versionHeader, 'utf8');
  const part = (name) => header.match(new RegExp(`#define NODE_${name}_VERSION (\\d+)`))?.[1];
  return `v${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}` === process.version ? prefix : undefined;
}

/** This CPU's feature flags (Linux /proc/cpuinfo names); empty elsewhere, which picks the baseline. */
function cpuFlags() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((text) => /^(flags|Features)\s*:/.test(text));
    return new Set(line ? line.split(':')[1].trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

const levels = JSON.parse(readFileSync(join(here, 'cpu-levels.json'), 'utf8'))[process.arch] ?? [{ name: 'generic', march: '', flags: [] }];
const flags = cpuFlags();
const runnable = levels.filter((level) => level.flags.every((flag) => flags.has(flag)));
const best = runnable.at(-1) ?? levels[0];
const chosen = buildAll ? levels : [...new Set([levels[0], best])];

const nodeDir = process.env.npm_config_nodedir ? undefined : localNodeDir();
const variantsDir = join(smartWhisperDir, 'variants');
rmSync(variantsDir, { recursive: true, force: true });
for (const level of chosen) {
  const cflags = `${level.march ? `-march=${level.march}` : ''} -DNDEBUG`.trim();
  const env = { ...process.env, CFLAGS: `${process.env.CFLAGS ?? ''} ${cflags}`.trim(), CXXFLAGS: `${process.env.CXXFLAGS ?? ''} ${cflags}`.trim() };
  const args = [nodeGyp, 'rebuild', '--jobs=max', ...(nodeDir ? [`--nodedir=${nodeDir}`] : [])];
  console.log(`building smart-whisper for ${level.name} (${cflags}${nodeDir ? `, Node.js headers from ${nodeDir}` : ''})`);
  const result = spawnSync(process.execPath, args, { cwd: smartWhisperDir, env, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`node-gyp failed to build smart-whisper for ${level.name} (exit ${result.status ?? result.signal}).`);
  mkdirSync(join(variantsDir, level.name), { recursive: true });
  copyFileSync(join(smartWhisperDir, 'build', 'Release', 'smart-whisper.node'), join(variantsDir, level.name, 'smart-whisper.node'));
}
// smart-whisper's own entry keeps the portable baseline (the last build may be a faster level).
copyFileSync(join(variantsDir, levels[0].name, 'smart-whisper.node'), join(smartWhisperDir, 'build', 'Release', 'smart-whisper.node'));
console.log(`smart-whisper variants: ${chosen.map((level) => level.name).join(', ')} (this CPU runs ${best.name})`);
