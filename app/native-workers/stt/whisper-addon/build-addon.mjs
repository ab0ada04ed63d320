/**
 * Builds node_modules/smart-whisper/build/Release/smart-whisper.node at install time, in place of the
 * package's own `node-gyp rebuild` (blocked in package.json allowScripts), for two reasons:
 * - its binding.gyp passes no CPU flags, so whisper.cpp compiles to plain SSE2 code, 20–70× slower
 *   than with AVX2/FMA/F16C; -march=native enables what this CPU has (the addon is built where it runs);
 *   NDEBUG drops ggml's debug prints and asserts;
 * - node-gyp downloads Node.js headers unless told where they are: the running Node's own install
 *   prefix ships them (include/node) in the standard installs (distribution packages, tarballs, nvm).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const smartWhisperDir = dirname(require.resolve('smart-whisper/package.json'));
const nodeGyp = process.env.npm_config_node_gyp;
if (!nodeGyp) throw new Error('build-addon.mjs runs as an npm install script (npm_config_node_gyp is unset).');

/** The running Node's install prefix when it holds headers of exactly this version. */
function localNodeDir() {
  const prefix = dirname(dirname(process.execPath));
  const versionHeader = join(prefix, 'include', 'node', 'node_version.h');
  if (!existsSync(versionHeader)) return undefined;
  const header = readFileSync(versionHeader, 'utf8');
  const part = (name) => header.match(new RegExp(`#define NODE_${name}_VERSION (\\d+)`))?.[1];
  return `v${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}` === process.version ? prefix : undefined;
}

const args = [nodeGyp, 'rebuild', '--jobs=max'];
const nodeDir = process.env.npm_config_nodedir ? undefined : localNodeDir();
if (nodeDir) args.push(`--nodedir=${nodeDir}`);
const cpuFlags = process.arch === 'x64' || process.arch === 'arm64' ? '-march=native' : '';
const flags = `${cpuFlags} -DNDEBUG`;
const env = { ...process.env, CFLAGS: `${process.env.CFLAGS ?? ''} ${flags}`.trim(), CXXFLAGS: `${process.env.CXXFLAGS ?? ''} ${flags}`.trim() };

console.log(`building smart-whisper (${flags}${nodeDir ? `, Node.js headers from ${nodeDir}` : ''})`);
const result = spawnSync(process.execPath, args, { cwd: smartWhisperDir, env, stdio: 'inherit' });
if (result.status !== 0) throw new Error(`node-gyp failed to build smart-whisper (exit ${result.status ?? result.signal}).`);
